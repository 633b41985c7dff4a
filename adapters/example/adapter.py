"""The adapter of tinyloss: what you write to run the suite on your own library.

An adapter is a subclass of ``adapters.adapter.Adapter`` with a few class attributes. Importing it
must not import the library (the suite reads the declarations first, in every process); the
modules are imported on first use, in a worker process that a hang or crash cannot take down.
"""

from __future__ import annotations

from typing import ClassVar

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.numpy.framework import NUMPY

#: the library's spelling of each oracle reduction, pasted into the expression's {reduction}
_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'"}

# One Binding per public API, as a user calls it. ``expression`` is evaluated with the case's
# arrays bound to ``input``, ``target`` (and ``pos_weight``, ``weight``... when the case has
# them), and printed verbatim in every reproducer. The rest declares what the API offers: the
# suite draws only cases it can express and records the others as unsupported.
BINDINGS = (
    Binding(
        api="tinyloss.softmax_cross_entropy",  # the name findings and the report use
        library="tinyloss",                    # the adapter's library (its registry's name)
        loss="cross_entropy",                  # the oracle loss it computes (reference.specs)
        expression="tinyloss.softmax_cross_entropy(input, target, reduction={reduction})",
        reductions=_REDUCTIONS,
        dtypes=("float32", "float64"),  # float16 would work too; declared dtypes are tested
        targets=("indices",),           # class indices, not probabilities
        ranks=(2,),                     # (N, C) logits only
        gradients=(),                   # no autograd: no gradient checks
        # the public callables the expression calls: every parameter of theirs must be passed
        # by some case or declared out of scope with a reason (conformance.option_surface)
        surface=("tinyloss.softmax_cross_entropy",),
        notes="Naive log-softmax: no max shift.",
    ),
    Binding(
        api="tinyloss.binary_cross_entropy_with_logits",
        library="tinyloss",
        loss="binary_cross_entropy_with_logits",
        expression="tinyloss.binary_cross_entropy_with_logits(input, target{options}, "
                   "reduction={reduction})",
        # the oracle's keyword -> how this API spells it; {options} receives it when the case
        # has one (an array option names the operand, a scalar one formats its value: "{}")
        options={"pos_weight": "pos_weight=pos_weight"},
        reductions=_REDUCTIONS,
        dtypes=("float32", "float64"),
        ranks=(1, 2),
        gradients=(),
        surface=("tinyloss.binary_cross_entropy_with_logits",),
        notes="Each softplus as written, log1p(exp(x)).",
    ),
)


class TinylossAdapter(Adapter):
    library = "tinyloss"
    # what the expressions and reproducers import: name in the expression -> module
    modules: ClassVar[dict[str, str]] = {"np": "numpy",
                                         "tinyloss": "adapters.example.tinyloss"}
    version_module = "adapters.example.tinyloss"  # its __version__ is the reported version
    # The array framework the library computes with makes its tensors of each dtype, reads
    # results back as float64, writes tensors as reproducer source and takes gradients:
    # NUMPY, TORCH, JAX or TENSORFLOW (each in its folder: adapters/numpy/framework.py...). A
    # library with an array type of its own overrides tensor, to_numpy, tensor_source,
    # to_list_source and value_and_gradient instead (adapters.adapter.Adapter says what each
    # returns).
    framework = NUMPY
    bindings = BINDINGS
    # The registry is tinyloss.toml beside this module; to keep it elsewhere, name the folder,
    # relative to this module: registry_directory = "deviations"

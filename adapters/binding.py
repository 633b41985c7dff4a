"""The adapter protocol: cases, API declarations, observations.

A ``Case`` says what to compute in the oracle's terms (which loss, which arrays, which oracle
keywords, which dtype). A ``Binding`` declares one public API of one library: how a user calls
it (an expression template), which oracle loss it computes and which of the oracle's options,
reductions, dtypes, target kinds and gradients it offers. An ``Adapter`` turns (binding, case)
into the library call and returns an ``Observation``: what the library returned or raised, and
exactly what it was fed, so the oracle can be evaluated on the same numbers.

The expression template is the single source of the call: it is both evaluated and printed in
the reproducer, so the two cannot drift apart.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from reference.specs import DTYPES, OPTION_DEFAULTS, loss_spec, option
from reference.terms import one_hot as one_hot  # with the oracle's terms; restated cases use it

CHECKS = ("value", "gradient", "jvp", "hvp")
#: the checks beyond the value that differentiate: the reverse gradient, the forward-mode
#: directional derivative along ``Case.direction`` (``jvp``) and the Hessian of the reduced
#: loss times ``Case.direction`` (``hvp``)
DERIVATIVE_CHECKS = ("gradient", "jvp", "hvp")
#: the checks that take a direction (a tangent or a vector in the differentiated operand's shape)
DIRECTIONAL_CHECKS = ("jvp", "hvp")
#: array-valued oracle options; everything else in ``Case.options`` is a scalar keyword
ARRAY_OPTIONS = ("weight", "pos_weight", "sample_weight")


@dataclass(frozen=True)
class Case:
    """One evaluation, in the oracle's terms.

    ``inputs`` holds float64 (or integer, for class indices) arrays: ``input``, ``target`` and
    any array option (``weight``, ``pos_weight``, ``sample_weight``). ``options`` holds the
    oracle's scalar keywords (``reduction``, ``label_smoothing``, ``ignore_index``, ...). The
    arrays are in the oracle's layout: class axis 1 for ``cross_entropy`` and ``nll_loss``.
    """

    loss: str
    inputs: Mapping[str, np.ndarray]
    options: Mapping[str, object] = field(default_factory=dict)
    dtype: str = "float64"
    #: the tangent of a ``jvp`` and the vector of an ``hvp`` check, float64 in the shape of the
    #: differentiated operand (rounded to ``dtype`` as the library gets it); None otherwise
    direction: np.ndarray | None = None

    @property
    def target_kind(self) -> str:
        """"indices" for class indices: integer targets, or float labels shaped like the
        samples (a categorical target with fewer axes than its input: ``[1.7, 0.0]`` for a
        (2, 3) input); "probabilities" otherwise."""
        target = np.asarray(self.inputs["target"])
        if target.dtype.kind in "iu":
            return "indices"
        fewer_axes = target.ndim < np.ndim(self.inputs["input"])
        categorical = loss_spec(self.loss).family == "categorical"
        return "indices" if categorical and fewer_axes else "probabilities"

    def is_index(self, name: str) -> bool:
        """The operand ``name`` holds integer class indices (the library gets an integer
        tensor; float labels are given as floats, as a user holding them would)."""
        return name == "target" and np.asarray(self.inputs[name]).dtype.kind in "iu"

    @property
    def class_axis(self) -> int:
        return loss_spec(self.loss).class_axis(np.ndim(self.inputs["input"]),
                                               self.options.get("axis"))

    def with_inputs(self, **arrays) -> Case:
        return dataclasses.replace(self, inputs={**self.inputs, **arrays})


@dataclass(frozen=True, repr=False)
class Binding:
    """One public API of one library, as a user calls it.

    ``expression`` is Python source; operands are referred to by name (``input``, ``target``,
    ``weight``...) and these placeholders are filled in per case:

    - ``{options}``: the rendered keyword options, each starting with ", ";
    - ``{call_options}``: the same for the options named in ``call_options`` (Keras passes
      ``sample_weight`` to the loss object's call, the rest to its constructor);
    - ``{reduction}``: the library's literal for the case's reduction (``'mean'``);
    - ``{dtype}``: the case's dtype as a string literal.

    ``options`` maps each oracle keyword the API offers to its rendering, a format string over
    the option's value (``"ignore_index={}"``); array options render their name
    (``"weight=weight"``). ``operand_options`` are options written by replacing an operand
    (optax smooths labels by passing ``optax.smooth_labels(target, 0.1)`` as the labels).
    ``reductions`` maps an oracle reduction to the library's literal when the expression has
    ``{reduction}``, else to a function the call is wrapped in (``"jnp.mean"``; "" for none);
    a reduction missing from it is not offered.
    """

    api: str
    library: str
    loss: str
    expression: str
    options: Mapping[str, str] = field(default_factory=dict)
    operand_options: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    call_options: tuple[str, ...] = ()
    required: tuple[str, ...] = ()  # options the API cannot be called without
    reductions: Mapping[str, str] = field(default_factory=dict)
    dtypes: tuple[str, ...] = DTYPES
    targets: tuple[str, ...] = ("probabilities",)  # "indices" and/or "probabilities"
    ranks: tuple[int, ...] = (1, 2)  # accepted ranks of ``input``
    gradients: tuple[str, ...] = ("input",)  # arguments autograd differentiates
    #: oracle keywords that define what the API computes whatever the call, e.g. Keras's
    #: binary cross-entropy averages over the last axis: {"average_last_axis": True}. Numeric
    #: departures from exact math (clipping, epsilons) are not declared here: they are
    #: findings, explained by the conformance suite's deviation registry.
    fixed_options: Mapping[str, object] = field(default_factory=dict)
    notes: str = ""
    #: the public callables the expression calls, as it names them, whose parameters the
    #: option-surface check (``conformance.option_surface``) holds the cases to: a dotted
    #: path ("torch.nn.functional.cross_entropy"; a class: its constructor), or the path
    #: followed by "()" for calls of its instances (``torch.nn.CrossEntropyLoss()``: the class's
    #: ``forward``, else ``__call__``). () for a formula that calls no loss API; None: not
    #: declared, which the check reports.
    surface: tuple[str, ...] | None = None
    #: the documented parameter list of a surface callable that has no introspectable
    #: signature (a C function, an operator schema), as a def's parameters would be written:
    #: "(scores, labels, weights=None, *, reduction='mean', ignore_index=None)"
    documented_signatures: Mapping[str, str] = field(default_factory=dict)
    #: surface parameters no case passes, each with the reason ("size_average": "deprecated:
    #: reduction supersedes it"); a parameter of one surface callable only may be written
    #: "callable:parameter"
    out_of_scope: Mapping[str, str] = field(default_factory=dict)
    #: derivative checks (``DIRECTIONAL_CHECKS``) this API does not offer, each with the reason
    #: ("hvp": "tinygrad has no double backward"); the framework's own modes are
    #: ``Framework.derivatives``
    no_derivatives: Mapping[str, str] = field(default_factory=dict)
    #: how the call runs: "eager", or the compiler the expression calls it through
    #: ("torch.compile", "jax.jit", "tf.function(jit_compile=True)"; ``adapters.compiled``)
    mode: str = "eager"

    def __repr__(self) -> str:  # the API names it; a failure need not print every field
        return f"Binding({self.api!r})"

    def _repr_pretty_(self, printer, cycle) -> None:  # hypothesis's printer would list fields
        printer.text(repr(self))

    @property
    def compiled(self) -> bool:
        return self.mode != "eager"

    @property
    def calls_an_object(self) -> bool:
        """The API is a call of a loss object (a surface entry "X()"), not of a function."""
        return any(entry.endswith("()") for entry in self.surface or ())

    def offers(self, option: str) -> bool:
        return option in self.options or option in self.operand_options

    def supports(self, case: Case, check: str = "value", wrt: str = "input") -> str | None:
        """None if the API can express ``case``; otherwise the reason it cannot."""
        if case.loss != self.loss:
            return f"computes {self.loss}, not {case.loss}"
        if case.dtype not in self.dtypes:
            return f"dtype {case.dtype} not offered"
        if loss_spec(case.loss).family == "categorical":
            if case.target_kind not in self.targets:
                return f"{case.target_kind} targets not offered"
        if np.ndim(case.inputs["input"]) not in self.ranks:
            return f"input rank {np.ndim(case.inputs['input'])} not offered"
        reduction = option(case.options, "reduction")
        if reduction not in self.reductions:
            return f"reduction={reduction!r} not offered"
        for name in (*case.options, *case.inputs):
            if name in ("input", "target", "reduction"):
                continue
            if not self.offers(name) and not _is_default(name, case):
                return f"option {name} not offered"
        for name in self.required:
            if name not in case.inputs and (name not in case.options
                                            or _is_default(name, case)):
                return f"option {name} is required"
        if check in DERIVATIVE_CHECKS and wrt not in self.gradients:
            return f"no gradient with respect to {wrt}"
        if check == "hvp" and wrt != "input":
            return "the Hessian-vector product is taken with respect to the input only"
        return self.supports_derivative(check)

    def supports_derivative(self, check: str) -> str | None:
        """None unless the API declares it takes no ``check`` (``no_derivatives``): why."""
        if check in self.no_derivatives:
            return f"no {check}: {self.no_derivatives[check]}"
        return None

    def call_source(self, case: Case) -> str:
        """The library call for ``case`` as Python source (operands referred to by name)."""
        at_constructor, at_call = [], []
        for name, template in self.options.items():
            if name in ARRAY_OPTIONS:
                if name not in case.inputs:
                    continue
                rendered = template
            elif name in case.options and not _is_default(name, case):
                rendered = template.format(repr(case.options[name]))
            else:
                continue
            (at_call if name in self.call_options else at_constructor).append(rendered)
        reduction = self.reductions[option(case.options, "reduction")]
        source = self.expression.format(
            options="".join(", " + r for r in at_constructor),
            call_options="".join(", " + r for r in at_call),
            reduction=reduction,
            dtype=repr(case.dtype),
        )
        for name, (operand, template) in self.operand_options.items():
            if name in case.options and not _is_default(name, case):
                replacement = template.format(repr(case.options[name]))
                source = re.sub(rf"\b{operand}\b", lambda _, text=replacement: text, source,
                                count=1)
        if "{reduction}" not in self.expression and reduction:
            source = f"{reduction}({source})"
        return source


#: the scalar options a case at the oracle's default passes no keyword for: no smoothing and
#: no ignored class are what the APIs do without one (any other option, ``axis`` say, is a
#: keyword whatever its value: the libraries' defaults differ)
_LEFT_OUT_AT_DEFAULT = ("label_smoothing", "ignore_index")


def _is_default(name: str, case: Case) -> bool:
    """An option left at the oracle's default needs no library keyword."""
    return name in _LEFT_OUT_AT_DEFAULT and option(case.options, name) == OPTION_DEFAULTS[name]


@dataclass
class Observation:
    """What one library call did.

    ``fed`` holds float64 (or integer) copies of exactly the arrays the library received, after
    rounding to the case's dtype (the direction of a ``jvp`` or ``hvp`` as "direction").
    ``value`` and ``gradient`` are float64 arrays, ``gradient`` holding the derivative the check
    took (the reverse gradient, the jvp or the hvp); ``error`` is the
    (type, message) of an exception, a timeout or a crash, in which case both are None.
    ``harness`` is set when that exception was the harness's, not the library's (the adapter's
    expression, its imports, a program the library runs, the worker; ``adapters.harness``): a
    sentence naming the cause. Such an observation says nothing about the library.
    """

    api: str
    library: str
    version: str
    dtype: str
    fed: dict[str, np.ndarray]
    value: np.ndarray | None = None
    gradient: np.ndarray | None = None
    wrt: str | None = None
    #: the derivative taken: "gradient", "jvp" or "hvp" (None for a value)
    derivative: str | None = None
    error: tuple[str, str] | None = None
    reproducer: str = ""
    harness: str | None = None

    @property
    def raised(self) -> bool:
        return self.error is not None

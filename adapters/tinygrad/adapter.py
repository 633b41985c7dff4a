"""tinygrad: the loss methods of ``tinygrad.Tensor``, on the CPU device, gradients by
``Tensor.gradient``.

- ``sparse_categorical_crossentropy(Y, ignore_index=-1, label_smoothing=0.0, reduction)``:
  logits and class indices, the classes on the last axis, so the ranks where that is the
  oracle's axis 1: ``(C,)`` and ``(N, C)``. Its loss is
  ``-((1 - e) * log_softmax(x)[y] + e * mean(log_softmax(x)))`` per sample, the oracle's
  smoothing ``(1 - e) y + e / C``; "mean" divides the sum by the number of samples whose index
  is not ``ignore_index``, the oracle's mean. ``ignore_index=-1``, its default, means "ignore
  nothing" (tinygrad/mixin/op.py, sparse_categorical_crossentropy), so an oracle
  ``ignore_index`` of -1 is passed but ignores nothing.
- ``binary_crossentropy(Y, reduction)``: ``-(y log p + (1 - y) log(1 - p))``, no clamp.
- ``binary_crossentropy_logits(Y, reduction, pos_weight=None)``:
  ``-(pos_weight * y * logsigmoid(x) + (1 - y) * logsigmoid(-x))``.

Each is called as the unbound method, ``tinygrad.Tensor.binary_crossentropy(input, target)``,
which is ``input.binary_crossentropy(target)``, so that the call names its callable. Their
"mean" is ``Tensor.mean``: the oracle's mean (no weights reach it).

bfloat16 works where the C compiler takes ``__bf16`` (clang 17 and later; the ziglang package's
zig cc, the env's compiler: ``adapters.tinygrad.framework.Tinygrad``): the kernels keep bfloat16 in
memory and compute in float32, rounding to bfloat16 after each operation
(tinygrad/renderer/cstyle.py, ``create_non_native_float_pats``). Debian's clang 14 rejects
``__bf16`` ("__bf16 is not supported on this target"), and there every bfloat16 kernel but a
cast fails to compile.
"""

from __future__ import annotations

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.tinygrad.framework import TINYGRAD

_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'"}
_ALL_RANKS = (0, 1, 2, 3, 4)
_LAST_AXIS_RANKS = (1, 2)  # (C,), (N, C): the oracle's class axis is the last one
_DTYPES = ("float16", "bfloat16", "float32", "float64")
_SPARSE = "tinygrad.Tensor.sparse_categorical_crossentropy"
_BCE = "tinygrad.Tensor.binary_crossentropy"
_BCE_LOGITS = "tinygrad.Tensor.binary_crossentropy_logits"

BINDINGS = (
    Binding(
        api=_SPARSE, library="tinygrad", loss="cross_entropy",
        expression=_SPARSE + "(input, target{options}, reduction={reduction})",
        options={"ignore_index": "ignore_index={}", "label_smoothing": "label_smoothing={}"},
        reductions=_REDUCTIONS, dtypes=_DTYPES, targets=("indices",), ranks=_LAST_AXIS_RANKS,
        gradients=("input",), surface=(_SPARSE,),
        notes="-((1 - e) * log_softmax(x)[y] + e * mean(log_softmax(x))) per sample, classes "
              "on the last axis; mean divides by the samples not ignored. ignore_index=-1 (the "
              "default) ignores nothing; label_smoothing must lie in [0, 1] (AssertionError).",
    ),
    Binding(
        api=_BCE, library="tinygrad", loss="binary_cross_entropy",
        expression=_BCE + "(input, target, reduction={reduction})",
        reductions=_REDUCTIONS, dtypes=_DTYPES, ranks=_ALL_RANKS,
        gradients=("input", "target"), surface=(_BCE,),
        notes="-(y * log(p) + (1 - y) * log(1 - p)), element-wise, no clamp of the logs.",
    ),
    Binding(
        api=_BCE_LOGITS, library="tinygrad", loss="binary_cross_entropy_with_logits",
        expression=_BCE_LOGITS + "(input, target{options}, reduction={reduction})",
        options={"pos_weight": "pos_weight=pos_weight"},
        reductions=_REDUCTIONS, dtypes=_DTYPES, ranks=_ALL_RANKS,
        gradients=("input", "target"), surface=(_BCE_LOGITS,),
        notes="-(pos_weight * y * logsigmoid(x) + (1 - y) * logsigmoid(-x)), element-wise, "
              "logsigmoid(x) = -logaddexp(-x, 0).",
    ),
)


class TinygradAdapter(Adapter):
    library = "tinygrad"
    framework = TINYGRAD
    bindings = BINDINGS

    def version(self) -> str:
        return TINYGRAD.version()

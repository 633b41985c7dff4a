"""PaddlePaddle: ``paddle.nn.functional``'s cross-entropy losses and their ``paddle.nn`` modules,
gradients by ``paddle.grad`` (paddle as ``framework.py`` here sets it up: the CPU, one thread).

``paddle.nn.functional.cross_entropy`` is four losses, chosen by two flags:

- ``use_softmax=True`` (the default): ``input`` holds logits, the oracle's ``cross_entropy``;
  ``use_softmax=False``: ``input`` holds probabilities (the output of a softmax, as paddle's
  documentation says), the loss is ``-sum_c y_c log p_c``: the oracle's
  ``categorical_cross_entropy``, not ``nll_loss`` (the kernel takes the log itself:
  paddle/phi/kernels/funcs/cross_entropy.cc, CrossEntropyFunctor);
- ``soft_label=False``: class indices; ``soft_label=True``: probability targets.

Each combination is a binding of its own, as a user writes the call. Paddle's class axis
defaults to the last one (``axis=-1``). The logits forms are called with ``axis=1``, the class
axis of the oracle's (N, C, d1, ...) layout, so they take ranks 2 to 4 (a (C,) row has no axis 1);
the probability forms keep paddle's default, which is the oracle ``categorical_cross_entropy``'s
default (the last axis), and offer ``axis``.

Two documented definitions of paddle's are not the oracle's, so the soft-label forms do not
declare them (the paddle.nn.functional.cross_entropy docstring, "Weight and reduction
processing" and "Returns"):

- ``reduction='none'`` returns the losses with the class axis kept as size 1 ([N, ..., 1]);
- ``weight`` weighs each sample's whole loss by ``sum_c w_c y_c`` and the mean divides by the
  sum of those, where the oracle weighs each class's term: ``-sum_c w_c y_c log p_c``.

Paddle differentiates no label: ``paddle.grad`` gives no gradient with respect to ``label`` in
any of these losses, so only ``input`` gradients are declared.
"""

from __future__ import annotations

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.paddle.framework import PADDLE

_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'"}
#: the soft-label forms keep the class axis in reduction='none' (see the module docstring)
_REDUCED = {"sum": "'sum'", "mean": "'mean'"}
#: float16 and bfloat16 have no CPU kernel of any of these losses (RuntimeError, NotFound)
_DTYPES = ("float32", "float64")
_ALL_RANKS = (0, 1, 2, 3, 4)
_AXIS1_RANKS = (2, 3, 4)  # (N, C), (N, C, d1), (N, C, d1, d2) with axis=1
_LAST_AXIS_RANKS = (1, 2, 3, 4)  # (C,), (N, C), (N, d1, C), (N, d1, d2, C): the classes last

_NAME = {"name": "the name of the operator in a static graph: no effect on what it computes"}
_FUNCTIONAL = "paddle.nn.functional.cross_entropy"
_SCOPE = {
    "soft_label": "selects probability targets: the binding of the same call with "
                  "soft_label=True passes it",
    "use_softmax": "selects probability inputs: the binding of the same call with "
                   "use_softmax=False passes it",
    "soft_weight": "with soft_label=True paddle weighs each sample's loss by sum_c w_c y_c, a "
                   "definition the oracle does not have (module docstring)",
    "index_smoothing": "with class indices, label_smoothing > 0 makes paddle one-hot them over "
                       "the last axis (one_hot(label, input.shape[-1])) and switch to soft "
                       "labels: reduction='none' then keeps the class axis (size 1), and with "
                       "axis=1 at rank 3 the one-hot runs along the wrong axis (it raises, or "
                       "with as many positions as classes computes another loss); the "
                       "soft-label bindings check label_smooth itself",
    "nll_ignore": "nll_loss reshapes an (N, C, d) input to (N, C, 1, d), and with an ignore_index "
                  "among its labels the kernel then corrupts memory (SIGSEGV, SIGABRT, or a hang "
                  "seen, in value and gradient calls): a hang costs the suite a 60 s timeout, "
                  "and a crash its worker; cross_entropy's ignore_index is checked instead",
    "soft_ignore": "with soft_label=True no sample is ignored (and an ignore_index above 0 "
                   "raises ValueError): nothing for the oracle's ignore_index to state",
    "no_softmax_weight": "the oracle's loss on probabilities, categorical_cross_entropy, has no "
                         "class weights or ignored classes; the kernels weigh and ignore as "
                         "they do on logits, which the use_softmax=True bindings check",
}


def _pair(form: str, module: str, loss: str, flags: str, options: dict[str, str],
          out_of_scope: dict[str, str], axis: str = "", **declared) -> tuple[Binding, Binding]:
    """The functional form and the module form of one loss, called with ``flags``
    (", soft_label=True" ...), which name the API, and ``axis`` (", axis=1"), which does not;
    ``form`` names the functional loss, ``module`` its class."""
    suffix = f"({flags.lstrip(', ')})" if flags else ""
    flags += axis
    scope = {**_NAME, **out_of_scope}
    return (
        Binding(api=f"paddle.nn.functional.{form}{suffix}", library="paddle", loss=loss,
                expression=(f"paddle.nn.functional.{form}(input, target{flags}{{options}}, "
                            "reduction={reduction})"),
                options=options, surface=(f"paddle.nn.functional.{form}",),
                out_of_scope=scope, **declared),
        Binding(api=f"paddle.nn.{module}{suffix}", library="paddle", loss=loss,
                expression=(f"paddle.nn.{module}(reduction={{reduction}}{flags}{{options}})"
                            "(input, target)"),
                options=options, surface=(f"paddle.nn.{module}", f"paddle.nn.{module}()"),
                out_of_scope=scope, **declared),
    )


_WEIGHT = {"weight": "weight=weight"}
_IGNORE = {"ignore_index": "ignore_index={}"}
_SMOOTHING = {"label_smoothing": "label_smoothing={}"}
_AXIS = {"axis": "axis={}"}
_IGNORE_NOTE = ("ignore_index defaults to -100, so a target of -100 is ignored even when the "
                "case sets no ignore_index. ")
_SMOOTHING_NOTE = ("label_smoothing > 0 is label_smooth(label): (1 - e) y + e / C; a "
                   "label_smoothing <= 0 is ignored. ")

BINDINGS = (
    *_pair("binary_cross_entropy", "BCELoss", "binary_cross_entropy", "", _WEIGHT, {},
           reductions=_REDUCTIONS, dtypes=_DTYPES, ranks=_ALL_RANKS,
           notes="bce_loss: (y - 1) max(log(1 - p), -100) - y max(log p, -100); p outside "
                 "[0, 1] raises."),
    *_pair("binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
           "binary_cross_entropy_with_logits", "",
           {**_WEIGHT, "pos_weight": "pos_weight=pos_weight"}, {},
           reductions=_REDUCTIONS, dtypes=_DTYPES, ranks=_ALL_RANKS,
           notes="sigmoid_cross_entropy_with_logits with a per-element weight "
                 "1 + (pos_weight - 1) y; a label of -100 costs 0."),
    *_pair("cross_entropy", "CrossEntropyLoss", "cross_entropy", "",
           {**_WEIGHT, **_IGNORE},
           {"soft_label": _SCOPE["soft_label"], "use_softmax": _SCOPE["use_softmax"],
            "label_smoothing": _SCOPE["index_smoothing"]},
           axis=", axis=1", reductions=_REDUCTIONS, dtypes=_DTYPES, targets=("indices",),
           ranks=_AXIS1_RANKS,
           notes=_IGNORE_NOTE + "The mean with an ignore_index of 0 or more "
                 "divides by max(count, 1) kept samples (by the kept weights where weighted)."),
    *_pair("cross_entropy", "CrossEntropyLoss", "cross_entropy", ", soft_label=True",
           _SMOOTHING,
           {"weight": _SCOPE["soft_weight"], "ignore_index": _SCOPE["soft_ignore"],
            "use_softmax": _SCOPE["use_softmax"]},
           axis=", axis=1", reductions=_REDUCED, dtypes=_DTYPES, targets=("probabilities",),
           ranks=_AXIS1_RANKS,
           notes=_SMOOTHING_NOTE + "reduction='none' (losses shaped [N, ..., 1]) and weight "
                 "(sum_c w_c y_c per sample) are paddle's own definitions, not declared (module "
                 "docstring)."),
    *_pair("cross_entropy", "CrossEntropyLoss", "categorical_cross_entropy",
           ", use_softmax=False", _AXIS,
           {"weight": _SCOPE["no_softmax_weight"], "ignore_index": _SCOPE["no_softmax_weight"],
            "soft_label": _SCOPE["soft_label"], "label_smoothing": _SCOPE["index_smoothing"]},
           reductions=_REDUCTIONS, dtypes=_DTYPES, targets=("indices",), ranks=(1, 2),
           notes="-log p[label], each log through TolerableValue (log 0 = -inf becomes "
                 "-1e20)."),
    *_pair("cross_entropy", "CrossEntropyLoss", "categorical_cross_entropy",
           ", soft_label=True, use_softmax=False", {**_SMOOTHING, **_AXIS},
           {"weight": _SCOPE["soft_weight"], "ignore_index": _SCOPE["soft_ignore"]},
           reductions=_REDUCED, dtypes=_DTYPES, targets=("probabilities",),
           ranks=_LAST_AXIS_RANKS,
           notes=_SMOOTHING_NOTE + "-sum_c y_c log p_c, each log through TolerableValue "
                 "(log 0 = -inf becomes -1e20); reduction='none' keeps the class axis (module "
                 "docstring)."),
    *_pair("nll_loss", "NLLLoss", "nll_loss", "", _WEIGHT,
           {"ignore_index": _SCOPE["nll_ignore"]},
           reductions=_REDUCTIONS, dtypes=_DTYPES, targets=("indices",), ranks=_AXIS1_RANKS,
           notes="Classes on axis 1, as the oracle's. ignore_index is not declared: with an "
                 "ignored label in an (N, C, d) input it crashes or hangs the process."),
)


class PaddleAdapter(Adapter):
    library = "paddle"
    framework = PADDLE
    bindings = BINDINGS

"""NumPy, SciPy and scikit-learn: plain arrays, no autograd.

Three adapters that share how arrays are made, read back and written as source:

- ``numpy``: the textbook formulas of the seed documents, written out literally (they are not a
  library API, so the expression *is* the code a user copies);
- ``scipy``: the stable formulations users build from ``scipy.special`` (``log_softmax``,
  ``log_expit``, ``xlogy``), one line each, reduced with ``np.mean`` / ``np.sum``;
- ``scikit-learn``: ``sklearn.metrics.log_loss``, multiclass (class indices) and binary.

None of them differentiates, so no binding declares gradients. NumPy has no bfloat16: no
binding declares it, and asking for it fails the way NumPy does (``TypeError``).
"""

from __future__ import annotations

import re
from typing import ClassVar

import numpy as np

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.numpy.framework import NUMPY
from adapters.source import array_source

_FLOAT_DTYPES = ("float16", "float32", "float64")  # NumPy's floats; no bfloat16
_ANY_RANK = (0, 1, 2, 3, 4)
_NO_AUTOGRAD = "has no automatic differentiation"


class _ArrayAdapter(Adapter):
    """What the three share: NumPy arrays in, a NumPy array or Python float out (NumPy's
    framework reads it back and takes the value, warnings ignored)."""

    framework = NUMPY

    def tensor(self, array, dtype, *, index=False):
        if index:
            return np.asarray(array, dtype=np.int64)
        if dtype not in _FLOAT_DTYPES:
            raise TypeError(f"NumPy has no {dtype} dtype (data type {dtype!r} not understood)")
        return np.asarray(array, dtype=np.float64).astype(dtype)

    def tensor_source(self, array, dtype, *, index=False, differentiable=False):
        dtype = "int64" if index else dtype
        spelled = f"np.{dtype}" if dtype in (*_FLOAT_DTYPES, "int64") else repr(dtype)
        return array_source(array, "np.array", "np.empty", spelled)

    def value_and_gradient(self, call, operands, wrt):
        if wrt is not None:
            raise NotImplementedError(f"{self.library} {_NO_AUTOGRAD}")
        return super().value_and_gradient(call, operands, wrt)

    def value_source(self, call_source):
        return [f"loss = {call_source}", "result = np.asarray(loss, dtype=np.float64).tolist()"]

    def gradient_source(self, call_source, wrt):
        return [f"loss = {call_source}",
                f"raise NotImplementedError({self.library + ' ' + _NO_AUTOGRAD!r})"]


# --- numpy: the seed's textbook code ----------------------------------------------------------

# Both formulas exactly as the seed writes them (its y_true is ``target``, y_pred ``input``).
NUMPY_BINDINGS = (
    Binding(
        api="textbook.binary_cross_entropy_loss", library="numpy",
        loss="binary_cross_entropy",
        expression="-np.mean(target * np.log(input) + (1 - target) * np.log(1 - input))",
        reductions={"mean": ""}, dtypes=_FLOAT_DTYPES, ranks=_ANY_RANK, gradients=(),
        surface=(),  # a formula: no loss API, no parameters
        notes="The seed's binary_cross_entropy_loss, no epsilon: p in {0, 1} with the "
              "matching label gives 0 * log(0) = nan (exact: 0); with the wrong label inf, "
              "as exact.",
    ),
    Binding(
        api="textbook.categorical_cross_entropy_loss", library="numpy",
        loss="categorical_cross_entropy",
        expression="-np.mean(np.sum(target * np.log(input + 1e-9), axis=1))",
        reductions={"mean": ""}, dtypes=_FLOAT_DTYPES, targets=("probabilities",),
        ranks=(2,), gradients=(), surface=(),
        notes="The seed's categorical_cross_entropy_loss: (N, C) only (axis=1 is the class "
              "axis); the + 1e-9 inside the log is the oracle's log_offset=1e-9 (in float16 "
              "1e-9 rounds to 0, so no offset at all).",
    ),
)


class NumpyAdapter(_ArrayAdapter):
    library = "numpy"
    modules: ClassVar[dict[str, str]] = {"np": "numpy"}
    version_module = "numpy"
    bindings = NUMPY_BINDINGS


# --- scipy: stable formulations from scipy.special ---------------------------------------------

# Per-sample losses, wrapped in the reduction: "" leaves the array, else np.sum / np.mean.
_SCIPY_REDUCTIONS = {"none": "", "sum": "np.sum", "mean": "np.mean"}


#: the keywords every NumPy ufunc takes (scipy.special's functions are ufuncs)
_UFUNC_KEYWORDS = {
    name: "a keyword of the ufunc machinery (output buffer, mask, casting, memory order, loop "
          "selection), common to every ufunc: it does not change the formula; the case's "
          "dtype is set by the inputs"
    for name in ("out", "where", "casting", "order", "dtype", "subok", "signature")}


def _scipy(api: str, loss: str, per_sample: str, out_of_scope=_UFUNC_KEYWORDS,
           **declared) -> Binding:
    """A formula over scipy.special functions (ufuncs, unless ``out_of_scope`` says
    otherwise); its surface: the scipy.special functions it calls, as written."""
    called = tuple(dict.fromkeys(re.findall(r"scipy\.special\.\w+", per_sample)))
    return Binding(api=api, library="scipy", loss=loss,
                   expression="{reduction}(" + per_sample + ")",
                   reductions=_SCIPY_REDUCTIONS, dtypes=_FLOAT_DTYPES, gradients=(),
                   surface=called, out_of_scope=out_of_scope, **declared)


SCIPY_BINDINGS = (
    _scipy("scipy.special.log_softmax[indices]", "cross_entropy",
           "-np.take_along_axis(scipy.special.log_softmax(input, axis=1), "
           "np.expand_dims(target, 1), axis=1).squeeze(1)",
           targets=("indices",), ranks=(2, 3, 4), out_of_scope={},
           notes="Softmax cross-entropy of logits at class indices, classes on axis 1."),
    _scipy("scipy.special.log_softmax[probabilities]", "cross_entropy",
           "-np.sum(target * scipy.special.log_softmax(input, axis=1), axis=1)",
           targets=("probabilities",), ranks=(2, 3, 4), out_of_scope={},
           notes="Softmax cross-entropy of logits against probabilities, classes on axis 1; "
                 "a -inf logit with target 0 gives 0 * -inf = nan (exact: 0)."),
    _scipy("scipy.special.log_expit", "binary_cross_entropy_with_logits",
           "-(target * scipy.special.log_expit(input) "
           "+ (1 - target) * scipy.special.log_expit(-input))",
           ranks=_ANY_RANK,
           notes="Binary cross-entropy of logits: log sigmoid(x) and log(1 - sigmoid(x)) = "
                 "log sigmoid(-x), each computed stably by log_expit."),
    _scipy("scipy.special.xlogy[binary]", "binary_cross_entropy",
           "-(scipy.special.xlogy(target, input) + scipy.special.xlog1py(1 - target, -input))",
           ranks=_ANY_RANK,
           notes="Binary cross-entropy of probabilities with 0 * log 0 = 0 (xlogy, xlog1py)."),
    _scipy("scipy.special.xlogy[categorical]", "categorical_cross_entropy",
           "-np.sum(scipy.special.xlogy(target, input), axis=-1)",
           targets=("probabilities",), ranks=(1, 2, 3, 4),
           notes="Categorical cross-entropy of probabilities, classes on the last axis, "
                 "with 0 * log 0 = 0 (xlogy)."),
)


class ScipyAdapter(_ArrayAdapter):
    library = "scipy"
    modules: ClassVar[dict[str, str]] = {"np": "numpy", "scipy": "scipy.special"}
    version_module = "scipy"
    bindings = SCIPY_BINDINGS


# --- scikit-learn: sklearn.metrics.log_loss ----------------------------------------------------

# normalize=True is the mean over samples, normalize=False the sum. With sample_weight,
# normalize=True divides by sum(sample_weight) (np.average): the oracle's "weighted_mean".
_LOG_LOSS_MEAN_SUM = {"mean": "True", "sum": "False"}
_LOG_LOSS_WEIGHTED = {"weighted_mean": "True", "sum": "False"}
_LOG_LOSS_NOTES = (
    "sklearn.metrics.log_loss (scikit-learn 1.9): y_proba is clipped to [eps, 1 - eps] with "
    "eps = finfo(y_proba.dtype).eps (float16: 2**-10, float32: 2**-23, float64: 2**-52), "
    "computed in y_proba's dtype, after a binary 1-D y_proba became the columns [1 - p, p]; "
    "rows are not renormalised (a UserWarning if they do not sum to 1 within sqrt(eps)); "
    "NaN or inf in y_proba, probabilities outside [0, 1], an empty batch and all-zero sample "
    "weights raise ValueError. With sample_weight, normalize=True divides by sum(sample_weight) "
    "(the oracle's weighted_mean; ZeroDivisionError if it is 0); normalize=False is "
    "sum(w_i * l_i)."
)


_Y_PRED = {"y_pred": "a deprecated alias of y_proba (scikit-learn 1.8), which every call "
                     "passes"}
_LOG_LOSS_SURFACE = {"surface": ("sklearn.metrics.log_loss",)}


def _log_loss(form: str, loss: str, y_true_args: str, **declared) -> tuple[Binding, Binding]:
    """The plain call (mean and sum) and the sample-weighted one (weighted mean and sum) of
    one form."""
    suffix = f"[{form}]" if form else ""
    weighted_suffix = f"[{form}, sample_weight]" if form else "[sample_weight]"
    expression = "sklearn.metrics.log_loss(target, input, normalize={reduction}{options}"
    return (
        Binding(api=f"sklearn.metrics.log_loss{suffix}", library="scikit-learn", loss=loss,
                expression=expression + y_true_args + ")", reductions=_LOG_LOSS_MEAN_SUM,
                dtypes=_FLOAT_DTYPES, gradients=(), notes=_LOG_LOSS_NOTES,
                **_LOG_LOSS_SURFACE, out_of_scope={
                    **_Y_PRED, "sample_weight": f"passed by sklearn.metrics.log_loss"
                                                f"{weighted_suffix}, the same call weighted"},
                **declared),
        Binding(api=f"sklearn.metrics.log_loss{weighted_suffix}", library="scikit-learn",
                loss=loss, expression=expression + y_true_args + ")",
                options={"sample_weight": "sample_weight=sample_weight"},
                reductions=_LOG_LOSS_WEIGHTED, dtypes=_FLOAT_DTYPES, gradients=(),
                notes=_LOG_LOSS_NOTES, **_LOG_LOSS_SURFACE, out_of_scope=_Y_PRED, **declared),
    )


SKLEARN_BINDINGS = (
    # Class indices 0..C-1; labels= names every class, so a batch need not show them all.
    # (A one-hot y_true, without labels=, gives the same loss, but soft labels raise
    # ValueError, so log_loss does not offer probability targets.)
    *_log_loss("", "categorical_cross_entropy", ", labels=np.arange(input.shape[1])",
               targets=("indices",), ranks=(2,)),
    # 1-D y_proba is the probability of label 1; y_true must be hard 0/1 labels (soft ones
    # raise ValueError: not in labels).
    *_log_loss("binary", "binary_cross_entropy", ", labels=[0, 1]", ranks=(1,)),
)


class SklearnAdapter(_ArrayAdapter):
    library = "scikit-learn"
    modules: ClassVar[dict[str, str]] = {"np": "numpy", "sklearn": "sklearn.metrics"}
    version_module = "sklearn"
    bindings = SKLEARN_BINDINGS


ADAPTERS = (NumpyAdapter, ScipyAdapter, SklearnAdapter)

__all__ = ["ADAPTERS", "NumpyAdapter", "ScipyAdapter", "SklearnAdapter"]

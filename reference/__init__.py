"""The float64 cross-entropy oracle.

Every function takes float64-convertible NumPy arrays and returns float64 results that are the
exact mathematical value of the loss on the inputs as given, rounded once to float64 (within
1 ulp per element and 2 ulp for reduced values and gradients; see README "The oracle").

Keyword names follow PyTorch, and so does their meaning. Library conventions that change a value
(Keras clipping and renormalisation, Keras sample weights, "sum over batch size" and the mean over
the summed sample weights, Keras's ignored class on probabilities, torch's log clamp at -100, the
value of an empty mean) are extra keyword-only options, off by default.

Every loss takes ``validate`` (default True). ``validate=False`` lifts the checks of the value
domain, and only those: probabilities (BCE and categorical input) and targets (binary, soft)
outside [0, 1], label smoothing outside [0, 1] (it must still be finite), positive
log-probabilities in ``nll_loss``. The formula is then evaluated as written, with the library
conventions applied in their order (renormalise, clip, offset, log, clamp); the log of a negative
number is NaN, and so is the gradient of a term that holds one. Structural checks stay: shapes and
broadcasting, class indices in range, dtypes, reduction names, ``ignore_index``, and settings
such as ``clip_epsilon``, ``log_offset`` and ``gradient_floor``. Weights are never checked: any
sign is evaluated as given. See README "The oracle".
"""

from reference.binary import binary_cross_entropy, binary_cross_entropy_with_logits
from reference.categorical import categorical_cross_entropy, cross_entropy, nll_loss
from reference.errors import OracleInputError
from reference.gradients import LOSSES, grad, value_and_grad
from reference.second_order import hvp, jvp
from reference.specs import DTYPE_SPECS, LOSS_SPECS, DtypeSpec, LossSpec, dtype_spec, loss_spec

__all__ = [
    "DTYPE_SPECS",
    "LOSSES",
    "LOSS_SPECS",
    "DtypeSpec",
    "LossSpec",
    "OracleInputError",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "categorical_cross_entropy",
    "cross_entropy",
    "dtype_spec",
    "grad",
    "hvp",
    "jvp",
    "loss_spec",
    "nll_loss",
    "value_and_grad",
]

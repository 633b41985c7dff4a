"""The float64 cross-entropy oracle.

Every function takes float64-convertible NumPy arrays and returns float64 results that are the
exact mathematical value of the loss on the inputs as given, rounded once to float64 (within
1 ulp per element and 2 ulp for reduced values and gradients; see README "The oracle").

Keyword names follow PyTorch, and so does their meaning. Library conventions that change a value
(Keras clipping and renormalisation, Keras sample weights and "sum over batch size", torch's log
clamp at -100, the value of an empty mean) are extra keyword-only options, off by default.
"""

from reference.binary import binary_cross_entropy, binary_cross_entropy_with_logits
from reference.categorical import categorical_cross_entropy, cross_entropy, nll_loss
from reference.errors import OracleInputError
from reference.gradients import LOSSES, grad, value_and_grad
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
    "loss_spec",
    "nll_loss",
    "value_and_grad",
]

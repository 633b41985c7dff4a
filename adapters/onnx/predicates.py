"""Case predicates used by the onnx-reference registry (onnx-reference.toml beside this module).

``onnx.reference`` computes in the dtype under test, so each predicate reads the inputs as that
dtype holds them (``in_dtype``). Plain NumPy and SciPy: this module is imported in every env.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from adapters.binding import Case
from adapters.predicates import in_dtype, predicate
from reference.specs import dtype_spec


@predicate
def target_probability_underflows_in_dtype(case: Case) -> bool:
    """Some counted sample's softmax probability at its target class is below half the dtype's
    smallest subnormal, log p_t = z_t - logsumexp(z) < log(s / 2): p_t rounds to 0 there, so
    log(p_t) is -inf. Exact log-softmax of the finite inputs as the dtype holds them; samples
    with a non-finite logit, an out-of-range index or the ignore_index are not counted."""
    if case.loss != "cross_entropy" or case.target_kind != "indices":
        return False
    z = in_dtype(case, "input")
    t = np.asarray(case.inputs["target"])
    if z.ndim < 2 or z.shape[0] == 0:
        return False
    axis = case.class_axis
    counted = (t >= 0) & (t < z.shape[axis])
    if case.options.get("ignore_index") is not None:
        counted &= t != case.options["ignore_index"]
    with np.errstate(invalid="ignore", over="ignore"):
        log_p = scipy.special.log_softmax(z, axis=axis)
    at_target = np.take_along_axis(log_p, np.expand_dims(np.where(counted, t, 0), axis),
                                   axis=axis)
    at_target = np.squeeze(at_target, axis)
    finite = np.all(np.isfinite(z), axis=axis)
    # log(s / 2) as log(s) - log(2): half of float64's smallest subnormal is 0
    threshold = np.log(dtype_spec(case.dtype).smallest_subnormal) - np.log(2.0)
    return bool(np.any(counted & finite & (at_target < threshold)))

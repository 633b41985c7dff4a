"""Predicates for the registry of Keras 3 on the NumPy backend
(conformance/deviations/keras@keras-numpy.toml)."""

from __future__ import annotations

import numpy as np

from adapters.core import Case
from conformance.predicates import in_dtype, predicate


@predicate
def sigmoid_rounds_to_1_at_target_1_in_dtype(case: Case) -> bool:
    """Some element with target 1 has a logit whose sigmoid, evaluated as 1 / (1 + exp(-x))
    with every step rounded to the case's dtype, is exactly 1 (then 1 - p = 0 and the
    (1 - y) log(1 - p) term is 0 * -inf)."""
    x = in_dtype(case, "input")
    y = np.asarray(case.inputs["target"], dtype=np.float64)
    with np.errstate(over="ignore"):
        e = in_dtype(case, np.exp(-x))
        p = in_dtype(case, 1.0 / in_dtype(case, 1.0 + e))
    return bool(np.any((p == 1.0) & (y == 1.0)))

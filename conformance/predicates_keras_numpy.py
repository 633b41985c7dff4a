"""Predicates for the registry of Keras 3 on the NumPy backend
(conformance/deviations/keras@keras-numpy.toml)."""

from __future__ import annotations

import numpy as np

from adapters.core import Case
from conformance.predicates import in_dtype, predicate


def _sigmoid_is_1_in_dtype(case: Case) -> np.ndarray:
    """Where the logit's sigmoid, evaluated as 1 / (1 + exp(-x)) with every step rounded to the
    case's dtype, is exactly 1 (then 1 - p = 0, and log(1 - p) = -inf)."""
    x = in_dtype(case, "input")
    with np.errstate(over="ignore"):
        e = in_dtype(case, np.exp(-x))
        p = in_dtype(case, 1.0 / in_dtype(case, 1.0 + e))
    return p == 1.0


def _smoothed_target(case: Case) -> np.ndarray:
    """The binary target as the loss uses it: y (1 - e) + e / 2 with label smoothing e."""
    y = np.asarray(case.inputs["target"], dtype=np.float64)
    e = float(case.options.get("label_smoothing", 0.0))
    return y * (1.0 - e) + 0.5 * e


@predicate
def sigmoid_rounds_to_1_at_target_1_in_dtype(case: Case) -> bool:
    """Some element with (smoothed) target 1 has a dtype sigmoid of exactly 1: its
    (1 - y) log(1 - p) term is 0 * -inf."""
    return bool(np.any(_sigmoid_is_1_in_dtype(case) & (_smoothed_target(case) == 1.0)))


@predicate
def sigmoid_rounds_to_1_below_target_1_in_dtype(case: Case) -> bool:
    """Some element with a (smoothed) target below 1 has a dtype sigmoid of exactly 1: its
    (1 - y) log(1 - p) term is -inf."""
    return bool(np.any(_sigmoid_is_1_in_dtype(case) & (_smoothed_target(case) < 1.0)))

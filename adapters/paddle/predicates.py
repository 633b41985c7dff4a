"""Case predicates used by the paddle registry (paddle.toml beside this module).

Paddle computes in the dtype under test (float32 or float64; the adapter casts a float64
tensor with ``astype``, rounding to nearest), so each predicate reads the inputs as paddle holds
them, rounded to the case's dtype. Plain NumPy: this module is imported in every env.
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Case
from adapters.predicates import (
    ROW_SUM_SLACK,
    class_axis_not_last,
    float_target,
    in_dtype,
    label_smoothing,
    predicate,
)

#: paddle's softmax clips each shifted logit z - max(z) at this value before exp
#: (phi/kernels/funcs/softmax_impl.h, ValueClip)
_SHIFTED_LOGIT_FLOOR = -64.0


@predicate
def shifted_logit_below_minus_64_in_dtype(case: Case) -> bool:
    """In the tested dtype, some logit lies more than 64 below the largest logit of its sample
    (class axis 1, or 0 of a (C,) row): z - max(z) < -64, a -inf logit included, in a sample
    whose largest logit is finite."""
    z = in_dtype(case, "input")
    if z.size == 0:
        return False
    axis = case.class_axis
    top = np.max(z, axis=axis, keepdims=True)
    with np.errstate(invalid="ignore"):
        low = (z - top < _SHIFTED_LOGIT_FLOOR) & np.isfinite(top)
    return bool(low.any())


@predicate
def zero_probability_at_zero_target_in_dtype(case: Case) -> bool:
    """In the tested dtype, some probability is exactly 0 where its soft target is 0 too (given
    so, or a tiny probability that underflows the dtype): the term 0 * log 0, whose derivative
    -y / p is 0 / 0 there."""
    y = float_target(case)
    p = in_dtype(case, "input")
    if y is None or y.shape != p.shape:
        return False
    return bool(((p == 0) & (y == 0)).any())


@predicate
def soft_target_rows_not_summing_to_one(case: Case) -> bool:
    """Some sample's soft target (class axis 1, or 0 of a (C,) row) sums away from 1 by more
    than ``ROW_SUM_SLACK``."""
    y = float_target(case)
    if y is None or y.ndim < 1:
        return False
    return bool((np.abs(y.sum(axis=case.class_axis) - 1) > ROW_SUM_SLACK).any())


@predicate
def no_pos_weight(case: Case) -> bool:
    """The case passes no pos_weight."""
    return "pos_weight" not in case.inputs


@predicate
def exact_zero_logit_in_dtype(case: Case) -> bool:
    """In the tested dtype, some input element (a logit) is exactly +0 or -0."""
    return bool((in_dtype(case, "input") == 0).any())


@predicate
def label_smoothing_with_class_axis_not_last(case: Case) -> bool:
    """The case smooths its labels, and its class axis is not the input's last one (axis 1 of an
    (N, C, d1, ...) input)."""
    return label_smoothing(case) and class_axis_not_last(case)

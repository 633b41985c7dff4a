"""Case predicates used by the NumPy-ecosystem registries (numpy, scipy, scikit-learn).

These libraries compute in the dtype under test, so the facts that matter are facts about the
inputs *as the library sees them*: each predicate rounds the case's float64 arrays to the
case's dtype first (NumPy's float16 / float32 / float64; a value that overflows becomes inf).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from adapters.binding import Case
from adapters.predicates import float_target, in_dtype, predicate
from reference.specs import dtype_spec


@predicate
def certain_right_probability(case: Case) -> bool:
    """In the tested dtype, some probability is exactly 0 or 1 and equals its target.

    That is a log(0) with a zero coefficient: ``0 * log(0)`` (p = y = 0) or
    ``(1 - y) * log(1 - p)`` with p = y = 1; exactly 0 by the oracle's ``0 * log 0 = 0``.
    """
    y = float_target(case)
    p = in_dtype(case, "input")
    if y is None or y.shape != p.shape:
        return False
    return bool((((p == 0) & (y == 0)) | ((p == 1) & (y == 1))).any())


@predicate
def soft_target(case: Case) -> bool:
    """Some float target lies strictly between 0 and 1 (a soft label, not a hard 0/1 label)."""
    y = float_target(case)
    return y is not None and bool(((y > 0) & (y < 1)).any())


@predicate
def probability_outside_dtype_epsilon_interval(case: Case) -> bool:
    """In the tested dtype, some probability lies below eps or above 1 - eps (eps: the dtype's
    machine epsilon, ``np.finfo(dtype).eps``): where ``clip(p, eps, 1 - eps)`` changes p."""
    p = in_dtype(case, "input")
    eps = dtype_spec(case.dtype).eps
    return bool(((p < eps) | (p > 1 - eps)).any())


@predicate
def inexact_complement_probability(case: Case) -> bool:
    """Some probability p whose complement 1 - p is not exact in the tested dtype has a target
    below 1, so that log(1 - p) enters the loss.

    A formula that forms 1 - p in the dtype (rather than log1p(-p)) rounds it there, and
    -log(1 - p), about p for small p, then carries an absolute error of about u.
    """
    y = float_target(case)
    p = in_dtype(case, "input")
    if y is None or y.shape != p.shape:
        return False
    dtype = dtype_spec(case.dtype).numpy or np.float64
    for probability in p[(y < 1) & np.isfinite(p)]:
        exact = 1 - Fraction(float(probability))
        if Fraction(float(dtype(1.0) - dtype(probability))) != exact:
            return True
    return False

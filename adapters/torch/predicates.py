"""Case predicates used by the torch registry (torch.toml beside this module).

torch computes in the dtype under test (the adapter builds a float64 tensor and casts it with
``.to(dtype)``, rounding to nearest even), so the facts that matter are facts about the inputs
as torch holds them: each predicate rounds the case's float64 arrays to the case's dtype first
(float16, bfloat16 or float32; a value that overflows the dtype becomes inf). Plain NumPy: this
module is imported in every env, with or without torch.
"""

from __future__ import annotations

import math

import numpy as np

from adapters.binding import Case
from adapters.predicates import float_target, in_dtype, predicate

#: torch clamps each log of binary_cross_entropy at -100: probabilities below e^-100 hit it
_LOG_CLAMP_EDGE = math.exp(-100.0)


@predicate
def weighted_log_of_probability_below_minus_100(case: Case) -> bool:
    """In the tested dtype, some probability p has log(p) < -100 where its target is positive,
    or log(1 - p) < -100 where its target is below 1 (p rounded to 1 included): a log that
    carries weight in binary cross-entropy and lies below -100."""
    y = float_target(case)
    p = in_dtype(case, "input")
    if y is None or y.shape != p.shape:
        return False
    with np.errstate(invalid="ignore"):
        low = (p < _LOG_CLAMP_EDGE) & (y > 0)
        high = ((1.0 - p) < _LOG_CLAMP_EDGE) & (y < 1)
    return bool((low | high).any())


@predicate
def every_row_holds_a_positive_infinite_logit(case: Case) -> bool:
    """In the tested dtype, every sample's logits (class axis 1, or 0 for an unbatched (C,)
    input) hold a +inf: the softmax's max shift z - max(z) is inf - inf there."""
    z = in_dtype(case, "input")
    if z.size == 0:
        return False
    return bool((z == np.inf).any(axis=case.class_axis).all())


@predicate
def pos_weight_given(case: Case) -> bool:
    """The case passes a pos_weight (a weight of the positive term of binary cross-entropy)."""
    return "pos_weight" in case.inputs

"""Case predicates used by the optax registry (optax.toml beside this module).

optax computes in the dtype under test, so the facts that matter are facts about the inputs as
JAX holds them: each predicate rounds the case's float64 arrays to the case's dtype first
(float16, bfloat16 or float32; a value that overflows the dtype becomes inf). Plain NumPy:
this module is imported in every env, with or without JAX.
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Case
from adapters.predicates import float_target, in_dtype, predicate


@predicate
def positive_infinite_logit_at_target_class_in_dtype(case: Case) -> bool:
    """Class-index targets, and in the tested dtype the logit at some sample's target class is
    +inf: logsumexp(x) - x[target] is then inf - inf."""
    t = np.asarray(case.inputs["target"])
    if t.dtype.kind not in "iu":
        return False
    x = in_dtype(case, "input")
    if x.size == 0:
        return False
    axis = case.class_axis
    classes = x.shape[axis]
    inside = (t >= 0) & (t < classes)
    picked = np.take_along_axis(x, np.expand_dims(np.where(inside, t, 0), axis), axis)
    return bool(((np.squeeze(picked, axis) == np.inf) & inside).any())


@predicate
def two_positive_infinite_logits_in_a_row_in_dtype(case: Case) -> bool:
    """In the tested dtype, some sample's logits hold +inf at two classes or more: its softmax
    has no limit (inf / inf), and the oracle's loss and gradient of that sample are NaN."""
    x = in_dtype(case, "input")
    if x.size == 0:
        return False
    return bool(((x == np.inf).sum(axis=case.class_axis) >= 2).any())


@predicate
def negative_infinite_logit_with_zero_target_in_dtype(case: Case) -> bool:
    """Probability targets, and in the tested dtype some logit is -inf where its target is
    exactly 0: the term target * log_softmax is 0 * log 0, 0 by convention and ``0 * -inf`` in
    IEEE arithmetic."""
    y = float_target(case)
    x = in_dtype(case, "input")
    if y is None or x.shape != y.shape:
        return False
    return bool(((x == -np.inf) & (y == 0)).any())


@predicate
def negative_infinite_logit_in_dtype(case: Case) -> bool:
    """In the tested dtype, some logit is -inf (given so, or overflowing the dtype): its
    log_softmax is -inf, which a zero tangent times it makes NaN."""
    x = in_dtype(case, "input")
    return bool((x == -np.inf).any())

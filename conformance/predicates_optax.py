"""Case predicates used by the optax registry (conformance/deviations/optax.toml).

optax computes in the dtype under test, so the facts that matter are facts about the inputs as
JAX holds them: each predicate rounds the case's float64 arrays to the case's dtype first
(float16, bfloat16 or float32; a value that overflows the dtype becomes inf). Plain NumPy:
this module is imported in every env, with or without JAX.
"""

from __future__ import annotations

import numpy as np

from adapters.core import Case
from conformance.predicates import in_dtype, predicate

_in_dtype = in_dtype  # the shared rounding to the tested dtype


@predicate
def finite_input_in_dtype(case: Case) -> bool:
    """In the tested dtype (bfloat16 included), every input element is finite: no NaN, no
    infinity, no overflow of the dtype."""
    return bool(np.isfinite(_in_dtype(case, "input")).all())


@predicate
def infinite_logit_with_certain_target(case: Case) -> bool:
    """In the tested dtype, some logit is +inf where its float target is exactly 1, or -inf
    where it is exactly 0: one term of binary cross-entropy with logits is then
    ``0 * log sigmoid(-inf)``, 0 in the limit and ``0 * -inf`` in IEEE arithmetic."""
    target = np.asarray(case.inputs["target"])
    if target.dtype.kind != "f":
        return False
    x, y = _in_dtype(case, "input"), _in_dtype(case, "target")
    if x.shape != y.shape:
        return False
    return bool((((x == np.inf) & (y == 1)) | ((x == -np.inf) & (y == 0))).any())


def _class_axis(x: np.ndarray) -> int:
    """The class axis of the oracle layout: 1 for a batch (N, C, ...), 0 for a single (C,)."""
    return 1 if x.ndim > 1 else 0


@predicate
def positive_infinite_logit_in_dtype(case: Case) -> bool:
    """In the tested dtype, some logit is +inf (given so, or overflowing the dtype)."""
    return bool((_in_dtype(case, "input") == np.inf).any())


@predicate
def positive_infinite_logit_at_target_class_in_dtype(case: Case) -> bool:
    """Class-index targets, and in the tested dtype the logit at some sample's target class is
    +inf: logsumexp(x) - x[target] is then inf - inf."""
    t = np.asarray(case.inputs["target"])
    if t.dtype.kind not in "iu":
        return False
    x = _in_dtype(case, "input")
    if x.size == 0:
        return False
    axis = _class_axis(x)
    classes = x.shape[axis]
    inside = (t >= 0) & (t < classes)
    picked = np.take_along_axis(x, np.expand_dims(np.where(inside, t, 0), axis), axis)
    return bool(((np.squeeze(picked, axis) == np.inf) & inside).any())


@predicate
def two_positive_infinite_logits_in_a_row_in_dtype(case: Case) -> bool:
    """In the tested dtype, some sample's logits hold +inf at two classes or more: its softmax
    has no limit (inf / inf), and the oracle's loss and gradient of that sample are NaN."""
    x = _in_dtype(case, "input")
    if x.size == 0:
        return False
    return bool(((x == np.inf).sum(axis=_class_axis(x)) >= 2).any())


@predicate
def negative_infinite_logit_with_zero_target_in_dtype(case: Case) -> bool:
    """Probability targets, and in the tested dtype some logit is -inf where its target is
    exactly 0: the term target * log_softmax is 0 * log 0, 0 by convention and ``0 * -inf`` in
    IEEE arithmetic."""
    t = np.asarray(case.inputs["target"])
    if t.dtype.kind != "f":
        return False
    x, y = _in_dtype(case, "input"), _in_dtype(case, "target")
    if x.shape != y.shape:
        return False
    return bool(((x == -np.inf) & (y == 0)).any())

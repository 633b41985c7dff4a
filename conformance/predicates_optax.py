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

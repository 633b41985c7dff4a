"""Case predicates used by the TensorFlow and Keras registries (tensorflow.toml beside this
module, and the tensorflow section of adapters/keras/keras.toml).

TensorFlow and Keras compute in the dtype under test, so the facts that matter are facts about
the inputs as the library holds them: each predicate rounds the case's float64 arrays to the
case's dtype first (a value that overflows becomes inf). Plain NumPy (ml_dtypes, when present,
only for bfloat16): this module is imported in every env.
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Case
from adapters.predicates import in_dtype, predicate
from reference.specs import dtype_spec


def _float_operand(case: Case, name: str) -> np.ndarray | None:
    value = case.inputs.get(name)
    if value is None or np.asarray(value).dtype.kind != "f":
        return None
    return in_dtype(case, value)


@predicate
def operand_near_subnormal_in_dtype(case: Case) -> bool:
    """In the tested dtype, some nonzero finite float operand (input, target, weights) is below
    2**8 times the dtype's smallest normal number: it is subnormal, or a product or quotient of
    it (a gradient such as -x, (1 - e) * x, or a mean's x / n) can be."""
    limit = 2.0**8 * dtype_spec(case.dtype).smallest_normal
    for name in case.inputs:
        x = _float_operand(case, name)
        if x is None:
            continue
        a = np.abs(x[np.isfinite(x)])
        if ((a > 0) & (a < limit)).any():
            return True
    return False


@predicate
def zero_logit_in_dtype(case: Case) -> bool:
    """In the tested dtype, some input element (a logit) is one TensorFlow reads as zero:
    exactly +0 or -0, or subnormal (its CPU kernels flush denormals to zero, see
    tf-flush-denormals-to-zero)."""
    x = in_dtype(case, case.inputs["input"])
    return bool((np.abs(x) < dtype_spec(case.dtype).smallest_normal).any())


@predicate
def class_index_not_exact_in_dtype(case: Case) -> bool:
    """Some class index of an integer target is not exactly representable in the tested float
    dtype (above 2048 in float16, 256 in bfloat16): cast to that dtype it becomes another
    index."""
    target = np.asarray(case.inputs["target"])
    if target.dtype.kind not in "iu":
        return False
    return bool((in_dtype(case, target) != target.astype(np.float64)).any())


@predicate
def probability_rounds_to_1_in_dtype(case: Case) -> bool:
    """In the tested dtype, some predicted probability is exactly 1 (given so, or rounded up
    from 1 - 1e-4 in float16 / bfloat16)."""
    return bool((in_dtype(case, case.inputs["input"]) == 1).any())

"""Predicates of the Keras registries (keras.toml, tf_keras.toml beside this module): facts
about a case's inputs and options that the Keras backends' entries match on.

Off TensorFlow, Keras 3 maps float64 to float32 in its type promotion, so some facts are facts
about the inputs as float32 holds them (``finite_input_beyond_float32_range``); the NumPy
backend evaluates the sigmoid step by step in the case's dtype (``_sigmoid_is_1_in_dtype``).
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Case
from adapters.predicates import in_dtype, predicate
from reference.specs import MEAN_REDUCTIONS, dtype_spec, option
from reference.terms import smoothed

# --- Keras 3 on JAX, torch and NumPy ----------------------------------------------------------

@predicate
def finite_input_beyond_float32_range(case: Case) -> bool:
    """Some finite input element has magnitude above float32's largest finite number (a logit
    of 4.25e307): rounded to float32 it becomes +-inf."""
    x = np.asarray(case.inputs["input"], dtype=np.float64)
    return bool((np.isfinite(x) & (np.abs(x) > dtype_spec("float32").max)).any())


# --- Keras 3 on NumPy -----------------------------------------------------------------------

def _sigmoid_is_1_in_dtype(case: Case) -> np.ndarray:
    """Where the logit's sigmoid, evaluated as 1 / (1 + exp(-x)) with every step rounded to the
    case's dtype, is exactly 1 (then 1 - p = 0, and log(1 - p) = -inf)."""
    x = in_dtype(case, "input")
    with np.errstate(over="ignore"):
        e = in_dtype(case, np.exp(-x))
        p = in_dtype(case, 1.0 / in_dtype(case, 1.0 + e))
    return p == 1.0


def _smoothed_target(case: Case) -> np.ndarray:
    """The binary target as the loss uses it: (1 - e) y + e / 2 with label smoothing e."""
    return smoothed(case.inputs["target"], option(case.options, "label_smoothing"), 2)


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


# --- Keras 3 on torch -----------------------------------------------------------------------

@predicate
def mean_reduction(case: Case) -> bool:
    """The case reduces with a mean: reduction "mean", "sum_over_batch_size" (the Keras loss
    classes' default) or "weighted_mean" (mean_with_sample_weight), whose divisor Keras
    applies with divide_no_nan."""
    return option(case.options, "reduction") in MEAN_REDUCTIONS


# --- tf_keras --------------------------------------------------------------------------------

@predicate
def single_sample_class_index_with_ignore_index(case: Case) -> bool:
    """The target is one 0-d integer class index (an unbatched sample: the input is a rank-1
    row of logits) and an ignore_index is given: the mask of ignored samples is a scalar."""
    target = np.asarray(case.inputs["target"])
    return (target.dtype.kind in "iu" and target.ndim == 0
            and case.options.get("ignore_index") is not None)

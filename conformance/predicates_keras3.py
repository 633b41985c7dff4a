"""Predicates for the registries of Keras 3 on the JAX, torch and NumPy backends
(conformance/deviations/keras@keras-jax*.toml, keras@keras-torch*.toml, keras@keras-numpy*.toml).

Off TensorFlow, Keras 3 maps float64 to float32 in its type promotion, so some facts are facts
about the inputs as float32 holds them.
"""

from __future__ import annotations

import numpy as np

from adapters.core import Case
from conformance.predicates import predicate
from reference.specs import dtype_spec


@predicate
def finite_input_beyond_float32_range(case: Case) -> bool:
    """Some finite input element has magnitude above float32's largest finite number (a logit
    of 4.25e307): rounded to float32 it becomes +-inf."""
    x = np.asarray(case.inputs["input"], dtype=np.float64)
    return bool((np.isfinite(x) & (np.abs(x) > dtype_spec("float32").max)).any())

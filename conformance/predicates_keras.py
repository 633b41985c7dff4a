"""Predicates for the Keras registries (keras@<env>.toml, tf_keras.toml)."""

from __future__ import annotations

import numpy as np

from adapters.core import Case
from conformance.predicates import predicate

_KERAS_EPSILON = 1e-7  # keras/src/backend/config.py _EPSILON, tf_keras/src/backend_config.py


@predicate
def probabilities_inside_keras_clip(case: Case) -> bool:
    """No probability of a binary_cross_entropy case lies outside [1e-7, 1 - 1e-7], where
    Keras's clip is inactive (true of every case of the other losses)."""
    if case.loss != "binary_cross_entropy":
        return True
    p = np.asarray(case.inputs["input"], dtype=np.float64)
    p = p[np.isfinite(p)]
    return bool(((p >= _KERAS_EPSILON) & (p <= 1 - _KERAS_EPSILON)).all())

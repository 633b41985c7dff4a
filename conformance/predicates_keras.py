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


@predicate
def class_index_probability_above_half(case: Case) -> bool:
    """A categorical_cross_entropy case with class-index targets where some sample's
    probability at its target class (classes on the case's axis, default the last) is above
    1/2: that sample's loss is below log 2, and can be as small as the clip allows (about
    1e-7), so an absolute rounding error of order u in it is large relative to the loss."""
    if case.loss != "categorical_cross_entropy":
        return False
    target = np.asarray(case.inputs["target"])
    if target.dtype.kind not in "iu" or not target.size:
        return False
    p = np.asarray(case.inputs["input"], dtype=np.float64)
    classes = np.moveaxis(p, case.options.get("axis", -1), -1)
    if classes.shape[:-1] != target.shape or np.any(target < 0) \
            or np.any(target >= classes.shape[-1]):
        return False
    at_target = np.take_along_axis(classes, target[..., None].astype(np.intp), -1)
    return bool((at_target > 0.5).any())

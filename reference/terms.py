"""The terms of the losses in float64, for the layers above the oracle.

The oracle evaluates each loss exactly (longdouble, and rationals where that is not enough). The
error model (``conformance.tolerance``) and the registry predicates need the size of a loss's
terms, not their last bit: they read them here, in plain float64, each defined once and named
as the oracle's docstrings name it (``reference.binary``, ``reference.categorical``):

- label smoothing: a target t becomes ``(1 - e) t + e / C``, C = 2 for a binary target;
- the target distribution q of each sample (one-hot rows of class indices, or the given
  probabilities), smoothed, and ``a_j = weight_j q_j``, the coefficients of cross_entropy's
  terms;
- each sample's weight, on the elements of its class axis;
- the clip of a probability, ``clip(p, eps, 1 - eps)`` or the bounds of a pair;
- the two logs of binary cross-entropy, ``log(p' + o)`` and ``log(1 - p' + o)``, clamped.

The arguments are the oracle's keywords, with its defaults.
"""

from __future__ import annotations

import numpy as np

from reference._types import ClipEpsilon


def one_hot(indices, classes: int) -> np.ndarray:
    """float64 one-hot rows of ``indices`` on a new last axis, in O(size * classes) memory
    (``np.eye(classes)[indices]`` would first build a classes x classes identity: 8 GB for
    32 000 classes)."""
    return (np.expand_dims(np.asarray(indices), -1) == np.arange(classes)).astype(np.float64)


def smoothing_factors(label_smoothing: float, classes: int) -> tuple[float, float]:
    """``(1 - e, e / C)``: label smoothing e makes a target t into ``(1 - e) t + e / C``, so
    ``1 - e`` is also the derivative of the smoothed target by t."""
    e = float(label_smoothing)
    return 1 - e, e / classes


def smoothed(target, label_smoothing: float, classes: int) -> np.ndarray:
    """``(1 - e) t + e / C``: the target as a loss with label smoothing e uses it (C = 2 for a
    binary target, whose complement is then ``(1 - e) (1 - t) + e / 2``)."""
    keep, spread = smoothing_factors(label_smoothing, classes)
    return keep * np.asarray(target, dtype=np.float64) + spread


def target_distribution(target, input_shape: tuple[int, ...], axis: int,
                        label_smoothing: float = 0.0, ignore_index: int | None = None
                        ) -> np.ndarray:
    """q: each sample's target distribution, smoothed, in the input's layout (classes on
    ``axis``): one-hot rows of integer class indices, or the given probabilities. An index
    equal to ``ignore_index`` gives a row of zeros before the smoothing."""
    target = np.asarray(target)
    classes = input_shape[axis]
    if target.dtype.kind in "iu":
        active = np.ones(target.shape, bool) if ignore_index is None else target != ignore_index
        q = np.moveaxis(one_hot(np.where(active, target, 0), classes) * active[..., None], -1,
                        axis)
    else:
        q = target.astype(np.float64)
    return smoothed(q, label_smoothing, classes)


def weighted_target(q: np.ndarray, weight, axis: int) -> np.ndarray:
    """``a_j = weight_j q_j``: the target distribution ``q`` (classes on ``axis``) times the
    class weights (one per class; None: all 1), the coefficients of cross_entropy's terms
    ``sum_j a_j (logsumexp(z) - z_j)``."""
    shape = [1] * q.ndim
    shape[axis] = q.shape[axis]
    w = np.ones(shape) if weight is None else np.asarray(weight, float).reshape(shape)
    return w * q


def sample_weight_per_element(sample_weight, axis: int) -> np.ndarray | float:
    """Each sample's weight on every element of its class axis (``axis`` of the input), so it
    broadcasts against the input; 1.0 without sample weights."""
    if sample_weight is None:
        return 1.0
    return np.expand_dims(np.asarray(sample_weight, float), axis)


def clip_bounds(clip_epsilon: ClipEpsilon) -> tuple[float, float] | None:
    """The clip's bounds ``(low, high)``: ``(eps, 1 - eps)`` for a scalar eps (``1 - eps``
    rounded to float64), a pair as given; None: no clip."""
    if clip_epsilon is None:
        return None
    if np.ndim(clip_epsilon) == 0:
        return clip_epsilon, 1 - clip_epsilon
    low, high = clip_epsilon
    return low, high


def clipped(p, clip_epsilon: ClipEpsilon = None) -> np.ndarray:
    """``p' = clip(p, low, high)``: the probabilities a clipping loss takes the log of."""
    p = np.asarray(p, dtype=np.float64)
    bounds = clip_bounds(clip_epsilon)
    return p if bounds is None else np.clip(p, *bounds)


def binary_logs(p, clip_epsilon: ClipEpsilon = None, log_offset: float = 0.0,
                log_clamp: float | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(log(p' + o), log(1 - p' + o))``: the two logs of binary_cross_entropy, p' the
    clipped p and o the offset, each raised to at least ``log_clamp`` where one is given;
    -inf at a log of 0 and NaN at a log of a negative number."""
    p = clipped(p, clip_epsilon)
    offset = float(log_offset)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.log(p + offset), np.log1p(-p + offset)
    if log_clamp is None:
        return logs
    return tuple(np.maximum(log, float(log_clamp)) for log in logs)


def hvp_terms(name, *args, vector, **kwargs) -> np.ndarray:
    """The size of the terms of ``reference.hvp(name, *args, vector=vector, **kwargs)``, the
    input's shape: ``|H| |v|`` taken term by term, every factor in absolute value and every
    difference made a sum, so that no term cancels (softmax cross-entropy: ``|c A| p (|v| +
    p.|v|)``; the diagonal losses ``|c w h| |v|``; the renormalised categorical loss ``|r|
    (|v| + o sum|v|) + o sum_j |r_j| (|v_j| + o sum|v|) + |A| sum|v| / S^2``). It is >= |hvp|
    element by element, and finite wherever hvp is; the error of an hvp is relative to it."""
    from reference import second_order  # the oracle's evaluators import nothing from here

    key, arguments = second_order.hessian_arguments(name, args, kwargs)
    with np.errstate(over="ignore"):
        return np.asarray(second_order.HESSIANS[key](vector, True, **arguments)).astype(
            np.float64)

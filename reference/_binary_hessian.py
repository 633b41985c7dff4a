"""Hessian-vector products of the binary losses: their Hessians are diagonal.

Each element loss depends on its own input only, so ``H v = c w h v`` element by element, with
``h`` the second derivative of the unweighted element loss, ``w`` the element weight and ``c``
the reduction's coefficient (divided by k under ``average_last_axis``): the same factors as the
gradient's (``reference.binary``). Every function returns the longdouble product, or with
``magnitude=True`` the same product with every factor taken in absolute value (the error
model's scale, ``reference.terms.hvp_terms``).
"""

from __future__ import annotations

import numpy as np

from reference import _checks as check
from reference import _reduction
from reference._extended import LD, ld, mul0, sigmoid
from reference._probability import clip_bounds, complement_pair, log_pair
from reference.binary import _targets


def _as_vectors(hessian):
    """Evaluate a 0-d input as a one-element vector (as ``binary._scalars_as_vectors``)."""
    def wrapper(vector, magnitude, input, target, *args, **kwargs):
        if np.ndim(input) != 0 or np.ndim(target) != 0:
            return hessian(vector, magnitude, input, target, *args, **kwargs)
        out = hessian(np.reshape(vector, (1,)) if np.ndim(vector) == 0 else vector, magnitude,
                      np.reshape(input, (1,)), np.reshape(target, (1,)), *args, **kwargs)
        return out.reshape(())
    return wrapper


def vector_like(vector, reference: np.ndarray, name: str = "vector") -> np.ndarray:
    """``vector`` as float64, of the shape of ``reference`` (the argument it is a direction of)."""
    v = check.float_array(name, vector)
    check.same_shape(name, v, "input", reference)
    return v


def element_coefficients(shape, weight, sample_weight, reduction, empty_mean,
                         average_last_axis):
    """``(c w, None)`` per element (longdouble, divided by k under ``average_last_axis``), or
    ``(None, empty_mean)`` for a mean whose divisor is zero; as ``binary._finish`` weighs the
    gradient."""
    w = check.broadcast("weight", check.optional_float_array("weight", weight), shape)
    sample_shape, scale = shape, None
    if average_last_axis:
        if len(shape) == 0:
            raise check.OracleInputError("average_last_axis: input is 0-d and has no last axis")
        k = shape[-1]
        sample_shape, scale = shape[:-1], (LD(1) / k if k else LD(0))
    sw = check.broadcast(
        "sample_weight", check.optional_float_array("sample_weight", sample_weight),
        sample_shape)
    plan = _reduction.plan(sample_shape, check.reduction(reduction), sw, empty_mean)
    if plan.empty_value is not None:
        return None, plan.empty_value
    coeff = plan.coefficients
    if scale is not None:
        coeff = coeff[..., np.newaxis] * scale
    coeff = np.broadcast_to(coeff, shape)
    return (coeff if w is None else mul0(coeff, ld(w))), None


def _product(coeff, empty, h, v, magnitude):
    """``c w h v`` (or its magnitude), ``0 * empty_mean`` everywhere for an empty mean."""
    if coeff is None:
        return np.full(v.shape, LD(0) * LD(empty))
    V = ld(v)
    if magnitude:
        coeff, h, V = np.abs(coeff), np.abs(h), np.abs(V)
    return mul0(coeff, mul0(h, V))


@_as_vectors
def binary_cross_entropy(vector, magnitude, input, target, weight, reduction, label_smoothing,
                         *, sample_weight, clip_epsilon, log_offset, log_clamp, gradient_floor,
                         average_last_axis, empty_mean, validate):
    """``h = y_s / a^2 + (1 - y_s) / b^2`` (a = p' + o, b = 1 - p' + o), each term 0 where its
    log is clamped, all of it 0 where the clip acts. With ``gradient_floor`` the gradient is
    ``(a - y_s (1 + 2o)) / max(a b, floor)``: where ``a b >= floor`` its derivative is the same
    h (the fused form equals the separate one, as ``a + b = 1 + 2o``), below the floor it is
    ``1 / floor``; with floor 0 and ``a b = 0`` the limit (inf), NaN where that gradient is
    0/0 or ``a b < 0``."""
    p = check.float_array("input", input)
    if check.validate_flag(validate):
        check.in_unit_interval("input", p)
    v = vector_like(vector, p)
    _, _, ys, yc = _targets(p, target, label_smoothing, validate)
    off = LD(check.nonnegative_scalar("log_offset", log_offset))
    clamp = check.optional_scalar("log_clamp", log_clamp)
    floor = None if gradient_floor is None else check.nonnegative_scalar("gradient_floor",
                                                                         gradient_floor)
    coeff, empty = element_coefficients(p.shape, weight, sample_weight, reduction, empty_mean,
                                        average_last_axis)
    P, Q, inside = complement_pair(ld(p), clip_bounds(clip_epsilon))
    a, b = P + off, Q + off
    pass_p = pass_q = inside
    if clamp is not None:  # a clamped log is a constant: its term has no curvature
        log_p, log_q = log_pair(P, Q, off)
        pass_p, pass_q = inside & ~(log_p < clamp), inside & ~(log_q < clamp)
    if magnitude:
        ys, yc = np.abs(ys), np.abs(yc)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inv_a2, inv_b2 = 1 / (a * a), 1 / (b * b)  # longdouble: a subnormal a squared is fine
        if floor is None:
            h = (mul0(ys, np.where(pass_p, inv_a2, 0)) + mul0(yc, np.where(pass_q, inv_b2, 0)))
            h = np.where((a < 0) | (b < 0), LD(np.nan), h)  # the gradient is NaN there
        else:  # PyTorch's backward formula, clamp or not
            smooth = mul0(ys, inv_a2) + mul0(yc, inv_b2)
            ab = a * b
            if floor > 0:
                h = np.where(ab >= floor, smooth, LD(1) / LD(floor))
            else:
                numer = a - ys * (1 + 2 * off)
                h = np.where((ab < 0) | ((ab == 0) & (numer == 0)), LD(np.nan), smooth)
            h = np.where(inside, h, 0)
    return _product(coeff, empty, h, v, magnitude)


@_as_vectors
def binary_cross_entropy_with_logits(vector, magnitude, input, target, weight, pos_weight,
                                     reduction, label_smoothing, *, sample_weight,
                                     probability_clip, average_last_axis, empty_mean, validate):
    """``h = (pw y_s + 1 - y_s) sigmoid(x) sigmoid(-x)``, the derivative of the gradient
    ``(1 - y_s) sigmoid(x) - pw y_s sigmoid(-x)``; 0 where ``probability_clip`` acts (the loss
    is a constant there) and at x = +-inf."""
    x = check.float_array("input", input)
    v = vector_like(vector, x)
    _, _, ys, yc = _targets(x, target, label_smoothing, check.validate_flag(validate))
    pw = check.broadcast("pos_weight", check.optional_float_array("pos_weight", pos_weight),
                         x.shape)
    PW = np.ones(x.shape, dtype=LD) if pw is None else ld(pw)
    bounds = clip_bounds(probability_clip)
    coeff, empty = element_coefficients(x.shape, weight, sample_weight, reduction, empty_mean,
                                        average_last_axis)
    X = ld(x)
    first, second = mul0(PW, ys), yc
    if magnitude:
        first, second = np.abs(first), np.abs(second)
    # sigmoid(x) sigmoid(-x): both factors accurate for either sign, 0 at +-inf
    h = (first + second) * (sigmoid(X) * sigmoid(-X))
    if bounds is not None:  # where the clip acts, as the loss decides it (binary.py)
        below = sigmoid(X) < bounds.low
        above = np.where(X >= 0, sigmoid(-X) < bounds.low_complement, sigmoid(X) > bounds.high)
        h = np.where(below | above, LD(0), h)
    return _product(coeff, empty, h, v, magnitude)

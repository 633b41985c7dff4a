"""Binary cross-entropy on probabilities and on logits (element-wise losses).

Both take ``target`` of the same shape as ``input`` with values in [0, 1] (soft labels allowed;
any values with ``validate=False``) and smooth it as PyTorch and Keras do:
``y_s = (1 - e) * y + e / 2``. The complementary weight ``1 - y_s = (1 - e) * (1 - y) + e / 2``
is computed from its own formula so it stays exact when ``y_s`` is close to 1.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from reference import _checks as check
from reference import _reduction, _refine
from reference._extended import LD, ld, mul0, sigmoid, softplus, to_float64
from reference._probability import clip_bounds, complement_pair, log_pair
from reference._types import ClipEpsilon, Loss, Reduction

# An element whose result is smaller than 2**-8 times its largest term lost more than 8 bits to
# cancellation: longdouble (11 spare bits) no longer guarantees it, so it is recomputed exactly.
_CANCELLATION = LD(2.0) ** -8


def binary_cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    *,
    sample_weight: ArrayLike | None = None,
    clip_epsilon: ClipEpsilon = None,
    log_offset: float = 0.0,
    log_clamp: float | None = None,
    gradient_floor: float | None = None,
    average_last_axis: bool = False,
    empty_mean: float = math.nan,
    validate: bool = True,
) -> Loss:
    """Binary cross-entropy of probabilities ``input`` (p) against ``target`` (y)::

        l = -(y_s * log(p' + log_offset) + (1 - y_s) * log(1 - p' + log_offset)) * weight

    with ``0 * log 0 = 0``, so ``p = 0, y = 1`` costs ``+inf`` and ``p = y = 0`` costs 0.

    - ``weight``: element-wise rescaling, broadcast to ``input`` (PyTorch).
    - ``clip_epsilon``: Keras clips ``p' = clip(p, eps, 1 - eps)``; a pair ``(lo, hi)`` gives
      the bounds directly (for libraries that round ``1 - eps`` in their own dtype).
      Default: no clipping, ``p' = p``.
    - ``log_offset``: the ``+ eps`` inside both logs (Keras adds its epsilon, textbook NumPy
      code ``1e-9``). Default 0.
    - ``log_clamp``: each log is raised to at least this value (PyTorch clamps at -100).
    - ``gradient_floor``: the gradient with respect to ``input`` is PyTorch's backward formula
      ``(a - y_s (1 + 2o)) / max(a b, floor)``, ``a = p' + o``, ``b = 1 - p' + o``, wherever no
      clip bound acts: it ignores ``log_clamp`` (PyTorch's floor is 1e-12 in the input's
      dtype; 0 in float16, where ``a b = 0`` then gives +-inf, or NaN at p = y). The value is
      unchanged.
    - ``average_last_axis``: Keras first averages over the last axis, one loss per sample.
    - ``sample_weight``, ``reduction``, ``empty_mean``: see ``reference._reduction``; "mean"
      divides by the number of losses, ``reduction="weighted_mean"`` by the sum of their sample
      weights (Keras's "mean_with_sample_weight"): ``sum_i sw_i l_i / sum_i sw_i``, with the
      samples taken after ``average_last_axis``; ``weight`` stays out of the divisor.
    - ``validate=False`` accepts ``input`` and ``target`` outside [0, 1] and any finite
      ``label_smoothing``, and evaluates the formulas above as written: the clip acts first
      (p = 1.5 with ``clip_epsilon=1e-7`` is 1 - 1e-7, gradient 0), and a log of a negative
      number is NaN, as is the gradient with respect to ``input`` there (PyTorch's backward
      formula, with ``gradient_floor``, is evaluated as it stands).

    Gradient (``grad``) with respect to ``input``: ``-(y_s / (p'+o) - (1 - y_s) / (1-p'+o))``
    times weights, zero where a clip or a clamp is active (inclusive bounds pass the gradient);
    with respect to ``target``: ``-(1 - e) * (log(p'+o) - log(1-p'+o))`` times weights. The
    weights include the reduction's coefficient ``c_i``: ``sw_i``, or ``sw_i / D`` for a mean
    (``sw_i / sum_j sw_j`` for "weighted_mean"), divided by k under ``average_last_axis``.
    """
    return _binary_cross_entropy(wrt=None, **locals())[0]


def binary_cross_entropy_with_logits(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    pos_weight: ArrayLike | None = None,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    *,
    sample_weight: ArrayLike | None = None,
    probability_clip: ClipEpsilon = None,
    average_last_axis: bool = False,
    empty_mean: float = math.nan,
    validate: bool = True,
) -> Loss:
    """Binary cross-entropy of logits ``input`` (x) against ``target`` (y)::

        l = (pos_weight * y_s * softplus(-x) + (1 - y_s) * softplus(x)) * weight

    which is ``-(pos_weight * y_s * log sigmoid(x) + (1 - y_s) * log(1 - sigmoid(x)))``; at
    ``x = +-inf`` it takes its true limit (``x = +inf, y = 1`` gives 0, not NaN).

    - ``weight``, ``pos_weight``: broadcast to ``input`` (PyTorch; ``pos_weight`` usually has
      one entry per class, the last axis). Any sign: an element whose terms then cancel is
      recomputed exactly.
    - ``probability_clip``: Keras's NumPy backend takes ``p = sigmoid(x)``, clips it to
      ``[eps, 1 - eps]`` and applies the probability formula; ``eps`` or a pair ``(lo, hi)``,
      as ``clip_epsilon`` of ``binary_cross_entropy``. Where ``lo <= sigmoid(x) <= hi`` the
      loss is the exact one above (the clip does not act); where ``sigmoid(x) < lo`` (``x =
      -inf`` included) it is the constant ``-(pw y_s log lo + (1 - y_s) log(1 - lo))``, and
      where ``sigmoid(x) > hi`` the same with ``hi``, each computed exactly. Where the clip
      acts the gradient with respect to ``input`` is 0 and that with respect to ``target`` is
      ``-(1 - e) (pw log p' - log(1 - p'))``. Default: no clipping.
    - ``average_last_axis``, ``sample_weight``, ``reduction``, ``empty_mean``: as for
      ``binary_cross_entropy`` ("weighted_mean" divides by the sum of the sample weights).
    - ``validate=False`` accepts ``target`` outside [0, 1] and any finite ``label_smoothing``;
      the formula stays finite wherever x is (no log of a negative number arises).

    Gradient with respect to ``input``: ``(1 - y_s) * sigmoid(x) - pos_weight * y_s *
    sigmoid(-x)``; with respect to ``target``: ``(1 - e) * (pos_weight * softplus(-x) -
    softplus(x))``; both times weights and the reduction's ``c_i`` (``sw_i / sum_j sw_j`` for
    "weighted_mean").
    """
    return _binary_cross_entropy_with_logits(wrt=None, **locals())[0]


# --- evaluation -------------------------------------------------------------------------------


def _targets(p: np.ndarray, target, label_smoothing, validate: bool):
    """Validated target, smoothing, and the smoothed pair (y_s, 1 - y_s) in longdouble."""
    y = check.float_array("target", target)
    check.same_shape("target", y, "input", p)
    if validate:
        check.in_unit_interval("target", y, what="target")
    e = check.smoothing(label_smoothing, validate)
    Y, E = ld(y), LD(e)
    if e == 0:
        return y, e, Y, 1 - Y
    return y, e, (1 - E) * Y + E / 2, (1 - E) * (1 - Y) + E / 2


def _finish(per_element, d_element, shape, weight, sample_weight, reduction, empty_mean,
            average_last_axis):
    """Apply element weights, the Keras last-axis mean, sample weights and the reduction.

    ``d_element`` is the derivative of each (unweighted) element loss with respect to the
    variable of interest, or None when no gradient is wanted.
    """
    w = check.broadcast("weight", check.optional_float_array("weight", weight), shape)
    if w is not None:
        per_element = mul0(ld(w), per_element)
        if d_element is not None:
            d_element = mul0(ld(w), d_element)
    per_sample, scale = per_element, None
    if average_last_axis:
        if len(shape) == 0:
            raise check.OracleInputError("average_last_axis: input is 0-d and has no last axis")
        k = shape[-1]
        per_sample = (np.sum(per_element, axis=-1, dtype=LD) / k if k else
                      np.full(shape[:-1], LD(empty_mean)))
        scale = LD(1) / k if k else LD(0)
    sw = check.broadcast(
        "sample_weight", check.optional_float_array("sample_weight", sample_weight),
        per_sample.shape,
    )
    plan = _reduction.plan(per_sample.shape, check.reduction(reduction), sw, empty_mean)
    value = plan.apply(per_sample)
    if d_element is None:
        return value, None
    if plan.empty_value is not None:  # a mean with a zero divisor: constant empty_mean
        return value, np.full(shape, 0 * plan.empty_value)
    coeff = plan.coefficients
    if scale is not None:
        coeff = coeff[..., np.newaxis] * scale
    return value, to_float64(mul0(coeff, d_element))


def _scalars_as_vectors(evaluate):
    """Evaluate a 0-d input as a one-element vector and give the results their 0-d shapes."""
    def wrapper(wrt, input, target, *args, **kwargs):
        if np.ndim(input) != 0 or np.ndim(target) != 0:
            return evaluate(wrt, input, target, *args, **kwargs)
        value, grad = evaluate(wrt, np.reshape(input, (1,)), np.reshape(target, (1,)),
                               *args, **kwargs)
        value = value.reshape(()) if np.ndim(value) else value
        return value, None if grad is None else grad.reshape(())
    return wrapper


@_scalars_as_vectors
def _binary_cross_entropy(wrt, input, target, weight, reduction, label_smoothing, *,
                          sample_weight, clip_epsilon, log_offset, log_clamp, gradient_floor,
                          average_last_axis, empty_mean, validate):
    p = check.float_array("input", input)
    if check.validate_flag(validate):
        check.in_unit_interval("input", p)
    y, e, ys, yc = _targets(p, target, label_smoothing, validate)
    off = LD(check.nonnegative_scalar("log_offset", log_offset))
    clamp = check.optional_scalar("log_clamp", log_clamp)
    floor = None if gradient_floor is None else check.nonnegative_scalar("gradient_floor",
                                                                         gradient_floor)
    bounds = clip_bounds(clip_epsilon)
    check.reduction(reduction)

    P, Q, inside = complement_pair(ld(p), bounds)
    a, b = P + off, Q + off  # the arguments of the two logs
    log_p, log_q = log_pair(P, Q, off)
    clamped_p = clamped_q = np.zeros(P.shape, dtype=bool)
    if clamp is not None:
        clamped_p, clamped_q = log_p < clamp, log_q < clamp
        log_p, log_q = np.maximum(log_p, LD(clamp)), np.maximum(log_q, LD(clamp))
    pass_p, pass_q = inside & ~clamped_p, inside & ~clamped_q
    loss = 0 - (mul0(ys, log_p) + mul0(yc, log_q))  # 0 - x: a zero loss is +0.0, not -0.0
    # Outside the domain (validate=False) a weight or a log can be negative: the terms may
    # cancel whatever the offset. Such elements are refined from their exact inputs.
    outside = (ys < 0) | (yc < 0) | (P < 0) | (P > 1)
    with np.errstate(invalid="ignore"):
        terms = np.abs(mul0(ys, log_p)) + np.abs(mul0(yc, log_q))
        cancelled = np.abs(loss) < _CANCELLATION * terms
    if off > 0:  # log(1 - p' + o) > 0 is possible: the two terms may cancel
        bad = cancelled & (log_q > 0) & ~clamped_p & ~clamped_q & ~outside
        loss[bad] = _refine.bce_log_terms(P[bad], Q[bad], ys[bad], yc[bad], float(off))
    bad = cancelled & outside
    if np.any(bad):
        first, second = _refine.exact_smoothed(y[bad], e)
        exact_p, exact_q = _refine.exact_pair(P[bad], Q[bad])
        loss[bad] = _refine.bce_log_terms(exact_p, exact_q, first, second, float(off), clamp)

    d = None
    with np.errstate(divide="ignore", invalid="ignore"):
        if wrt == "input":
            # Separate form, with 0 * (1/0) = 0 for a zero coefficient; then the fused form
            # (p' + o - y_s (1 + 2o)) / (ab), free of the y/p - (1-y)/(1-p) cancellation.
            d = -(mul0(ys, np.where(pass_p, 1 / a, 0)) - mul0(yc, np.where(pass_q, 1 / b, 0)))
            fused = pass_p & pass_q & (a > 0) & (b > 0) if floor is None else inside
            numer = a - ys * (1 + 2 * off)
            if e != 0 or off != 0:  # y_s is rounded: the subtraction may cancel
                bad = fused & (np.abs(numer) < _CANCELLATION * a)
                numer[bad] = _refine.bce_numerator(p[bad] if bounds is None else P[bad],
                                                   y[bad], e, float(off))
            if floor is None:
                d = np.where(fused, numer / (a * b), d)
                # the log of a negative number is NaN (validate=False), and so is its
                # derivative; PyTorch's backward formula (a floor) is evaluated as it stands
                d = np.where((a < 0) | (b < 0), LD(np.nan), d)
            else:  # a clamped log still passes the gradient here: PyTorch's backward
                d = np.where(inside, numer / np.maximum(a * b, LD(floor)), 0)
        elif wrt == "target":
            # Near p' = 1/2 the two logs cancel: log(a) - log(b) = log1p((a - b) / b), with
            # a - b = 2p' - 1 exact there (p' clipped or not: a clip bound near 1/2 cancels
            # as much). Elsewhere one log dominates and the difference is as accurate as the
            # logs.
            middle = (P >= 0.25) & (P <= 0.75) & ~clamped_p & ~clamped_q
            diff = np.where(middle, np.log1p((2 * P - 1) / b), log_p - log_q)
            d = mul0(-(1 - LD(e)), diff)
        elif wrt is not None:
            raise check.OracleInputError(f"wrt: {wrt!r} is not 'input' or 'target'")
    return _finish(loss, d, p.shape, weight, sample_weight, reduction, empty_mean,
                   average_last_axis)


@_scalars_as_vectors
def _binary_cross_entropy_with_logits(wrt, input, target, weight, pos_weight, reduction,
                                      label_smoothing, *, sample_weight, probability_clip,
                                      average_last_axis, empty_mean, validate):
    x = check.float_array("input", input)
    y, e, ys, yc = _targets(x, target, label_smoothing, check.validate_flag(validate))
    pw = check.broadcast("pos_weight", check.optional_float_array("pos_weight", pos_weight),
                         x.shape)
    PW = np.ones(x.shape, dtype=LD) if pw is None else ld(pw)
    bounds = clip_bounds(probability_clip)
    check.reduction(reduction)

    X = ld(x)
    sp_neg, sp_pos = softplus(-X), softplus(X)
    t_neg, t_pos = mul0(mul0(PW, ys), sp_neg), mul0(yc, sp_pos)
    loss = t_neg + t_pos
    # Terms of opposite signs need a negative target, smoothing outside [0, 1] or a negative
    # pos_weight (validate=False); where they cancel, the element is refined exactly.
    bad = _cancelled(loss, t_neg, t_pos)
    if np.any(bad):
        loss[bad] = _refine.bce_logits_terms(x[bad], y[bad], e, _pw_or_one(pw, bad))
    clipped = np.zeros(x.shape, dtype=bool)
    if bounds is not None:
        # sigmoid(x) against the bounds, comparing whichever of sigmoid(x) and
        # 1 - sigmoid(x) = sigmoid(-x) is accurate (NaN compares false: not clipped)
        below = sigmoid(X) < bounds.low
        above = np.where(X >= 0, sigmoid(-X) < bounds.low_complement, sigmoid(X) > bounds.high)
        clipped = below | above
        P_c = np.where(below, bounds.low, bounds.high).astype(LD)
        Q_c = np.where(below, 1 - bounds.low, bounds.low_complement).astype(LD)
        with np.errstate(divide="ignore"):
            log_p_c, log_q_c = log_pair(P_c, Q_c, LD(0))
        c_first, c_second = mul0(mul0(PW, ys), log_p_c), mul0(yc, log_q_c)
        loss = np.where(clipped, 0 - (c_first + c_second), loss)
        bad = clipped & _cancelled(loss, c_first, c_second)
        if np.any(bad):
            first, second = _refine.exact_smoothed(y[bad], e)
            first = [_refine._fraction(w) * f for w, f in zip(_pw_or_one(pw, bad), first,
                                                              strict=True)]
            exact_p, exact_q = _refine.exact_pair(P_c[bad], Q_c[bad])
            loss[bad] = _refine.bce_log_terms(exact_p, exact_q, first, second, 0.0)

    d = None
    if wrt == "input":
        t_pos, t_neg = mul0(yc, sigmoid(X)), mul0(mul0(PW, ys), sigmoid(-X))
        d = t_pos - t_neg
        bad = _cancelled(d, t_pos, t_neg)
        if np.any(bad) and pw is None and e == 0:
            d[bad], bad[bad] = _sigmoid_minus_target(X[bad], ld(y[bad]))
        if np.any(bad):
            d[bad] = _refine.bce_logits_grad_input(x[bad], y[bad], e, _pw_or_one(pw, bad))
        d = np.where(clipped, LD(0), d)
    elif wrt == "target":
        t_neg, t_pos = mul0(PW, sp_neg), sp_pos
        with np.errstate(invalid="ignore"):
            diff = t_neg - t_pos
        bad = np.abs(diff) < _CANCELLATION * np.maximum(np.abs(t_neg), t_pos)
        if pw is None:
            diff, bad = -X, np.zeros(x.shape, dtype=bool)  # softplus(-x) - softplus(x) = -x
        if np.any(bad):
            diff[bad] = _refine.bce_logits_softplus_difference(x[bad], _pw_or_one(pw, bad))
        if bounds is not None:
            with np.errstate(invalid="ignore"):
                diff = np.where(clipped, -(mul0(PW, log_p_c) - log_q_c), diff)
        d = mul0(1 - LD(e), diff)
    elif wrt is not None:
        raise check.OracleInputError(f"wrt: {wrt!r} is not 'input' or 'target'")
    return _finish(loss, d, x.shape, weight, sample_weight, reduction, empty_mean,
                   average_last_axis)


def _sigmoid_minus_target(X, Y):
    """``sigmoid(x) - y`` where it cancels, as ``tanh(x/2)/2 + (1/2 - y)``: both terms exact to
    a longdouble rounding (``1/2 - y`` is exact for y in [1/4, 1], Sterbenz), so the sum
    cancels only near x = logit(y), not for every small x at y = 1/2, where sigmoid(x) - 1/2
    is tanh(x/2)/2 itself. Thousands of float16 logits near 0 would otherwise go one by one
    through mpmath (seconds per call of the accuracy tables). Returns the values and where
    they still cancel."""
    half_tanh, offset = np.tanh(X / 2) / 2, LD(0.5) - Y
    d = half_tanh + offset
    return d, _cancelled(d, half_tanh, offset)


def _cancelled(result, first, second):
    """Where ``result``, computed from the two terms, is below 2**-8 of the larger one."""
    with np.errstate(invalid="ignore"):
        return np.abs(result) < _CANCELLATION * np.maximum(np.abs(first), np.abs(second))


def _pw_or_one(pw: np.ndarray | None, mask: np.ndarray) -> np.ndarray:
    return np.ones(np.count_nonzero(mask)) if pw is None else np.asarray(pw)[mask]

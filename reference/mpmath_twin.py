"""An independent 50-digit twin of the oracle, used only to test it.

The same five losses as ``reference`` (same names, signatures and keyword meanings, taken from the
oracle's docstrings, never from its code) plus ``grad``, ``value_and_grad`` and ``evaluate``,
computed one scalar at a time in mpmath:

- every float64 input is converted exactly to an mpf;
- the polynomial parts of a formula (label smoothing, ``1 - p``, ``p + log_offset``, the
  numerators of gradients) are computed exactly, so an exact zero stays exactly zero;
- exp, log, log1p and expm1 are evaluated at ``DPS = 50`` significant digits;
- every subtraction of rounded quantities goes through ``_sum``, which notes a cancellation
  that leaves fewer than 90 good bits; and every call is evaluated twice, at 50 and at 70 digits.
  If a cancellation was noted, or the two evaluations differ by more than 2**-90 relative, the
  precision is doubled until two consecutive evaluations agree with nothing noted. The result is
  thus good to far more than the 17 digits of a float64, also where a value is tiny next to the
  terms it came from (the case where two roundings could agree on a wrong zero).

Values are returned unrounded: an mpf for a reduced loss, a NumPy object array of mpf for
``reduction="none"`` and for gradients; NaN is ``mpf("nan")``. Input is not validated: every
function takes the oracle's ``validate`` keyword and ignores it, and evaluates the formula as
written also outside the domain (see the oracle's ``validate=False``): the log of a negative
number is NaN, and so is the derivative of a term that holds one.

Conventions (from the oracle's docstrings): ``0 * log 0 = 0``; ``0 * inf = 0`` for weights and
coefficients; true limits at +-inf logits; NaN propagates to exactly the losses it touches; a
mean whose divisor is zero has the value ``empty_mean`` and the gradient ``0 * empty_mean``.
"""

from __future__ import annotations

import inspect
import math

import mpmath
import numpy as np
from mpmath import mpf

DPS = 50  # the first, and usually the only needed, precision (decimal digits)
_GOOD_BITS = 90  # a result must keep this many correct bits
_NEGLIGIBLE = mpf(2) ** -1140  # an absolute error far below float64's smallest subnormal

NAN, INF, ZERO, ONE = mpf("nan"), mpf("inf"), mpf(0), mpf(1)
_INFINITIES = (INF._mpf_, (-INF)._mpf_)
_cancellations = [0]  # cancellations noted in the current evaluation (see _sum)


# --- scalar helpers ---------------------------------------------------------------------------


def _mp(x) -> mpf:
    """A float64 (or integer) as an mpf, exactly; an mpf stays as it is."""
    return x if isinstance(x, mpf) else mpf(float(x))


def _real_array(x) -> np.ndarray:
    """``x`` as float64, or as it is if it is already an object array (of mpf: the meta-tests
    differentiate the twin numerically at points that are not float64 numbers)."""
    a = np.asarray(x)
    return a if a.dtype == object else a.astype(np.float64)


def _mp_array(x, shape=None) -> np.ndarray:
    """``x`` as an object array of exact mpf, broadcast to ``shape`` if given."""
    a = _real_array(x)
    if shape is not None:
        a = np.broadcast_to(a, shape)
    out = np.empty(a.shape, dtype=object)
    for index in np.ndindex(a.shape):
        out[index] = _mp(a[index])
    return out


def _full(shape, value) -> np.ndarray:
    out = np.empty(shape, dtype=object)
    for index in np.ndindex(shape):
        out[index] = value
    return out


def _exact_sum(*terms) -> mpf:
    """Exact sum, for polynomials of float64 inputs only (their mantissas stay bounded)."""
    total = ZERO
    for t in terms:
        total = mpmath.fadd(total, t, exact=True)
    return total


def _minus(x) -> mpf:
    """``-x`` exactly (unary minus would round ``x`` to the working precision)."""
    return mpmath.fneg(x, exact=True)


def _zero_times_inf(a, b) -> bool:
    # Direct tests of the mpf representation: these run for every element of every call.
    return (not a and b._mpf_ in _INFINITIES) or (not b and a._mpf_ in _INFINITIES)


def _exact_prod(a: mpf, b: mpf) -> mpf:
    """Exact product, with ``0 * inf = 0``."""
    return ZERO if _zero_times_inf(a, b) else mpmath.fmul(a, b, exact=True)


def _times(a, b) -> mpf:
    """Rounded product with ``0 * inf = 0`` (a zero weight or coefficient cancels an infinite
    loss); NaN still propagates."""
    return ZERO if _zero_times_inf(a, b) else a * b


def _sum(terms) -> mpf:
    """The sum of rounded terms, rounded once. Where the terms cancel so far that fewer than
    ``_GOOD_BITS`` correct bits of the sum remain (and the error is not negligible at float64's
    scale), the cancellation is noted: ``_converged`` then retries with more digits."""
    terms = list(terms)
    total = mpmath.fsum(terms) if terms else ZERO
    if not mpmath.isfinite(total):
        return total
    largest = max(abs(t) for t in terms) if terms else ZERO
    error = largest * len(terms) * mpmath.ldexp(1, 4 - mpmath.mp.prec)
    if error > abs(total) * mpmath.ldexp(1, -_GOOD_BITS) and error > _NEGLIGIBLE:
        _cancellations[0] += 1
    return total


def _ratio(c, x) -> mpf:
    """``c / x`` for ``x >= 0`` with ``0 / 0 = 0`` (a zero coefficient times an infinite log
    derivative) and ``c / 0 = inf * sign(c)``."""
    if x == 0:
        return ZERO if c == 0 else mpmath.sign(c) * INF
    return c / x


def _log(x) -> mpf:
    """``log(x)`` of an exact x; NaN for a negative x, as IEEE arithmetic has it (mpmath would
    go complex).

    x is rounded to the working precision first, or near 1 its exact difference from 1 is:
    mpmath 1.3's log of an exact value whose mantissa is far longer than the working precision
    can be wrong (log(0.25 + 2**-300) comes out as 4 * 2**-300, without the log 0.25).
    """
    if x < 0:
        return NAN
    d = _exact_sum(x, -ONE)
    return mpmath.log1p(+d) if abs(d) < 0.5 else mpmath.log(+x)


def _log_ratio(num, den) -> mpf:
    """``log(num / den)`` for exact ``num`` and ``den != 0``; log1p of the exact difference
    near 1, NaN for a negative ratio."""
    if den < 0:
        num, den = _minus(num), _minus(den)
    if num < 0:
        return NAN
    if num == 0:
        return -INF
    if abs(num - den) * 2 <= den:
        return mpmath.log1p(_exact_sum(num, _minus(den)) / den)
    return mpmath.log(num / den)


def _isnan(*values) -> bool:
    return any(mpmath.isnan(v) for v in values)


def _smooth_binary(y, e) -> tuple[mpf, mpf]:
    """``(y_s, 1 - y_s)`` = ``((1 - e) y + e/2, (1 - e)(1 - y) + e/2)``, exactly."""
    half_e = mpmath.ldexp(e, -1)
    y_c = _exact_sum(ONE, -y)
    return (_exact_sum(y, _minus(_exact_prod(e, y)), half_e),
            _exact_sum(y_c, _minus(_exact_prod(e, y_c)), half_e))


def _clip_bounds(clip_epsilon):
    """``(lo, hi)`` exactly: ``(eps, 1 - eps)`` for a scalar, the pair as given, or None."""
    if clip_epsilon is None:
        return None
    if np.ndim(clip_epsilon) == 0:
        eps = _mp(clip_epsilon)
        return eps, _exact_sum(ONE, -eps)
    lo, hi = clip_epsilon
    return _mp(lo), _mp(hi)


# --- binary cross-entropy ---------------------------------------------------------------------


def _bce_element(p, y, e, bounds, o, clamp, floor=None):
    """One element of ``binary_cross_entropy``: ``(l, dl/dp, dl/dy)``::

        l     = -(y_s log a + (1 - y_s) log b),   a = p' + o,  b = 1 - p' + o,  p' = clip(p)
        dl/dp = -(y_s / a - (1 - y_s) / b) = (a - y_s (1 + 2o)) / (a b)
        dl/dy = -(1 - e) (log a - log b) = -(1 - e) log1p((2p' - 1) / b)

    Each log is raised to at least ``clamp``; a clipped p or a clamped log passes no gradient
    (the bounds themselves do). With a ``floor`` (PyTorch's backward), dl/dp is the fused
    form over ``max(a b, floor)`` wherever p is not clipped, clamp or not. A NaN p or y makes
    all three NaN.
    """
    if _isnan(p, y):
        return NAN, NAN, NAN
    ys, yc = _smooth_binary(y, e)
    inside, q = True, p
    if bounds is not None:
        lo, hi = bounds
        inside = lo <= p <= hi
        q = min(max(p, lo), hi)
    a, b = _exact_sum(q, o), _exact_sum(ONE, _minus(q), o)
    log_a, log_b = _log(a), _log(b)
    pass_a = pass_b = inside
    if clamp is not None:
        pass_a, pass_b = pass_a and log_a >= clamp, pass_b and log_b >= clamp
        log_a, log_b = max(log_a, clamp), max(log_b, clamp)
    loss = -_sum([_times(ys, log_a), _times(yc, log_b)])

    numerator = _exact_sum(a, _minus(_exact_prod(ys, _exact_sum(ONE, 2 * o))))
    if floor is not None:
        denominator = max(_exact_prod(a, b), floor)
        if not inside:
            d_p = ZERO
        elif denominator > 0:
            d_p = numerator / denominator
        else:
            d_p = NAN if numerator == 0 else mpmath.inf * mpmath.sign(numerator)
    elif a < 0 or b < 0:  # the log of a negative number is NaN, and so is its derivative
        d_p = NAN
    elif pass_a and pass_b and a > 0 and b > 0:
        d_p = numerator / _exact_prod(a, b)
    else:
        d_p = _sum([_ratio(yc, b) if pass_b else ZERO, -_ratio(ys, a) if pass_a else ZERO])

    if (clamp is None or (pass_a and pass_b)) and a > 0 and b > 0:
        difference = _log_ratio(a, b)
    else:
        difference = _sum([log_a, -log_b])
    d_y = -_times(_exact_sum(ONE, -e), difference)
    return loss, d_p, d_y


def _bce_logits_element(x, y, e, pw, bounds=None):
    """One element of ``binary_cross_entropy_with_logits``: ``(l, dl/dx, dl/dy)``::

        l     = pw y_s softplus(-x) + (1 - y_s) softplus(x)
        dl/dx = (1 - y_s) sigmoid(x) - pw y_s sigmoid(-x)
              = ((1 - y_s) - pw y_s E) / (1 + E)     for x >= 0, E = e^-|x|
              = -(pw y_s - (1 - y_s) E) / (1 + E)    for x < 0
        dl/dy = (1 - e) (pw softplus(-x) - softplus(x))
              = (1 - e) ((pw - 1) L - x)             for x >= 0, L = log1p(E)
              = (1 - e) (pw |x| + (pw - 1) L)        for x < 0

    using softplus(+-|x|) = max(+-|x|, 0) + L; near x = 0 the numerators use E = 1 + expm1(-|x|)
    with the exact part ``(1 - y_s) - pw y_s`` apart. The limits at x = +-inf follow (E = 0).

    With ``bounds`` (lo, hi) (``probability_clip``): where sigmoid(x) < lo (resp. > hi), p' is
    that bound and ``l = -(pw y_s log p' + (1 - y_s) log(1 - p'))``, ``dl/dx = 0``,
    ``dl/dy = -(1 - e) (pw log p' - log(1 - p'))``; elsewhere the above.
    """
    if _isnan(x, y, pw):
        return NAN, NAN, NAN
    ys, yc = _smooth_binary(y, e)
    P = _exact_prod(pw, ys)
    if bounds is not None:
        lo, hi = bounds
        s = ONE / (ONE + mpmath.exp(-x))  # sigmoid(x): 0 at -inf, 1 at +inf
        if s < lo or s > hi:
            q = lo if s < lo else hi
            log_a, log_b = _log(q), _log(_exact_sum(ONE, -q))
            loss = -_sum([_times(P, log_a), _times(yc, log_b)])
            d_y = -_times(_exact_sum(ONE, -e), _sum([_times(pw, log_a), -log_b]))
            return loss, ZERO, d_y
    E = mpmath.exp(-abs(x))
    L = mpmath.log1p(E)  # softplus(-|x|)
    sp_pos, sp_neg = (abs(x) + L, L) if x >= 0 else (L, abs(x) + L)
    loss = _sum([_times(P, sp_neg), _times(yc, sp_pos)])  # a negative weight can cancel

    big, small, sign = (yc, P, 1) if x >= 0 else (P, yc, -1)
    if abs(x) < 1:
        numerator = _sum([_exact_sum(big, _minus(small)), -small * mpmath.expm1(-abs(x))])
    else:
        numerator = _sum([big, -_times(small, E)])
    d_x = sign * numerator / (1 + E)

    pw_minus_1 = _exact_sum(pw, -ONE)
    if x >= 0:
        difference = _sum([_times(pw_minus_1, L), -x])
    else:
        difference = _sum([_exact_prod(pw, -x), _times(pw_minus_1, L)])
    d_y = _times(_exact_sum(ONE, -e), difference)
    return loss, d_x, d_y


def _finish_elements(loss, grads, weight, sample_weight, reduction, empty_mean,
                     average_last_axis):
    """Element weights, the Keras last-axis mean, sample weights and the reduction: the result
    of ``evaluate``. ``grads`` maps an argument name to the element-wise derivatives of the
    unweighted losses.
    """
    shape = loss.shape
    if weight is not None:
        w = _mp_array(weight, shape)
        loss = _map(_times, w, loss)
        grads = {name: _map(_times, w, g) for name, g in grads.items()}
    if average_last_axis:
        k, sample_shape = shape[-1], shape[:-1]
        per_sample = np.empty(sample_shape, dtype=object)
        for i in np.ndindex(sample_shape):
            per_sample[i] = (_sum(loss[i]) / k) if k else _mp(empty_mean)
    else:
        k, per_sample = 1, loss
    value, coefficient, empty, losses = _reduce(per_sample, reduction, sample_weight, empty_mean)
    out = {"value": value, "losses": losses}
    for name, g in grads.items():
        out[name] = np.empty(shape, dtype=object)
        for index in np.ndindex(shape):
            c = coefficient[index[:-1] if average_last_axis else index]
            out[name][index] = c if empty else _times(c, g[index]) / k
    return out


# --- reductions -------------------------------------------------------------------------------


def _reduce(per_sample, reduction, sample_weight, empty_mean, active=None, mean_weights=None):
    """``(value, c, empty, L)``: the reduced value, ``c_i = d value / d l_i`` per sample, and the
    weighted losses ``L`` (what ``reduction="none"`` returns)::

        L_i = sample_weight_i * l_i;   none: L;  sum: sum_i L_i;  mean: sum_i L_i / D

    ``D`` is ``sum over active i of sample_weight_i * mean_weights_i`` for a weighted "mean",
    ``sum over active i of sample_weight_i * v_i`` for "weighted_mean" (the oracle's
    ``reference._reduction``: the weighted average, Keras's "mean_with_sample_weight"; v_i is
    ``mean_weights_i`` where the loss has them, the class weight of a class index, else 1),
    and the number of active samples for the other means. ``D = 0`` (``empty``) gives
    ``empty_mean``, and the gradient is ``c = 0 * empty_mean`` everywhere, whatever the
    element's own derivative.
    """
    shape = per_sample.shape
    sw = _full(shape, ONE) if sample_weight is None else _mp_array(sample_weight, shape)
    weighted = _map(_times, sw, per_sample)
    if reduction == "none":
        return weighted, sw, False, weighted
    total = _sum(weighted.flat)
    if reduction == "sum":
        return total, sw, False, weighted
    if active is None:
        active = np.ones(shape, dtype=bool)
    if reduction == "weighted_mean" or (reduction == "mean" and mean_weights is not None):
        v = _full(shape, ONE) if mean_weights is None else mean_weights
        divisor = _exact_sum(*(_exact_prod(sw[i], v[i]) for i in np.ndindex(shape) if active[i]))
    else:
        divisor = mpf(int(np.count_nonzero(active)))
    if divisor == 0:
        empty = _mp(empty_mean)
        return empty, _full(shape, 0 * empty), True, weighted
    return total / divisor, _map(lambda s: s / divisor, sw), False, weighted


def _map(f, *arrays) -> np.ndarray:
    out = np.empty(arrays[0].shape, dtype=object)
    for index in np.ndindex(out.shape):
        out[index] = f(*(a[index] for a in arrays))
    return out


# --- class-axis losses ------------------------------------------------------------------------


def _cross_entropy_row(z, A, W, keep, want_target):
    """One sample of ``cross_entropy``: ``(l, dl/dz, dl/dt)`` with ``A_j = C weight_j q_j``::

        l       = (1/C) sum_j A_j r_j,   r_j = logsumexp(z) - z_j = (m - z_j) + log1p(V)
        dl/dz_k = (softmax_k sum_j A_j - A_k) / C
                = ((sum_j A_j - C A_k) + (M_k sum_j A_j - A_k sum_j M_j)) / (C Z)
        dl/dt_j = (1 - e) weight_j r_j

    where m = max z at class k*, E_j = e^(z_j - m), M_j = E_j - 1 = expm1(z_j - m),
    V = sum over j != k* of E_j and Z = 1 + V. One +inf logit makes the softmax one-hot; two, or
    all -inf, or a NaN make the row NaN.
    """
    C = len(z)
    n_top = sum(1 for v in z if v == INF)
    if _isnan(*z) or n_top > 1 or all(v == -INF for v in z):
        return NAN, [NAN] * C, [NAN] * C if want_target else None
    sum_A = _exact_sum(*A)
    if n_top == 1:
        E = [ONE if v == INF else ZERO for v in z]
        Z, r = ONE, [ZERO if v == INF else INF for v in z]
        d_z = [_exact_sum(_exact_prod(E[k], sum_A), _minus(A[k])) / C for k in range(C)]
    else:
        m = max(z)
        top = z.index(m)
        shifted = [mpmath.fsub(v, m, exact=True) for v in z]
        E = [mpmath.exp(s) for s in shifted]
        M = [mpmath.expm1(s) if abs(s) < 1 else E[j] - 1 for j, s in enumerate(shifted)]
        V = mpmath.fsum(E[j] for j in range(C) if j != top)
        Z, log_Z = 1 + V, mpmath.log1p(V)
        r = [mpmath.fsub(m, v, exact=True) + log_Z for v in z]
        sum_M, CZ = mpmath.fsum(M), C * Z
        # A class without target mass has the plain softmax_k sum_j A_j, no cancellation.
        d_z = [sum_A * E[k] / CZ if not A[k] else
               _sum([_exact_sum(sum_A, _minus(mpmath.fmul(C, A[k], exact=True))),
                     M[k] * sum_A, -(A[k] * sum_M)]) / CZ for k in range(C)]
    loss = _sum(_times(a, rj) for a, rj in zip(A, r, strict=True)) / C  # negative A_j can cancel
    d_t = [_times(keep, _times(W[j], r[j])) for j in range(C)] if want_target else None
    return loss, d_z, d_t


def _categorical_row(p, Q, keep, bounds, o, renormalize):
    """One sample of ``categorical_cross_entropy``: ``(l, dl/dp, dl/dt)`` with ``Q_j = C q_j``::

        l = -(1/C) sum_j Q_j log(p''_j + o),   p' = p / S (S = sum p, or 1),  p'' = clip(p')

    Without renormalisation ``dl/dp_k = -q_k / (p''_k + o)``; with it, by the chain rule,
    ``C S dl/dp_k = sum_j Q_j p_j / (p_j + o S) - Q_k S / (p_k + o S)`` over unclipped j and k
    (for o = 0: ``(p_k sum_j Q_j - Q_k S) / p_k``, where a zero p_j contributes its limit Q_j).
    ``dl/dt_j = -(1 - e) log(p''_j + o)``. Clipped classes pass no gradient; the bounds do.
    """
    C = len(p)
    if renormalize == "after_clip":
        return _categorical_row_clip_first(p, Q, keep, bounds, o)
    S = ONE
    if renormalize:
        S = NAN if _isnan(*p) else _exact_sum(*p)
        if _isnan(S) or S == 0:  # 0/0: nothing to renormalise
            return NAN, [NAN] * C, [NAN] * C
    lo, hi = bounds if bounds is not None else (None, None)
    inside, logs = [], []
    for pj in p:
        if _isnan(pj):
            inside.append(None)
            logs.append(NAN)
        elif lo is not None and _below(pj, lo, S):
            inside.append(False)
            logs.append(_log_ratio(_exact_sum(lo, o), ONE))
        elif hi is not None and _below(_minus(pj), _minus(hi), S):
            inside.append(False)
            logs.append(_log_ratio(_exact_sum(hi, o), ONE))
        else:
            inside.append(True)
            logs.append(_log_ratio(_exact_sum(pj, _exact_prod(o, S)), S))
    loss = -_sum(_times(q, lg) for q, lg in zip(Q, logs, strict=True)) / C
    d_t = [-_times(keep, lg) for lg in logs]

    if not renormalize:
        d_p = [NAN if ok is None or (ok and _isnan(lg)) else
               -_ratio(q, _exact_prod(mpf(C), _exact_sum(pj, o))) if ok else ZERO
               for pj, q, ok, lg in zip(p, Q, inside, logs, strict=True)]
        return loss, d_p, d_t
    if _isnan(*logs):  # a log of a negative p''_j, which depends on every p_k through S
        return loss, [NAN] * C, d_t

    passing = [j for j in range(C) if inside[j]]
    CS = _exact_prod(mpf(C), S)
    d_p = []
    if o == 0:
        sum_Q = _exact_sum(*(Q[j] for j in passing))
        for k in range(C):
            if not inside[k] or (p[k] == 0 and Q[k] == 0):
                d_p.append(sum_Q / CS)
            elif p[k] == 0:
                d_p.append(-INF)
            else:
                numerator = _exact_sum(_exact_prod(p[k], sum_Q), _minus(_exact_prod(Q[k], S)))
                d_p.append(numerator / _exact_prod(CS, p[k]))
        return loss, d_p, d_t
    oS = _exact_prod(o, S)
    common = _sum(_exact_prod(Q[j], p[j]) / _exact_sum(p[j], oS) for j in passing)
    for k in range(C):
        own = _exact_prod(Q[k], S) / _exact_sum(p[k], oS) if inside[k] else ZERO
        d_p.append(_sum([common, -own]) / CS)
    return loss, d_p, d_t


def _categorical_row_clip_first(p, Q, keep, bounds, o):
    """``_categorical_row`` with ``renormalize="after_clip"``: the clip acts on p, and the
    clipped row is divided by its own sum::

        l = -(1/C) sum_j Q_j log(c_j / S + o),   c = clip(p),  S = sum c

    ``C S dl/dc_k = sum_j Q_j c_j / (c_j + o S) - Q_k S / (c_k + o S)``, the sum over every j (a
    clipped c_j is a constant in it, but it is still in S); a zero c_j with o = 0 contributes
    its limit Q_j, and its own term is -inf (0 where Q_k = 0 too). ``dl/dp_k`` is that where p_k
    is inside the bounds (inclusive), 0 where the clip acts.
    """
    C = len(p)
    if _isnan(*p):
        return NAN, [NAN] * C, [NAN] * C
    lo, hi = bounds if bounds is not None else (None, None)
    c, inside = [], []
    for pj in p:
        if lo is not None and pj < lo:
            c.append(lo)
            inside.append(False)
        elif hi is not None and pj > hi:
            c.append(hi)
            inside.append(False)
        else:
            c.append(pj)
            inside.append(True)
    S = _exact_sum(*c)
    if S == 0:
        return NAN, [NAN] * C, [NAN] * C
    oS = _exact_prod(o, S)
    logs = [_log_ratio(_exact_sum(cj, oS), S) for cj in c]
    loss = -_sum(_times(q, lg) for q, lg in zip(Q, logs, strict=True)) / C
    d_t = [-_times(keep, lg) for lg in logs]
    if _isnan(*logs):  # a log of a negative p''_j, which depends on every p_k through S
        return loss, [NAN] * C, d_t
    CS = _exact_prod(mpf(C), S)
    shares = []  # Q_j c_j / (c_j + o S)
    for cj, q in zip(c, Q, strict=True):
        if q == 0:
            shares.append(ZERO)
        elif _exact_sum(cj, oS) == 0:
            shares.append(q)  # the limit of Q_j c_j / c_j
        else:
            shares.append(_exact_prod(q, cj) / _exact_sum(cj, oS))
    common = _sum(shares)
    d_p = []
    for k in range(C):
        if not inside[k]:
            d_p.append(ZERO)
        elif Q[k] == 0:
            d_p.append(common / CS)
        elif _exact_sum(c[k], oS) == 0:
            d_p.append(-INF)
        else:
            own = _exact_prod(Q[k], S) / _exact_sum(c[k], oS)
            d_p.append(_sum([common, -own]) / CS)
    return loss, d_p, d_t


def _below(x, bound, S) -> bool:
    """``x / S < bound`` for exact x, bound and S != 0, without rounding a quotient."""
    return x < _exact_prod(bound, S) if S > 0 else x > _exact_prod(bound, S)


def _smoothed_classes(n_classes, e, index=None, probabilities=None) -> list:
    """One sample's ``Q_j = C ((1 - e) q_j + e / C) = C (1 - e) q_j + e``, exactly, for a class
    index (one-hot q) or a row of probabilities."""
    keep_C = _exact_prod(mpf(n_classes), _exact_sum(ONE, _minus(e)))
    if index is not None:
        Q = [e] * n_classes
        Q[index] = _exact_sum(keep_C, e)
        return Q
    return [_exact_sum(_exact_prod(keep_C, t), e) for t in probabilities]


def _sample_target(t_row, indices, n_classes, e, ignore_index):
    """One sample's class index (None for a probability row) and its smoothed distribution
    ``Q`` (None where the class index is ``ignore_index``: that sample is left out)."""
    if not indices:
        return None, _smoothed_classes(n_classes, e, probabilities=[_mp(v) for v in t_row])
    y = int(t_row)
    if ignore_index is not None and y == ignore_index:
        return y, None
    return y, _smoothed_classes(n_classes, e, index=y)


def _class_layout(input, target, class_axis):
    """Input rows with the class axis last, the per-sample shape, and the target: class indices
    (shaped like the samples) or probability rows (class axis last)."""
    rows = np.moveaxis(_real_array(input), class_axis, -1)
    t = np.asarray(target)
    indices = t.dtype.kind in "iu"
    t_rows = t if indices else np.moveaxis(_real_array(t), class_axis, -1)
    return rows, rows.shape[:-1], t_rows, indices


def _scale_rows(d, coefficient, empty, class_axis) -> np.ndarray:
    """Per-sample derivatives times ``c_i``, with the class axis moved back."""
    out = np.empty(d.shape, dtype=object)
    for index in np.ndindex(d.shape):
        c = coefficient[index[:-1]]
        out[index] = c if empty else _times(c, d[index])
    return np.moveaxis(out, -1, class_axis)


# --- evaluation of each loss ------------------------------------------------------------------


def _eval_binary_cross_entropy(input, target, weight, reduction, label_smoothing, sample_weight,
                               clip_epsilon, log_offset, log_clamp, gradient_floor,
                               average_last_axis, empty_mean):
    p = _mp_array(input)
    y = _mp_array(target, p.shape)
    e, o = _mp(label_smoothing), _mp(log_offset)
    clamp = None if log_clamp is None else _mp(log_clamp)
    floor = None if gradient_floor is None else _mp(gradient_floor)
    bounds = _clip_bounds(clip_epsilon)
    loss, d_p, d_y = (np.empty(p.shape, dtype=object) for _ in range(3))
    for i in np.ndindex(p.shape):
        loss[i], d_p[i], d_y[i] = _bce_element(p[i], y[i], e, bounds, o, clamp, floor)
    return _finish_elements(loss, {"input": d_p, "target": d_y}, weight, sample_weight,
                            reduction, empty_mean, average_last_axis)


def _eval_binary_cross_entropy_with_logits(input, target, weight, pos_weight, reduction,
                                           label_smoothing, sample_weight, probability_clip,
                                           average_last_axis, empty_mean):
    x = _mp_array(input)
    y = _mp_array(target, x.shape)
    pw = _full(x.shape, ONE) if pos_weight is None else _mp_array(pos_weight, x.shape)
    e = _mp(label_smoothing)
    bounds = _clip_bounds(probability_clip)
    loss, d_x, d_y = (np.empty(x.shape, dtype=object) for _ in range(3))
    for i in np.ndindex(x.shape):
        loss[i], d_x[i], d_y[i] = _bce_logits_element(x[i], y[i], e, pw[i], bounds)
    return _finish_elements(loss, {"input": d_x, "target": d_y}, weight, sample_weight,
                            reduction, empty_mean, average_last_axis)


def _eval_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing,
                        sample_weight, empty_mean):
    class_axis = 0 if np.ndim(input) == 1 else 1
    rows, samples, t_rows, indices = _class_layout(input, target, class_axis)
    C = rows.shape[-1]
    W = [ONE] * C if weight is None else list(_mp_array(weight))
    e = _mp(label_smoothing)
    keep = _exact_sum(ONE, -e)
    loss = np.empty(samples, dtype=object)
    d_z = _full(rows.shape, ZERO)
    d_t = None if indices else _full(rows.shape, ZERO)
    active = np.ones(samples, dtype=bool)
    mean_weights = _full(samples, ZERO)
    for i in np.ndindex(samples):
        y, Q = _sample_target(t_rows[i], indices, C, e, ignore_index)
        if Q is None:
            active[i], loss[i] = False, ZERO  # loss 0, gradient 0, out of the divisor
            continue
        if indices:
            mean_weights[i] = W[y]
        A = Q if weight is None else [_exact_prod(W[j], Q[j]) for j in range(C)]
        loss[i], dz_row, dt_row = _cross_entropy_row([_mp(v) for v in rows[i]], A, W, keep,
                                                     want_target=not indices)
        for j in range(C):
            d_z[*i, j] = dz_row[j]
            if d_t is not None:
                d_t[*i, j] = dt_row[j]
    value, c, empty, losses = _reduce(loss, reduction, sample_weight, empty_mean, active,
                                      mean_weights if indices else None)
    return {"value": value, "losses": losses, "input": _scale_rows(d_z, c, empty, class_axis),
            "target": None if d_t is None else _scale_rows(d_t, c, empty, class_axis)}


def _eval_nll_loss(input, target, weight, ignore_index, reduction, sample_weight, empty_mean):
    class_axis = 0 if np.ndim(input) == 1 else 1
    rows, samples, t_rows, _ = _class_layout(input, target, class_axis)
    C = rows.shape[-1]
    W = [ONE] * C if weight is None else list(_mp_array(weight))
    loss = np.empty(samples, dtype=object)
    d_x = _full(rows.shape, ZERO)
    active = np.ones(samples, dtype=bool)
    mean_weights = _full(samples, ZERO)
    for i in np.ndindex(samples):
        y = int(t_rows[i])
        if ignore_index is not None and y == ignore_index:
            active[i], loss[i] = False, ZERO
            continue
        loss[i] = -_times(W[y], _mp(rows[*i, y]))
        d_x[*i, y] = -W[y]
        mean_weights[i] = W[y]
    value, c, empty, losses = _reduce(loss, reduction, sample_weight, empty_mean, active,
                                      mean_weights)
    return {"value": value, "losses": losses, "input": _scale_rows(d_x, c, empty, class_axis),
            "target": None}


def _eval_categorical_cross_entropy(input, target, reduction, label_smoothing, axis,
                                    ignore_index, clip_epsilon, log_offset, renormalize,
                                    sample_weight, empty_mean):
    class_axis = axis % np.ndim(input)
    rows, samples, t_rows, indices = _class_layout(input, target, class_axis)
    C = rows.shape[-1]
    e, o = _mp(label_smoothing), _mp(log_offset)
    keep = _exact_sum(ONE, -e)
    bounds = _clip_bounds(clip_epsilon)
    loss = np.empty(samples, dtype=object)
    d_p, d_t = _full(rows.shape, ZERO), _full(rows.shape, ZERO)
    active = np.ones(samples, dtype=bool)
    for i in np.ndindex(samples):
        _, Q = _sample_target(t_rows[i], indices, C, e, ignore_index)
        if Q is None:
            active[i], loss[i] = False, ZERO  # loss 0, gradient 0, out of the divisor
            continue
        loss[i], dp_row, dt_row = _categorical_row([_mp(v) for v in rows[i]], Q, keep, bounds,
                                                   o, renormalize if renormalize ==
                                                   "after_clip" else bool(renormalize))
        for j in range(C):
            d_p[*i, j], d_t[*i, j] = dp_row[j], dt_row[j]
    value, c, empty, losses = _reduce(loss, reduction, sample_weight, empty_mean, active)
    return {"value": value, "losses": losses, "input": _scale_rows(d_p, c, empty, class_axis),
            "target": None if indices else _scale_rows(d_t, c, empty, class_axis)}


# --- precision control ------------------------------------------------------------------------


def _ladder() -> tuple[int, ...]:
    """Decimal digits of the successive evaluations: DPS, DPS + 20, then doubling. The top
    two rungs (1120 and 2240 digits) settle an exact zero from terms as large as 1e647 (a
    gradient of subnormal probabilities), whose residue is 10**(647 - digits)."""
    return (DPS, DPS + 20, 2 * DPS + 40, 4 * DPS + 80, 8 * DPS + 160, 16 * DPS + 320,
            32 * DPS + 640)


def _converged(evaluate_once):
    """Evaluate at the digits of ``_ladder()`` until two consecutive evaluations agree and the
    later one noted no cancellation (at the top of the ladder, agreement is enough: its
    absolute error is then far below float64's resolution)."""
    previous = None
    ladder = _ladder()
    for dps in ladder:
        _cancellations[0] = 0
        with mpmath.workdps(dps):
            current = evaluate_once()
        resolved = _cancellations[0] == 0 or dps == ladder[-1]
        if previous is not None and resolved and _agree(previous, current):
            return current
        previous = current
    raise ArithmeticError(f"mpmath twin: evaluations up to {ladder[-1]} digits disagree")


def _agree(a, b) -> bool:
    if isinstance(a, dict):
        return all(_agree(a[key], b[key]) for key in a)
    if a is None:
        return b is None
    if isinstance(a, np.ndarray):
        return all(_agree(u, v) for u, v in zip(a.flat, b.flat, strict=True))
    if a == b:
        return True
    if mpmath.isnan(a) or mpmath.isnan(b):
        return mpmath.isnan(a) and mpmath.isnan(b)
    if mpmath.isinf(a) or mpmath.isinf(b):
        return False
    difference = abs(a - b)
    return difference <= abs(b) * mpmath.ldexp(1, -_GOOD_BITS) or difference <= _NEGLIGIBLE


# --- the public losses ------------------------------------------------------------------------


def binary_cross_entropy(input, target, weight=None, reduction="mean", label_smoothing=0.0, *,
                         sample_weight=None, clip_epsilon=None, log_offset=0.0, log_clamp=None,
                         gradient_floor=None, average_last_axis=False, empty_mean=math.nan,
                         validate=True):
    """``-(y_s log(p' + o) + (1 - y_s) log(1 - p' + o)) * weight``, reduced; see
    ``_bce_element``."""
    return evaluate("binary_cross_entropy", **locals())["value"]


def binary_cross_entropy_with_logits(input, target, weight=None, pos_weight=None,
                                     reduction="mean", label_smoothing=0.0, *, sample_weight=None,
                                     probability_clip=None, average_last_axis=False,
                                     empty_mean=math.nan, validate=True):
    """``(pw y_s softplus(-x) + (1 - y_s) softplus(x)) * weight``, reduced; see
    ``_bce_logits_element``."""
    return evaluate("binary_cross_entropy_with_logits", **locals())["value"]


def cross_entropy(input, target, weight=None, ignore_index=None, reduction="mean",
                  label_smoothing=0.0, *, sample_weight=None, empty_mean=math.nan,
                  validate=True):
    """``sum_j weight_j q_ij (logsumexp(z_i) - z_ij)`` per sample, reduced; see
    ``_cross_entropy_row``."""
    return evaluate("cross_entropy", **locals())["value"]


def nll_loss(input, target, weight=None, ignore_index=None, reduction="mean", *,
             sample_weight=None, empty_mean=math.nan, validate=True):
    """``-weight[y_i] * input[i, y_i]`` per sample, reduced; gradient ``-c_i weight[y_i]`` at the
    target class."""
    return evaluate("nll_loss", **locals())["value"]


def categorical_cross_entropy(input, target, reduction="mean", label_smoothing=0.0, *, axis=-1,
                              ignore_index=None, clip_epsilon=None, log_offset=0.0,
                              renormalize=False, sample_weight=None, empty_mean=math.nan,
                              validate=True):
    """``-sum_j q_ij log(p''_ij + o)`` per sample, reduced; see ``_categorical_row``. A sample
    whose class index is ``ignore_index`` costs 0, passes no gradient and leaves the mean's
    divisor."""
    return evaluate("categorical_cross_entropy", **locals())["value"]


def grad(name, *args, wrt="input", **kwargs):
    """Gradient of the reduced loss (of the sum of the losses for ``reduction="none"``) with
    respect to ``wrt``, as an object array of mpf shaped like that argument."""
    return value_and_grad(name, *args, wrt=wrt, **kwargs)[1]


def value_and_grad(name, *args, wrt="input", **kwargs):
    """``(value, gradient with respect to wrt)`` from one evaluation."""
    result = evaluate(name, *args, **kwargs)
    if result.get(wrt) is None:
        raise ValueError(f"{name} has no gradient with respect to {wrt!r} for these arguments")
    return result["value"], result[wrt]


def evaluate(name, *args, **kwargs) -> dict:
    """Everything about loss ``name`` at these arguments, from one converged evaluation::

        {"value": the loss with the given reduction,
         "losses": the per-sample losses, as reduction="none" would return them,
         "input": the gradient wrt the input, "target": wrt the target (None for indices)}
    """
    bound = inspect.signature(LOSSES[name]).bind(*args, **kwargs)
    bound.apply_defaults()
    del bound.arguments["validate"]  # the twin evaluates the formula as written, always
    evaluator = _EVALUATORS[name]
    return _converged(lambda: evaluator(**bound.arguments))


LOSSES = {f.__name__: f for f in (binary_cross_entropy, binary_cross_entropy_with_logits,
                                  cross_entropy, nll_loss, categorical_cross_entropy)}
_EVALUATORS = {
    "binary_cross_entropy": _eval_binary_cross_entropy,
    "binary_cross_entropy_with_logits": _eval_binary_cross_entropy_with_logits,
    "cross_entropy": _eval_cross_entropy,
    "nll_loss": _eval_nll_loss,
    "categorical_cross_entropy": _eval_categorical_cross_entropy,
}


# --- forward-mode and second-order derivatives -------------------------------------------------
#
# ``evaluate_jvp`` sums the twin's own gradient times the tangent per sample (exact products,
# summed to 80 digits). ``evaluate_hvp`` evaluates the closed-form Hessian of each loss, derived
# here from the formulas above (not from the oracle's code), one scalar at a time; the tests
# check it against central differences of the oracle's gradient. Both return the result and its
# scale: the sum of the absolute values of the terms (|g_k t_k|; |H| |v| term by term).


def _sample_axis(name, shape, arguments):
    """The axis summed per sample by a jvp with reduction="none" (None: each element alone)."""
    if name.startswith("binary"):
        return len(shape) - 1 if arguments.get("average_last_axis") else None
    if name == "categorical_cross_entropy":
        return arguments.get("axis", -1) % len(shape)
    return 0 if len(shape) == 1 else 1


def evaluate_jvp(name, *args, tangent, wrt="input", **kwargs) -> dict:
    """``{"jvp": d/de loss(wrt + e tangent), "scale": sum |g_k t_k|, "gradient": max |g_k|}``
    per sample (object arrays with reduction="none"), or over everything once reduced."""
    bound = inspect.signature(LOSSES[name]).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    g = evaluate(name, **arguments)[wrt]
    if g is None:
        raise ValueError(f"{name} has no gradient with respect to {wrt!r} for these arguments")
    t = _mp_array(tangent, g.shape)
    products = _map(_exact_prod, g, t)
    if arguments["reduction"] != "none":
        return {"jvp": _fsum(products.flat), "scale": _fsum(abs(v) for v in products.flat),
                "gradient": max((abs(v) for v in g.flat), default=ZERO)}
    axis = _sample_axis(name, g.shape, arguments)
    if axis is None:
        return {"jvp": products, "scale": _map(abs, products), "gradient": _map(abs, g)}
    rows, g_rows = np.moveaxis(products, axis, -1), np.moveaxis(g, axis, -1)
    out = {key: np.empty(rows.shape[:-1], dtype=object) for key in ("jvp", "scale", "gradient")}
    for i in np.ndindex(rows.shape[:-1]):
        out["jvp"][i] = _fsum(rows[i])
        out["scale"][i] = _fsum(abs(v) for v in rows[i])
        out["gradient"][i] = max((abs(v) for v in g_rows[i]), default=ZERO)
    return out


def _fsum(values) -> mpf:
    """The sum of the products, to 80 digits (NaN and infinities as IEEE sums have them)."""
    values = list(values)
    with mpmath.workdps(80):  # the gradient is good to 90 bits; exactness would cost memory
        return mpmath.fsum(values) if values else ZERO


def jvp(name, *args, tangent, wrt="input", **kwargs):
    """The jvp of ``evaluate_jvp``."""
    return evaluate_jvp(name, *args, tangent=tangent, wrt=wrt, **kwargs)["jvp"]


def _bce_curvature(p, y, e, bounds, o, clamp, floor):
    """``(h, |h|)``: d2l/dp2 of one ``binary_cross_entropy`` element. From dl/dp = -(y_s / a -
    (1 - y_s) / b): h = y_s / a^2 + (1 - y_s) / b^2, a term whose log is clamped having none,
    0 where p is clipped. With a ``floor``, the derivative of (a - y_s (1 + 2o)) / max(ab,
    floor): the same h where ab >= floor > 0 (that quotient is the gradient above, since
    a + b = 1 + 2o), 1 / floor below it; with floor 0 the same h, NaN where ab < 0 or the
    gradient is 0/0."""
    if _isnan(p, y):
        return NAN, NAN
    ys, yc = _smooth_binary(y, e)
    inside, q = True, p
    if bounds is not None:
        lo, hi = bounds
        inside = lo <= p <= hi
        q = min(max(p, lo), hi)
    if not inside:
        return ZERO, ZERO
    a, b = _exact_sum(q, o), _exact_sum(ONE, _minus(q), o)
    pass_a = pass_b = True
    if clamp is not None and floor is None:
        pass_a, pass_b = _log(a) >= clamp, _log(b) >= clamp
    a2, b2 = _exact_prod(a, a), _exact_prod(b, b)
    first = _ratio(ys, a2) if pass_a else ZERO
    second = _ratio(yc, b2) if pass_b else ZERO
    size = (_ratio(abs(ys), a2) if pass_a else ZERO) + (_ratio(abs(yc), b2) if pass_b else ZERO)
    if floor is None:
        if a < 0 or b < 0:
            return NAN, NAN
        return _sum([first, second]), size
    ab = _exact_prod(a, b)
    if floor > 0:
        return (_sum([first, second]), size) if ab >= floor else (1 / floor, 1 / floor)
    numerator = _exact_sum(a, _minus(_exact_prod(ys, _exact_sum(ONE, 2 * o))))
    if ab < 0 or (ab == 0 and numerator == 0):
        return NAN, NAN
    return _sum([first, second]), size


def _bce_logits_curvature(x, y, e, pw, bounds):
    """``(h, |h|)``: d2l/dx2 of one ``binary_cross_entropy_with_logits`` element, the derivative
    of (1 - y_s) sigmoid(x) - pw y_s sigmoid(-x): (pw y_s + 1 - y_s) E / (1 + E)^2 with
    E = e^-|x| (sigmoid(x) sigmoid(-x)); 0 where the probability clip acts."""
    if _isnan(x, y, pw):
        return NAN, NAN
    ys, yc = _smooth_binary(y, e)
    P = _exact_prod(pw, ys)
    if bounds is not None:
        lo, hi = bounds
        s = ONE / (ONE + mpmath.exp(-x))
        if s < lo or s > hi:
            return ZERO, ZERO
    E = mpmath.exp(-abs(x))
    bell = E / (1 + E) ** 2
    return _sum([P, yc]) * bell, (abs(P) + abs(yc)) * bell


def _eval_hvp_binary(name, arguments, vector):
    if name == "binary_cross_entropy":
        p = _mp_array(arguments["input"])
        y = _mp_array(arguments["target"], p.shape)
        e, o = _mp(arguments["label_smoothing"]), _mp(arguments["log_offset"])
        clamp = None if arguments["log_clamp"] is None else _mp(arguments["log_clamp"])
        floor = (None if arguments["gradient_floor"] is None
                 else _mp(arguments["gradient_floor"]))
        bounds = _clip_bounds(arguments["clip_epsilon"])

        def curvature(i):
            return _bce_curvature(p[i], y[i], e, bounds, o, clamp, floor)
    else:
        p = _mp_array(arguments["input"])
        y = _mp_array(arguments["target"], p.shape)
        pos = arguments["pos_weight"]
        pw = _full(p.shape, ONE) if pos is None else _mp_array(pos, p.shape)
        e, bounds = _mp(arguments["label_smoothing"]), _clip_bounds(arguments["probability_clip"])

        def curvature(i):
            return _bce_logits_curvature(p[i], y[i], e, pw[i], bounds)
    v = _mp_array(vector, p.shape)
    hv, size = (np.empty(p.shape, dtype=object) for _ in range(2))
    for i in np.ndindex(p.shape):
        h, h_size = curvature(i)
        hv[i], size[i] = _times(h, v[i]), _times(h_size, abs(v[i]))
    out = _finish_elements(_full(p.shape, ZERO), {"hvp": hv, "scale": size},
                           arguments["weight"], arguments["sample_weight"],
                           arguments["reduction"], arguments["empty_mean"],
                           arguments["average_last_axis"])
    return {"hvp": out["hvp"], "scale": _map(abs, out["scale"])}


def _softmax_row(z):
    """softmax(z) exactly enough: one-hot at a single +inf logit; None where it has no limit."""
    n_top = sum(1 for v in z if v == INF)
    if _isnan(*z) or n_top > 1 or all(v == -INF for v in z):
        return None
    if n_top == 1:
        return [ONE if v == INF else ZERO for v in z]
    m = max(z)
    E = [mpmath.exp(mpmath.fsub(v, m, exact=True)) for v in z]
    Z = mpmath.fsum(E)
    return [x / Z for x in E]


def _cross_entropy_hvp_row(z, A, v):
    """``A p_k (v_k - p.v)``: the Hessian A (diag p - p p^T) of sum_j a_j (logsumexp z - z_j),
    A = sum_j a_j, times v; and its scale |A| p_k (|v_k| + p.|v|)."""
    p = _softmax_row(z)
    if p is None:
        return [NAN] * len(z), [NAN] * len(z)
    pv = _sum(_times(pj, vj) for pj, vj in zip(p, v, strict=True))
    pav = mpmath.fsum(_times(pj, abs(vj)) for pj, vj in zip(p, v, strict=True))
    return ([_times(A, _times(pk, _sum([vk, -pv]))) for pk, vk in zip(p, v, strict=True)],
            [_times(abs(A), _times(pk, abs(vk) + pav)) for pk, vk in zip(p, v, strict=True)])


def _categorical_hvp_row(p, q, v, bounds, o, renormalize):
    """H v of ``-sum_j q_j log(p''_j + o)`` and its scale. Without renormalisation H =
    diag(q / (p + o)^2) on unclipped classes. With it, each term is log(c_j + o S) - log S,
    S = sum c, whose second derivatives are -(d_jk + o)(d_jl + o) / (c_j + o S)^2 + 1 / S^2;
    with r_j = q_j / (c_j + o S)^2 over the terms and V = sum of v over the variables:
    (H v)_k = r_k (v_k + o V) + o sum_j r_j (v_j + o V) - (sum_j q_j) V / S^2. The terms are
    the classes left unclipped by the clip of p / S, every class a variable (renormalize=True);
    or every class, with the classes p leaves unclipped the variables (after_clip)."""
    C = len(p)
    lo, hi = bounds if bounds is not None else (None, None)
    if not renormalize:
        hv, size = [], []
        for pj, qj, vj in zip(p, q, v, strict=True):
            if _isnan(pj):
                hv.append(NAN)
                size.append(NAN)
            elif lo is not None and not lo <= pj <= hi:
                hv.append(ZERO)
                size.append(ZERO)
            else:
                den = _exact_sum(pj, o)
                r = NAN if den < 0 else _ratio(qj, _exact_prod(den, den))
                hv.append(_times(r, vj))
                size.append(_times(abs(r), abs(vj)))
        return hv, size
    if _isnan(*p):
        return [NAN] * C, [NAN] * C
    if renormalize == "after_clip":
        c = [pj if lo is None else min(max(pj, lo), hi) for pj in p]
        variable = [lo is None or lo <= pj <= hi for pj in p]
        S = _exact_sum(*c)
        term = [True] * C
    else:
        c, S = p, _exact_sum(*p)
        variable = [True] * C
        term = [S != 0 and (lo is None or not (_below(pj, lo, S)
                                               or _below(_minus(pj), _minus(hi), S)))
                for pj in p]
    if S == 0:
        return [NAN] * C, [NAN] * C
    oS = _exact_prod(o, S)
    den = [_exact_sum(cj, oS) for cj in c]
    if any(t and (d / S) < 0 for t, d in zip(term, den, strict=True)):
        return [NAN] * C, [NAN] * C
    r = [_ratio(qj, _exact_prod(d, d)) if t else ZERO
         for qj, d, t in zip(q, den, term, strict=True)]
    vm = [vj if ok else ZERO for vj, ok in zip(v, variable, strict=True)]
    V = _exact_sum(*vm)
    V_abs = _exact_sum(*(abs(x) for x in vm))
    shifted = [_exact_sum(x, _exact_prod(o, V)) for x in vm]
    shifted_abs = [_exact_sum(abs(x), _exact_prod(o, V_abs)) for x in vm]
    R = _sum(_times(rj, s) for rj, s in zip(r, shifted, strict=True))
    R_abs = mpmath.fsum(_times(abs(rj), s) for rj, s in zip(r, shifted_abs, strict=True))
    mass = _exact_sum(*(qj for qj, t in zip(q, term, strict=True) if t))
    mass_abs = _exact_sum(*(abs(qj) for qj, t in zip(q, term, strict=True) if t))
    S2 = _exact_prod(S, S)
    last = _exact_prod(mass, V) / S2
    last_abs = _exact_prod(mass_abs, V_abs) / S2
    hv, size = [], []
    for k in range(C):
        if not variable[k]:
            hv.append(ZERO)
            size.append(ZERO)
            continue
        hv.append(_sum([_times(r[k], shifted[k]), _times(o, R), -last]))
        size.append(_times(abs(r[k]), shifted_abs[k]) + _times(o, R_abs) + last_abs)
    return hv, size


def _eval_hvp_categorical(name, arguments, vector):
    if name == "categorical_cross_entropy":
        class_axis = arguments["axis"] % np.ndim(arguments["input"])
    else:
        class_axis = 0 if np.ndim(arguments["input"]) == 1 else 1
    rows, samples, t_rows, indices = _class_layout(arguments["input"], arguments["target"],
                                                   class_axis)
    v_rows = np.moveaxis(_real_array(vector), class_axis, -1)
    C = rows.shape[-1]
    hv, size = _full(rows.shape, ZERO), _full(rows.shape, ZERO)
    active = np.ones(samples, dtype=bool)
    mean_weights = _full(samples, ZERO)
    weight = arguments.get("weight")
    W = [ONE] * C if weight is None else list(_mp_array(weight))
    e = _mp(arguments.get("label_smoothing", 0.0))
    for i in np.ndindex(samples):
        y, Q = _sample_target(t_rows[i], indices, C, e, arguments["ignore_index"])
        if Q is None:
            active[i] = False
            continue
        v = [_mp(x) for x in v_rows[i]]
        if name == "nll_loss":
            mean_weights[i] = W[y]
            # linear in the input: H = 0 (its gradient -c_i W_y holds no input, NaN or not)
            row, row_size = [NAN if _isnan(vj) else ZERO for vj in v], [ZERO] * C
        elif name == "cross_entropy":
            if indices:
                mean_weights[i] = W[y]
            A = _exact_sum(*(_exact_prod(W[j], Q[j]) for j in range(C))) / C
            row, row_size = _cross_entropy_hvp_row([_mp(x) for x in rows[i]], A, v)
        else:
            q = [qj / C for qj in Q]
            renormalize = arguments["renormalize"]
            row, row_size = _categorical_hvp_row(
                [_mp(x) for x in rows[i]], q, v, _clip_bounds(arguments["clip_epsilon"]),
                _mp(arguments["log_offset"]),
                renormalize if renormalize == "after_clip" else bool(renormalize))
        for j in range(C):
            hv[*i, j], size[*i, j] = row[j], row_size[j]
    weighted = name == "nll_loss" or (name == "cross_entropy" and indices)
    _, c, empty, _ = _reduce(_full(samples, ZERO), arguments["reduction"],
                             arguments["sample_weight"], arguments["empty_mean"], active,
                             mean_weights if weighted else None)
    return {"hvp": _scale_rows(hv, c, empty, class_axis),
            "scale": _map(abs, _scale_rows(size, c, empty, class_axis))}


def evaluate_hvp(name, *args, vector, **kwargs) -> dict:
    """``{"hvp": H v, "scale": |H| |v| term by term}``, object arrays of the input's shape: the
    Hessian of the reduced loss (of the sum of the losses for "none") with respect to the
    input."""
    bound = inspect.signature(LOSSES[name]).bind(*args, **kwargs)
    bound.apply_defaults()
    arguments = dict(bound.arguments)
    if name.startswith("binary"):
        return _converged(lambda: _eval_hvp_binary(name, arguments, vector))
    return _converged(lambda: _eval_hvp_categorical(name, arguments, vector))


def hvp(name, *args, vector, **kwargs):
    """The Hessian-vector product of ``evaluate_hvp``."""
    return evaluate_hvp(name, *args, vector=vector, **kwargs)["hvp"]

"""Exact recomputation of the few elements whose longdouble evaluation cancelled.

The vectorised code flags an element when its result is much smaller than the terms it was
computed from (see ``_CANCELLATION`` in the loss modules); only those elements come here, so
the cost of mpmath stays proportional to how rare they are. Rational quantities are computed
exactly with ``fractions.Fraction``; the others with mpmath at 60 significant digits.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from reference._extended import LD

_DPS = 60


class _LazyMpmath:
    """mpmath, imported on first use: most evaluations never need it."""

    def __getattr__(self, name):
        import mpmath as module

        globals()["mpmath"] = module
        return getattr(module, name)


mpmath = _LazyMpmath()


def _fraction(x) -> Fraction:
    return Fraction(*np.asarray(x, dtype=LD)[()].as_integer_ratio())


def _mpf(x) -> mpmath.mpf:
    if isinstance(x, Fraction):
        return _mpf_fraction(x)
    x = np.asarray(x, dtype=LD)[()]
    if not np.isfinite(x):
        return mpmath.mpf(float(x))
    n, d = x.as_integer_ratio()
    return mpmath.mpf(n) / d


def _mpf_fraction(x: Fraction):
    """An exact rational as an mpf at the working precision."""
    return mpmath.mpf(x.numerator) / x.denominator


def _ld(v) -> LD:
    """Round an mpf or Fraction to longdouble (via a 30-digit decimal string, exact enough)."""
    if isinstance(v, Fraction):
        with mpmath.workdps(40):  # not the 53 bits of mpmath's default precision
            v = mpmath.mpf(v.numerator) / v.denominator
    if mpmath.isnan(v):
        return LD(np.nan)
    if mpmath.isinf(v) or abs(v) > mpmath.ldexp(1, 16000):
        return LD(np.inf) if v > 0 else LD(-np.inf)
    if abs(v) < mpmath.ldexp(1, -16000):  # below longdouble's normal range, and float64's
        return LD(0.0) if v >= 0 else LD(-0.0)
    # (beyond those two bounds a decimal string does not convert to longdouble cleanly)
    return LD(mpmath.nstr(v, 30, min_fixed=1, max_fixed=0))


def _smoothed(y, e):
    return (1 - e) * y + e / 2, (1 - e) * (1 - y) + e / 2


def exact_smoothed(y, e: float) -> tuple[list, list]:
    """The smoothed binary targets (y_s, 1 - y_s) of each finite ``y``, as exact rationals."""
    pairs = [_smoothed(_fraction(yi), Fraction(e)) for yi in np.ravel(y)]
    return [ys for ys, _ in pairs], [yc for _, yc in pairs]


def exact_pair(P, Q) -> tuple[list, list]:
    """(p, 1 - p) as exact rationals from the longdouble pair of ``_probability``: below 1/2
    p is the exact one, from 1/2 on 1 - p (see ``_probability.complement_pair``)."""
    ps = [_fraction(pi) if pi < 0.5 else 1 - _fraction(qi)
          for pi, qi in zip(np.ravel(P), np.ravel(Q), strict=True)]
    return ps, [1 - pi for pi in ps]


def bce_numerator(p, y, e: float, off: float) -> np.ndarray:
    """``p + o - y_s (1 + 2o)``, exactly (it is rational in the inputs)."""
    e, off = Fraction(e), Fraction(off)
    out = []
    for pi, yi in zip(np.ravel(p), np.ravel(y), strict=True):
        ys, _ = _smoothed(_fraction(yi), e)
        out.append(_ld(_fraction(pi) + off - ys * (1 + 2 * off)))
    return np.array(out, dtype=LD)


def bce_log_terms(P, Q, ys, yc, off: float, clamp: float | None = None) -> np.ndarray:
    """``-(y_s log(p' + o) + (1 - y_s) log(1 - p' + o))`` from p', 1 - p' and the smoothed
    targets (longdoubles or exact rationals), each log raised to at least ``clamp``: with o > 0
    the second log is positive, and outside the domain a target weight can be negative, so
    the two terms can cancel."""
    out = []
    for pi, qi, yi, ci in zip(np.ravel(P), np.ravel(Q), np.ravel(ys), np.ravel(yc), strict=True):
        def compute(pi=pi, qi=qi, yi=yi, ci=ci):
            o = _mpf(off)
            log_p, log_q = mpmath.log(_mpf(pi) + o), mpmath.log(_mpf(qi) + o)
            if clamp is not None:
                log_p, log_q = max(log_p, _mpf(clamp)), max(log_q, _mpf(clamp))
            first, second = _mpf(yi) * log_p, _mpf(ci) * log_q
            return -(first + second), abs(first) + abs(second)
        out.append(_settled(compute))
    return np.array(out, dtype=LD)


def _sigmoid(x):
    return 1 / (1 + mpmath.exp(-x))


def _softplus(x):
    return mpmath.log1p(mpmath.exp(x)) if x < 0 else x + mpmath.log1p(mpmath.exp(-x))


#: digits tried in turn; a result that still changes at the last one is below 10**-1900 of
#: its terms, and is an exact zero (the terms cancel exactly, e.g. 1/3 - 1/3)
_PRECISIONS = (60, 150, 400, 1000, 2000)


def _settled(compute) -> LD:
    """``compute()`` -> (value, size of its terms), at rising precision until it settles.

    Cancellation can leave a value far below the terms it came from (sigmoid(1e-150) - 1/2
    is 1e-150/4): the precision rises until two successive evaluations agree to 30 digits.
    """
    previous = None
    for digits in _PRECISIONS:
        with mpmath.workdps(digits):
            value, terms = compute()
            if terms == 0:
                return LD(0)
            if abs(value) <= abs(terms) * mpmath.mpf(10) ** (30 - digits):
                previous = None  # below this precision's resolution: more digits
                continue
            if previous is not None and abs(value - previous) <= abs(value) * mpmath.mpf(10) ** -30:
                return _ld(value)
            previous = value
    return LD(0) if previous is None else _ld(value)


def bce_logits_terms(x, y, e: float, pw) -> np.ndarray:
    """``pw y_s softplus(-x) + (1 - y_s) softplus(x)``: a negative target weight or pos_weight
    (outside the domain) makes the terms cancel."""
    out = []
    for xi, yi, wi in zip(np.ravel(x), np.ravel(y), np.ravel(pw), strict=True):
        def compute(xi=xi, yi=yi, wi=wi):
            x_, (ys, yc) = _mpf(xi), _smoothed(_mpf(yi), _mpf(e))
            first, second = _mpf(wi) * ys * _softplus(-x_), yc * _softplus(x_)
            return first + second, abs(first) + abs(second)
        out.append(_settled(compute))
    return np.array(out, dtype=LD)


def bce_logits_grad_input(x, y, e: float, pw) -> np.ndarray:
    """``(1 - y_s) sigmoid(x) - pw y_s sigmoid(-x)``."""
    out = []
    for xi, yi, wi in zip(np.ravel(x), np.ravel(y), np.ravel(pw), strict=True):
        def compute(xi=xi, yi=yi, wi=wi):
            x_, (ys, yc) = _mpf(xi), _smoothed(_mpf(yi), _mpf(e))
            first, second = yc * _sigmoid(x_), _mpf(wi) * ys * _sigmoid(-x_)
            return first - second, abs(first) + abs(second)
        out.append(_settled(compute))
    return np.array(out, dtype=LD)


def bce_logits_softplus_difference(x, pw) -> np.ndarray:
    """``pw softplus(-x) - softplus(x)``."""
    out = []
    for xi, wi in zip(np.ravel(x), np.ravel(pw), strict=True):
        def compute(xi=xi, wi=wi):
            x_ = _mpf(xi)
            first, second = _mpf(wi) * _softplus(-x_), _softplus(x_)
            return first - second, abs(first) + abs(second)
        out.append(_settled(compute))
    return np.array(out, dtype=LD)


def softmax_cross_entropy_value(z_row, coefficients) -> LD:
    """``sum_j a_j (logsumexp(z) - z_j)`` of one row; ``coefficients`` as below. Terms with
    a_j = 0 are 0, also at a -inf logit."""
    def compute():
        z = [_mpf(v) for v in z_row]
        m = max(z)
        lse = m + mpmath.log(mpmath.fsum(mpmath.exp(v - m) for v in z))
        terms = [aj * (lse - zj) for aj, zj in zip(coefficients(), z, strict=True) if aj != 0]
        return mpmath.fsum(terms), mpmath.fsum(abs(t) for t in terms)
    return _settled(compute)


def softmax_cross_entropy_grad(z_row, coefficients, columns) -> np.ndarray:
    """``softmax(z)_k * sum(a) - a_k`` for the given columns k of one row.

    ``coefficients`` is a function of mpmath that returns the exact ``a_j`` (class weight
    times smoothed target) for every column, so no rounded coefficient enters the cancellation.
    """
    out = []
    for k in columns:
        def compute(k=k):
            z = [_mpf(v) for v in z_row]
            a = coefficients()
            m = max(z)
            e = [mpmath.exp(v - m) for v in z]
            first = e[k] / mpmath.fsum(e) * mpmath.fsum(a)
            return first - a[k], abs(first) + abs(a[k])
        out.append(_settled(compute))
    return np.array(out, dtype=LD)

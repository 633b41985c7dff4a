"""Probabilities near 1, kept exact: the pair (p, 1 - p), its clipping, and its logs.

For p >= 1/2 the complement ``1 - p`` of a float64 is exact, and it is what the logs near 1
need: ``log(p + o) = log1p(o - (1 - p))`` keeps a result of 1e-16 exact where ``log`` of a
rounded ``p + o`` would keep none of it. Clip bounds are applied to whichever of the two is
small, so ``clip(p, eps, 1 - eps)`` never rounds ``1 - eps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference import _checks as check
from reference._extended import LD


@dataclass(frozen=True)
class ClipBounds:
    low: LD  # lower bound of p
    high: LD  # upper bound of p
    low_complement: LD  # lower bound of 1 - p: eps exactly, or 1 - high (exact for high >= 1/2)


def clip_bounds(clip_epsilon) -> ClipBounds | None:
    """``eps`` clips p to [eps, 1 - eps]; a pair ``(low, high)`` gives the bounds directly."""
    if clip_epsilon is None:
        return None
    if np.ndim(clip_epsilon) == 0:
        eps = LD(check.nonnegative_scalar("clip_epsilon", clip_epsilon, upper=0.5))
        return ClipBounds(eps, 1 - eps, eps)
    low, high = (check.nonnegative_scalar("clip_epsilon", b, upper=1.0) for b in clip_epsilon)
    if low > high:
        raise check.OracleInputError(f"clip_epsilon: bounds ({low!r}, {high!r}) are reversed")
    return ClipBounds(LD(low), LD(high), 1 - LD(high))


def complement_pair(P: np.ndarray, bounds: ClipBounds | None):
    """(p, 1 - p, inside): clipped if bounds are given; ``inside`` is where no bound acts.

    NaN counts as inside, so it reaches the gradient too.
    """
    Q = 1 - P
    inside = np.ones(P.shape, dtype=bool)
    if bounds is not None:
        # compare whichever of p and 1 - p is exact: p below 1/2, 1 - p above
        below = P < bounds.low
        above = np.where(P >= 0.5, Q < bounds.low_complement, P > bounds.high)
        inside = ~(below | above)
        P = np.where(below, bounds.low, np.where(above, bounds.high, P))
        Q = np.where(below, 1 - bounds.low, np.where(above, bounds.low_complement, Q))
    return P, Q, inside


def log_pair(P: np.ndarray, Q: np.ndarray, offset: LD):
    """(log(p + o), log(1 - p + o)), accurate also where either argument is near 1.

    Near 1 the log is ``log1p`` of the argument minus one, formed exactly: for p + o that is
    ``o - (1 - p)`` (p >= 1/2, the complement exact), ``p + (o - 1)`` (o in [1/2, 2], o - 1
    exact) or ``(p - 1) + o`` (p - 1 exact in longdouble for p >= 2**-11; a smaller p with
    o < 1/2 keeps p + o below 0.51, away from 1); for 1 - p + o it is ``o - p`` (p <= 1/2), or
    ``(1 - p) + (o - 1)`` above: a clipped p is the bound ``1 - eps`` rounded to longdouble,
    while its complement ``eps`` is exact (and ``o - 1`` is exact for o >= 2**-11; a smaller o
    keeps 1 - p + o below 0.51).
    """
    a, b = P + offset, Q + offset
    offset_near_1 = 0.5 <= offset <= 2
    with np.errstate(divide="ignore", invalid="ignore"):
        a_minus_1 = np.where(P >= 0.5, offset - Q,
                             P + (offset - 1) if offset_near_1 else (P - 1) + offset)
        near_a = (a >= 0.5) & (a <= 2) & ((P >= 2.0**-11) | offset_near_1)
        log_p = np.where(near_a, np.log1p(a_minus_1), np.log(a))
        near_b = (b >= 0.5) & (b <= 2)
        b_minus_1 = np.where(P <= 0.5, offset - P, Q + (offset - 1))
        log_q = np.where(near_b, np.log1p(b_minus_1), np.log(b))
    return log_p, log_q

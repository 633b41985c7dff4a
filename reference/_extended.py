"""Extended-precision building blocks shared by the losses.

The oracle evaluates every formula in x87 extended precision (``numpy.longdouble``, a 64-bit
significand: 11 bits more than float64) and rounds once to float64 at the end. With the formulas
arranged so that only sums of same-signed terms and single subtractions of exact inputs occur,
the 11 spare bits absorb the intermediate roundings and the float64 result is within a hair of
correctly rounded. Where a cancellation cannot be arranged away, the caller flags the element
and recomputes it with mpmath (see ``reference._refine``).
"""

from __future__ import annotations

import numpy as np

LD = np.longdouble

if np.finfo(LD).nmant < 63:  # pragma: no cover - platform guard
    raise ImportError(
        "reference needs an extended-precision numpy.longdouble (64-bit significand, as on "
        f"x86-64 Linux); this platform's longdouble has {np.finfo(LD).nmant + 1} bits"
    )


def ld(x) -> np.ndarray:
    """``x`` as a longdouble array (exact: every float64 is a longdouble)."""
    return np.asarray(x, dtype=LD)


def to_float64(x):
    """Round a longdouble result to float64 once; 0-d results become NumPy float64 scalars."""
    with np.errstate(over="ignore"):  # beyond float64's range the correct rounding is +-inf
        out = np.asarray(x).astype(np.float64)
    return out[()] if out.ndim == 0 else out


def mul0(a, b):
    """``a * b`` with the measure-theory convention ``0 * inf = 0``; NaN still propagates.

    This is what makes ``0 * log 0 = 0``, a zero weight silence an infinite loss, and a
    zero-probability target ignore a ``-inf`` log-probability.
    """
    a, b = np.broadcast_arrays(a, b)
    with np.errstate(invalid="ignore"):
        out = np.multiply(a, b)
    silent = ((a == 0) & np.isinf(b)) | ((b == 0) & np.isinf(a))
    if np.any(silent):
        out = np.where(silent, out.dtype.type(0), out)
    return out


def softplus(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` in longdouble, as the sum of two non-negative terms.

    ``max(x, 0) + log1p(exp(-|x|))`` has no cancellation; ``softplus(+inf) = inf`` and
    ``softplus(-inf) = 0`` come out exactly.
    """
    x = ld(x)
    with np.errstate(over="ignore", invalid="ignore"):
        tail = np.log1p(np.exp(-np.abs(x)))
        return np.where(np.isnan(x), x, np.maximum(x, 0) + tail)


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` in longdouble without overflow for either sign."""
    x = ld(x)
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(x))
        pos = 1 / (1 + e)
        return np.where(x >= 0, pos, e / (1 + e))

"""Row-wise softmax statistics of float64 logits, accurate and in bounded memory.

For a row z with maximum m at column k, the oracle needs

    e_j = exp(z_j - m)          (e_k = 1)
    t   = sum over j != k of e_j   (so that s = sum_j e_j = 1 + t and log s = log1p(t))

``t`` is kept apart from the 1 so that a loss ``log1p(t)`` is accurate even when t is tiny.

Speed comes from float64 NumPy passes over cache-sized blocks of rows; accuracy from a
double-double exponential: ``z_j - m`` is split exactly (TwoSum) into ``d + d_lo``, and

    exp(d + d_lo) = T[i] * exp(r),    i = round(-64 d),  r = d + i/64 + d_lo,  |r| <= 1/128

where ``T[i] = exp(-i/64)`` is tabulated as a float64 pair (hi, lo) from longdouble, and
``exp(r) = 1 + expm1(r)`` with ``expm1(r)`` at most 1/128 in size, so its rounding error is
1/128 of an ulp of the result. Each e_j is returned as the unevaluated pair ``e_hi + e_lo``
with a relative error near 2**-59, and t is summed in longdouble.

Rows whose logits span more than the table (700) fall back to longdouble ``exp``, whose wider
exponent range keeps the terms that underflow float64.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference._extended import LD, ld

_STEPS_PER_UNIT = 64
_TABLE_SPAN = 700  # exp(-700) ~ 1e-304 is still a normal float64
_ELEMENTS_PER_BLOCK = 1 << 16  # 512 KiB of float64: the block's temporaries stay in cache


_T_LD = np.exp(-np.arange(_TABLE_SPAN * _STEPS_PER_UNIT + 1, dtype=LD) / _STEPS_PER_UNIT)
_T_HI = _T_LD.astype(np.float64)
_T_LO = (_T_LD - _T_HI).astype(np.float64)


@dataclass
class RowStats:
    """Softmax statistics of a block of rows (R rows, C classes)."""

    z: np.ndarray  # (R, C) float64 logits, with one-+inf rows replaced by their limit
    d: np.ndarray  # (R, C) float64, z - m = d + d_lo exactly (d_lo 0 where d = -inf)
    d_lo: np.ndarray
    m: np.ndarray  # (R,) float64 row maxima
    k: np.ndarray  # (R,) argmax columns
    t: np.ndarray  # (R,) longdouble, sum of e_j over j != k
    e_hi: np.ndarray  # (R, C) e_j = e_hi + e_lo, float64 pairs ...
    e_lo: np.ndarray | None  # ... or None when e_hi holds longdouble values (slow path)
    undefined: np.ndarray  # (R,) rows whose softmax has no limit or that hold a NaN

    @property
    def log_s(self) -> np.ndarray:
        """log(sum_j e_j), longdouble."""
        return np.log1p(self.t)

    @property
    def s(self) -> np.ndarray:
        return 1 + self.t

    def e(self, rows=slice(None), cols=slice(None)) -> np.ndarray:
        """e_j in longdouble at the given positions."""
        if self.e_lo is None:
            return self.e_hi[rows, cols]
        return ld(self.e_hi[rows, cols]) + self.e_lo[rows, cols]


def row_blocks(n_rows: int, n_classes: int):
    """Slices of rows that make blocks of about _ELEMENTS_PER_BLOCK elements."""
    step = max(1, _ELEMENTS_PER_BLOCK // max(n_classes, 1))
    for start in range(0, n_rows, step):
        yield slice(start, min(start + step, n_rows))


class Workspace:
    """Block-sized scratch arrays reused from block to block.

    Fresh half-megabyte temporaries are served by mmap and page-faulted on every use, which
    doubles the cost of a pass; reusing them keeps each pass at memory speed.
    """

    def __init__(self):
        self._buffers: dict[str, np.ndarray] = {}

    def array(self, name: str, shape: tuple[int, ...], dtype=np.float64) -> np.ndarray:
        size = int(np.prod(shape))
        buffer = self._buffers.get(name)
        if buffer is None or buffer.size < size or buffer.dtype != dtype:
            buffer = self._buffers[name] = np.empty(size, dtype=dtype)
        return buffer[:size].reshape(shape)


def _limits(z: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Replace rows with exactly one +inf by their limit; find rows with no limit.

    As z_k -> +inf alone, softmax(z) -> one-hot(k): the row (0 at k, -inf elsewhere) has the
    same softmax and log-softmax. Two +inf, all -inf, or any NaN: undefined (NaN results);
    those rows are replaced by zeros so the arithmetic below stays finite.
    """
    undefined = np.zeros(len(z), dtype=bool)
    special = ~np.isfinite(m)  # argmax finds NaN first, so a NaN row has m = NaN
    if not special.any():
        return z, undefined
    z = z.copy()
    for r in np.flatnonzero(special):
        row = z[r]
        n_pos = np.count_nonzero(row == np.inf)
        if np.isnan(row).any() or n_pos != 1:
            undefined[r] = True
            row[:] = 0.0
        else:
            k = np.argmax(row)
            row[:] = -np.inf
            row[k] = 0.0
    return z, undefined


def row_stats(z: np.ndarray, work: Workspace | None = None) -> RowStats:
    """Softmax statistics of a (R, C) float64 block; see the module docstring.

    The returned ``e_hi``/``e_lo`` live in ``work`` and are overwritten by the next call.
    """
    work = work or Workspace()
    rows = np.arange(len(z))
    k = np.argmax(z, axis=1)
    z, undefined = _limits(z, z[rows, k])
    m = z[rows, k]
    m_col = m[:, None]
    # TwoSum, in place: d + d_lo == z - m exactly.
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.subtract(z, m_col, out=work.array("d", z.shape))
        back = np.subtract(d, z, out=work.array("back", z.shape))
        d_lo = np.subtract(d, back, out=work.array("d_lo", z.shape))
        np.subtract(z, d_lo, out=d_lo)
        back += m_col
        d_lo -= back
    if d.size and d.min() < -_TABLE_SPAN:  # includes every -inf logit
        np.nan_to_num(d_lo, copy=False, nan=0.0, posinf=0.0, neginf=0.0)  # NaN at d = -inf
        e_hi, e_lo = _exp_longdouble(d, d_lo), None
        e_hi[rows, k] = 0  # t excludes the max
        t = e_hi.sum(axis=1)
    else:
        e_hi, e_lo = _exp_double_double(d, d_lo, work)
        e_hi[rows, k] = 0  # t excludes the max; its e_lo is exactly 0 already
        t = sum_pairs(e_hi, e_lo, scratch=back)
    e_hi[rows, k] = 1
    return RowStats(z, d, d_lo, m, k, t, e_hi, e_lo, undefined)


def sum_pairs(hi: np.ndarray, lo: np.ndarray | None, scratch: np.ndarray) -> np.ndarray:
    """Row sums of hi + lo (0 <= hi <= 1, |lo| <= hi/100, or no lo) in longdouble, to about
    2**-64.

    Rump's extraction: with sigma a power of two above 2C, q = (sigma + hi) - sigma keeps the
    leading bits of hi on a grid of ulp(sigma), so sum(q) is exact in float64 in any order;
    the remainders hi - q are below ulp(sigma)/2 and their float64 sum is accurate relative to
    t unless t itself is small: those rows are summed again in longdouble.
    """
    sigma = 2.0 ** (int(hi.shape[1]).bit_length() + 1)
    q = np.add(hi, sigma, out=scratch)
    q -= sigma
    exact = q.sum(axis=1)
    r = np.subtract(hi, q, out=q)
    if lo is not None:
        r += lo
    t = ld(exact) + r.sum(axis=1)
    small = t < 2.0**-8
    if small.any():
        t[small] = hi[small].sum(axis=1, dtype=LD)
        if lo is not None:
            t[small] += lo[small].sum(axis=1)
    return t


def _exp_double_double(d: np.ndarray, d_lo: np.ndarray, work: Workspace):
    """exp(d + d_lo) for -700 <= d <= 0 as a float64 pair (see the module docstring)."""
    steps = np.multiply(d, -_STEPS_PER_UNIT, out=work.array("steps", d.shape))
    np.rint(steps, out=steps)
    i = work.array("index", d.shape, np.intp)
    np.copyto(i, steps, casting="unsafe")  # integral already: exact
    r = np.divide(steps, -_STEPS_PER_UNIT, out=steps)  # -i/64, exact
    np.subtract(d, r, out=r)  # d + i/64: exact, |r| <= 1/128
    r += d_lo
    em = np.expm1(r, out=r)
    hi = np.take(_T_HI, i, out=work.array("e_hi", d.shape))
    lo = np.take(_T_LO, i, out=work.array("e_lo", d.shape))
    em *= hi
    lo += em
    return hi, lo


def _exp_longdouble(d: np.ndarray, d_lo: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.exp(ld(d)) * (1 + ld(d_lo))


def extended_exps(z: np.ndarray, m: np.ndarray) -> np.ndarray:
    """e_j = exp(z_j - m) of a few rows in longdouble, to about 2**-63 (about 16x the pairs).

    The same reduction as the fast path, but exp(r) is a degree-9 Taylor polynomial evaluated
    in longdouble: with |r| <= 1/128 the first omitted term is below 2**-80. Used where a
    gradient element cancels beyond what the float64 pairs can resolve.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        d = z - m[:, None]
        back = d - z
        d_lo = (z - (d - back)) - (m[:, None] + back)
    np.nan_to_num(d_lo, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    inside = d >= -_TABLE_SPAN
    i = np.where(inside, np.rint(-_STEPS_PER_UNIT * np.where(inside, d, 0)), 0).astype(np.intp)
    r = ld(d + i / _STEPS_PER_UNIT) + ld(d_lo)
    em = np.zeros(r.shape, dtype=LD)
    for k in range(9, 0, -1):  # Horner form of r + r^2/2! + ... + r^9/9!
        em = r / k * (1 + em)
    with np.errstate(under="ignore"):
        far = np.exp(ld(d)) * (1 + ld(d_lo))
    return np.where(inside, _T_LD[i] * (1 + em), far)

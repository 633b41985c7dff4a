"""Evaluation of the categorical losses: values and analytic gradients (see categorical.py).

Everything per sample happens on a (rows, C) matrix with the class axis last; cross_entropy
walks it in cache-sized blocks of rows (``_softmax.row_blocks``) so memory stays a small
multiple of the input.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from reference import _checks as check
from reference import _reduction, _refine
from reference._extended import LD, ld, mul0, to_float64
from reference._probability import clip_bounds, complement_pair, log_pair
from reference._softmax import Workspace, extended_exps, row_blocks, row_stats, sum_pairs
from reference.errors import OracleInputError

_CANCELLATION = LD(2.0) ** -8  # as in binary.py: beyond this, recompute exactly


class _ClassLayout:
    """Where the classes are: (N, C, d1..dk) or (C,) inputs as a (rows, C) matrix."""

    def __init__(self, x: np.ndarray, axis: int):
        if x.ndim == 0:
            raise OracleInputError("input: a 0-d array has no class axis")
        self.axis = axis % x.ndim
        self.shape = x.shape
        self.n_classes = x.shape[self.axis]
        if self.n_classes == 0:
            raise OracleInputError(f"input: the class axis {self.axis} has size 0")
        self.sample_shape = x.shape[: self.axis] + x.shape[self.axis + 1 :]
        self.moved = self.axis != x.ndim - 1

    def rows(self, a: np.ndarray) -> np.ndarray:
        """An input-shaped array as (rows, C); a view when the class axis is already last."""
        return np.moveaxis(a, self.axis, -1).reshape(-1, self.n_classes)

    def unrows(self, g: np.ndarray) -> np.ndarray:
        """Inverse of ``rows`` for a gradient."""
        moved_shape = (*self.sample_shape, self.n_classes)
        return np.ascontiguousarray(np.moveaxis(g.reshape(moved_shape), -1, self.axis))


def _wrt(wrt, target_is_indices: bool):
    if wrt not in (None, "input", "target"):
        raise OracleInputError(f"wrt: {wrt!r} is not 'input' or 'target'")
    if wrt == "target" and target_is_indices:
        raise OracleInputError("wrt: class-index targets are integers and have no gradient")
    return wrt


def _class_targets(target, layout, ignore_index, weight):
    """Class indices as rows plus the per-sample class weight; ignored samples inactive."""
    y, active = check.class_indices(
        target, layout.sample_shape, layout.n_classes, check.ignore_index_value(ignore_index)
    )
    w = check.class_weight(weight, layout.n_classes)
    w_y = np.ones(y.shape) if w is None else w[y]
    return y, active, w, w_y


def _probability_targets(target, x, layout, ignore_index, weight, validate):
    q = check.float_array("target", target)
    check.same_shape("target", q, "input", x)
    if validate:
        check.in_unit_interval("target", q, what="target probability")
    if ignore_index is not None:
        raise OracleInputError(
            f"ignore_index: {ignore_index!r} given, but ignoring needs class-index targets"
        )
    return q, check.class_weight(weight, layout.n_classes)


def _sample_weight(sample_weight, layout):
    return check.broadcast(
        "sample_weight", check.optional_float_array("sample_weight", sample_weight),
        layout.sample_shape,
    )


# --- cross_entropy ----------------------------------------------------------------------------


def cross_entropy(wrt, input, target, weight, ignore_index, reduction, label_smoothing, *,
                  sample_weight, empty_mean, validate):
    x = check.float_array("input", input)
    layout = _ClassLayout(x, axis=1 if x.ndim > 1 else 0)
    C = layout.n_classes
    validate = check.validate_flag(validate)
    e = check.smoothing(label_smoothing, validate)
    indices = check.is_class_index_target(target)
    wrt = _wrt(wrt, indices)
    sw = _sample_weight(sample_weight, layout)
    reduction = check.reduction(reduction)

    if indices:
        y, active, w, w_y = _class_targets(target, layout, ignore_index, weight)
        plan = _reduction.plan(layout.sample_shape, reduction, sw, empty_mean,
                               active=active, mean_weights=w_y)
        y_rows = y.reshape(-1)
    else:
        q, w = _probability_targets(target, x, layout, ignore_index, weight, validate)
        active = np.ones(layout.sample_shape, dtype=bool)
        plan = _reduction.plan(layout.sample_shape, reduction, sw, empty_mean)
        q_rows = layout.rows(q)
    active_rows = active.reshape(-1)
    coeff = np.where(active_rows, plan.coefficients.reshape(-1), 0)
    z_rows = layout.rows(x)
    n_rows = len(z_rows)
    W = None if w is None else ld(w)

    loss = np.zeros(n_rows, dtype=LD)
    g_rows = None if wrt is None else np.empty((n_rows, C))
    work = Workspace()
    for rows in row_blocks(n_rows, C):
        stats = row_stats(z_rows[rows], work)
        if indices and e == 0:
            loss[rows], g = _indices_block(stats, y_rows[rows], ld(w_y.reshape(-1)[rows]),
                                           coeff[rows], wrt, out=None if g_rows is None
                                           else g_rows[rows])
        else:
            out = None if g_rows is None else g_rows[rows]
            if not indices and W is None and e == 0 and wrt != "target" and _plain_block(
                    stats, q_rows[rows], coeff[rows]):
                loss[rows], g = _probability_block(stats, q_rows[rows], coeff[rows], wrt, work,
                                                   out)
            else:
                if indices:
                    a, size, exact = _smoothed_index_coefficients(y_rows[rows], W, e, C, w)
                else:
                    a, size, exact = _probability_coefficients(q_rows[rows], W, e, C, w)
                loss[rows], g = _distribution_block(stats, a, size, exact, coeff[rows], wrt, e,
                                                    W)
        undefined = stats.undefined & active_rows[rows]
        loss[rows][undefined] = np.nan
        if g is not None:
            g[undefined] = np.nan
            if not np.may_share_memory(g, g_rows):
                g_rows[rows] = g
    loss[~active_rows] = 0
    value = plan.apply(loss.reshape(layout.sample_shape))
    if wrt is None:
        return value, None
    if plan.empty_value is not None:  # a mean with a zero divisor: constant empty_mean
        return value, np.full(x.shape, 0 * plan.empty_value)
    return value, layout.unrows(g_rows) if layout.moved else g_rows.reshape(x.shape)


def _indices_block(stats, y, w_y, coeff, wrt, out):
    """Class indices, no smoothing: l = w_y (m - z_y + log s); dl/dz = w_y (p - onehot(y))."""
    rows = np.arange(len(y))
    z_y = stats.z[rows, y]
    loss = w_y * ((ld(stats.m) - ld(z_y)) + stats.log_s)
    if wrt is None:
        return loss, None
    c = ld(coeff) * w_y
    s = stats.s
    e_y = stats.e(rows, y)  # before the pairs are overwritten below
    if stats.e_lo is None:
        g = to_float64(c[:, None] / s[:, None] * stats.e_hi)
    else:
        # p_j = (e_hi + e_lo) * (f_hi + f_lo) with f = c / s split into a float64 pair: only the
        # rounding of e_hi * f_hi and of the final sum remain, together within 1.5 ulp.
        f = c / s
        f_hi = f.astype(np.float64)
        f_lo = (f - f_hi).astype(np.float64)[:, None]
        f_hi = f_hi[:, None]
        g = np.multiply(stats.e_lo, f_hi, out=out)
        g += np.multiply(stats.e_hi, f_lo, out=stats.e_lo)
        g += np.multiply(stats.e_hi, f_hi, out=stats.e_hi)
    # p_y - 1 = -(s - e_y) / s, with s - e_y formed without cancellation.
    rest = np.where(y == stats.k, stats.t, s - e_y)
    g[rows, y] = to_float64(-c * rest / s)
    return loss, g


def _smoothed_index_coefficients(y, W, e, C, w):
    """a_ij = weight_j * ((1 - e) [j = y_i] + e / C) as longdouble, the size of its terms (see
    ``_coefficient_size``) and its exact twin."""
    R = len(y)
    Wr = np.ones(C, dtype=LD) if W is None else W
    a = np.broadcast_to(Wr * (LD(e) / C), (R, C)).copy()
    rows = np.arange(R)
    a[rows, y] += (1 - LD(e)) * Wr[y]
    size = a
    if _signs_mixed(e, W):
        size = np.broadcast_to(np.abs(Wr * (LD(e) / C)), (R, C)).copy()
        size[rows, y] += np.abs((1 - LD(e)) * Wr[y])

    def exact(r):
        def coefficients():
            return [_refine._mpf(1.0 if w is None else w[j])
                    * ((1 - _refine._mpf(e)) * (j == y[r]) + _refine._mpf(e) / C)
                    for j in range(C)]
        return coefficients

    return a, size, exact


def _signs_mixed(e: float, W, q=None) -> bool:
    """Whether a coefficient a_ij can have terms of opposite signs: only outside the domain
    (validate=False), with smoothing outside [0, 1], a negative weight or target."""
    return (not 0 <= e <= 1 or (W is not None and bool(np.any(W < 0)))
            or (q is not None and bool(np.any(q < 0))))


def _probability_coefficients(q, W, e, C, w):
    """a_ij = weight_j * ((1 - e) q_ij + e / C) as longdouble, the size of its terms and its
    exact twin.

    The size is the same sum with every term made non-negative: where signs are mixed
    (validate=False) a coefficient or a sum of coefficients can cancel, and the size is what
    their rounding errors are relative to. Inside the domain it is ``a`` itself.
    """
    Q = ld(q) if e == 0 else (1 - LD(e)) * ld(q) + LD(e) / C
    a = Q if W is None else mul0(W, Q)
    size = a
    if _signs_mixed(e, W, q):
        Q_size = np.abs(ld(q)) if e == 0 else np.abs(1 - LD(e)) * np.abs(ld(q)) + abs(LD(e) / C)
        size = Q_size if W is None else mul0(np.abs(W), Q_size)

    def exact(r):
        def coefficients():
            eps = _refine._mpf(e)
            return [_refine._mpf(1.0 if w is None else w[j])
                    * ((1 - eps) * _refine._mpf(q[r, j]) + eps / C) for j in range(C)]
        return coefficients

    return a, size, exact


def _distribution_block(stats, a, size, exact, coeff, wrt, e, W):
    """General target distribution: l = sum_j a_j (m - z_j + log s).

    ``size`` bounds the terms each a_j was computed from (``a`` itself inside the domain);
    where the coefficients have mixed signs the loss and the gradient can cancel, and the
    rows that did are recomputed from the exact coefficients.
    """
    mixed = size is not a
    with np.errstate(invalid="ignore"):
        nlp = (ld(stats.m)[:, None] - ld(stats.z)) + stats.log_s[:, None]  # -log p, >= 0
    loss = np.sum(mul0(a, nlp), axis=1, dtype=LD)
    if mixed:
        with np.errstate(invalid="ignore"):
            terms = np.sum(mul0(size, nlp), axis=1, dtype=LD)
            cancelled = (np.abs(loss) < _CANCELLATION * terms) & ~stats.undefined
        for r in np.flatnonzero(cancelled):
            loss[r] = _refine.softmax_cross_entropy_value(stats.z[r], exact(r))
    if wrt is None:
        return loss, None
    c = ld(coeff)[:, None]
    if wrt == "target":
        Wr = 1 if W is None else W
        return loss, to_float64(mul0(c, mul0((1 - LD(e)) * Wr, nlp)))
    # g_k = p_k A - a_k cancels where p_k A ~ a_k. Three tiers: the float64 pairs (p to about
    # 2**-59) where it loses under 2**5; the element again in longdouble (2**-63) under 2**9;
    # beyond, mpmath for rows of up to _EXACT_ROW_LIMIT classes.
    A = np.sum(a, axis=1, dtype=LD)[:, None]
    sizes = (np.sum(size, axis=1, dtype=LD)[:, None], size) if mixed else None
    g, lost = _softmax_grad(stats.e() / stats.s[:, None], A, a, 2.0**-5, sizes)
    rows, cols = np.nonzero(lost & ~stats.undefined[:, None])
    if rows.size:
        g[rows, cols] = _recomputed_elements(
            stats, rows, cols, A[rows, 0], a[rows, cols], exact,
            None if sizes is None else (sizes[0][rows, 0], sizes[1][rows, cols]))
    return loss, to_float64(mul0(c, g))


_EXACT_ROW_LIMIT = 2048  # mpmath costs ~10 us per class; beyond this the longdouble tier stands


def _recomputed_elements(stats, rows, cols, A, a, exact, sizes=None):
    """g = p A - a at the elements (rows[i], cols[i]) where the float64 pairs lost too much to
    cancellation, as longdouble: tiers two and three of ``_distribution_block``.

    e_k comes from ``extended_exps`` (2**-63) element by element. The row sum s does too for
    rows of up to _EXACT_ROW_LIMIT classes; a longer row keeps 1 + t from the pairs, whose error
    is a weighted mean of thousands of independent roundings of 2**-59 at most, and summing
    such a row in longdouble costs more than the rest of the loss together.
    """
    e_x = extended_exps(stats.z[rows, cols][:, None], stats.m[rows])[:, 0]
    n_classes = stats.z.shape[1]
    if n_classes <= _EXACT_ROW_LIMIT:
        unique, inverse = np.unique(rows, return_inverse=True)
        s = np.sum(extended_exps(stats.z[unique], stats.m[unique]), axis=1)[inverse]
    else:
        s = stats.s[rows]
    g, lost = _softmax_grad(e_x / s, A, a, 2.0**-9, sizes)
    if n_classes <= _EXACT_ROW_LIMIT:
        for r in np.unique(rows[lost]):
            at = np.flatnonzero(lost & (rows == r))
            g[at] = _refine.softmax_cross_entropy_grad(stats.z[r], exact(r), cols[at])
    return g


def _softmax_grad(p, A, a, tolerance, sizes=None):
    """g = p A - a, and where it lost more than 1/tolerance to cancellation: relative to its
    terms, or with mixed signs to the sizes (sum of sizes, sizes) of A and a."""
    p_total = p * A
    g = p_total - a
    with np.errstate(invalid="ignore"):
        if sizes is None:
            lost = np.abs(g) < LD(tolerance) * np.maximum(p_total, np.abs(a))
        else:
            lost = np.abs(g) < LD(tolerance) * np.maximum(p * sizes[0], sizes[1])
    return g, lost


# --- cross_entropy with plain probability targets, in float64 ---------------------------------

_SPLITTER = 2.0**27 + 1  # Veltkamp: x * (2**27 + 1) splits a float64 into two 26-bit halves
_TINY = 2.0**-900  # a gradient element below this is recomputed: near float64's underflow,
#                    Dekker's product is no longer exact
_HUGE = 2.0**800  # row factors below this split without overflow


def _plain_block(stats, q, coeff) -> bool:
    """Whether a block of probability targets can take ``_probability_block``: q in [0, 1]
    (NaN fails both comparisons), the softmax as float64 pairs, and coefficients in
    [0, 2**800), so that no split overflows."""
    if stats.e_lo is None or not q.size or not (q.min() >= 0 and q.max() <= 1):
        return False
    c = ld(coeff)
    return bool(np.all((c >= 0) & (c < _HUGE)))


def _split(x, hi, lo):
    """Veltkamp's split, into the given buffers: x = hi + lo exactly, each of 26 bits; returns
    ``(x, hi, lo)``."""
    np.multiply(x, _SPLITTER, out=hi)
    np.subtract(hi, x, out=lo)
    np.subtract(hi, lo, out=hi)
    np.subtract(x, hi, out=lo)
    return x, hi, lo


def _sum_nonnegative(x, work) -> np.ndarray:
    """Row sums of non-negative float64 values in longdouble, to about 2**-64, by Rump's
    extraction (as ``sum_pairs``): sigma, a power of two above 2 C max(row), puts the leading
    bits of every x on one grid, where their float64 sum is exact; the remainders are below
    ulp(sigma) and their float64 sum adds an error near 2**-106 C**2 of the row's maximum."""
    top = x.max(axis=1)
    _, exponent = np.frexp(np.where(top > 0, top, 1.0))
    sigma = np.ldexp(1.0, exponent + int(x.shape[1]).bit_length() + 1)[:, None]
    lead = np.add(x, sigma, out=work.array("lead", x.shape))
    lead -= sigma
    exact = lead.sum(axis=1)
    rest = np.subtract(x, lead, out=lead)
    return ld(exact) + rest.sum(axis=1)


def _two_product(x, y, work, prefix):
    """Dekker's product of a (R, C) array and ``y``, split already as ``(y, y_hi, y_lo)``
    (``y`` a column of R row factors or a (R, C) array): x y = p + err exactly, barring
    underflow (see ``_TINY``)."""
    y, y_hi, y_lo = y
    p = np.multiply(x, y, out=work.array(prefix + "p", x.shape))
    _, x_hi, x_lo = _split(x, work.array("split_hi", x.shape), work.array("split_lo", x.shape))
    err = np.multiply(x_hi, y_hi, out=work.array(prefix + "err", x.shape))
    err -= p
    term = work.array("term", x.shape)
    err += np.multiply(x_hi, y_lo, out=term)
    err += np.multiply(x_lo, y_hi, out=term)
    err += np.multiply(x_lo, y_lo, out=term)
    return p, err


def _column_split(y: np.ndarray):
    """A float64 column and its two 26-bit halves, for ``_two_product``."""
    y = y[:, None]
    hi = y * _SPLITTER
    hi -= hi - y
    return y, hi, y - hi


def _probability_block(stats, q, coeff, wrt, work, out):
    """Probability targets without class weights or smoothing, q in [0, 1], in float64 pairs.

    Loss: l = sum_j q_j (m - z_j + log s) = Q log s - sum_j q_j (d_j + d_lo_j), Q = sum_j q_j,
    with z_j - m = d_j + d_lo_j <= 0 exactly (``row_stats``): sums of non-negative terms, the
    products q_j d_j exact (Dekker) and summed by extraction.

    Gradient: g_j = c (p_j Q - q_j) = e_j f - c q_j with f = c Q / s a row factor rounded to a
    float64 pair (f, f_lo). e_hi f and c q_j are formed exactly (Dekker), and so is their
    difference (Knuth), which cancels where p_j Q ~ q_j; the small terms (the products'
    errors, e_lo f, e_hi f_lo) are added to it, so g is rounded once. The pairs carry e to
    about 2**-59, so the elements that lose more than 2**5 to cancellation go on to
    ``_recomputed_elements``, as in ``_distribution_block``.
    """
    Q = sum_pairs(q, None, scratch=work.array("q_sum", q.shape))
    minus_d = np.negative(stats.d, out=work.array("minus_d", q.shape))
    product, error = _two_product(q, _split(minus_d, work.array("d_hi", q.shape),
                                            work.array("d_lo_half", q.shape)), work, "qd")
    # below 2**-53 of the products: float64 is plenty (and no BLAS dot, whose threads spin
    # on a busy machine)
    small = np.multiply(q, stats.d_lo, out=work.array("term", q.shape)).sum(axis=1)
    loss = Q * stats.log_s + _sum_nonnegative(product, work) + (error.sum(axis=1) - small)
    if wrt is None:
        return loss, None
    c = ld(coeff)
    f = c * Q / stats.s
    f_hi = f.astype(np.float64)
    f_lo = (f - f_hi).astype(np.float64)[:, None]
    g, g_tail = _two_product(stats.e_hi, _column_split(f_hi), work, "e")
    g_tail += np.multiply(stats.e_lo, f_hi[:, None], out=work.array("term", q.shape))
    g_tail += np.multiply(stats.e_hi, f_lo, out=work.array("term", q.shape))
    c_hi = c.astype(np.float64)
    if np.all((ld(c_hi) == c) & ((np.frexp(c_hi)[0] == 0.5) | (c_hi == 0))):
        # powers of two (1 for "sum", 1/N for a "mean" of 2**k samples): c q is exact
        cq = np.multiply(q, c_hi[:, None], out=work.array("cqp", q.shape))
    else:
        cq, cq_err = _two_product(q, _column_split(c_hi), work, "cq")
        g_tail -= cq_err
        g_tail -= np.multiply(q, (c - ld(c_hi)).astype(np.float64)[:, None],
                              out=work.array("term", q.shape))
    # e_hi f - c q by Knuth's TwoSum: the difference and its rounding error, which joins the
    # small terms, so that g is rounded once
    product = g
    g = np.subtract(product, cq, out=out if out is not None else np.empty(q.shape))
    virtual = np.subtract(g, product, out=work.array("term", q.shape))
    product -= np.subtract(g, virtual, out=work.array("split_hi", q.shape))
    virtual += cq
    product -= virtual
    g_tail += product
    g += g_tail
    # Recomputed: what lost more than 2**5, |g| < 2**-5 max(c p Q, c q), which for a cancelling
    # pair is about c q / 32; and what is below _TINY.
    scaled = np.abs(g, out=g_tail)
    scaled *= 2.0**5
    bound = np.maximum(cq, 2.0**5 * _TINY, out=cq)
    rows, cols = np.nonzero(np.less(scaled, bound, out=work.array("lost", q.shape, bool))
                            & ~stats.undefined[:, None])
    if rows.size:
        g_x = _recomputed_elements(stats, rows, cols, Q[rows], ld(q[rows, cols]),
                                   _plain_coefficients(q))
        g[rows, cols] = to_float64(mul0(c[rows], g_x))
    return loss, g


def _plain_coefficients(q):
    """The exact twin of a = q for ``_refine``: row r's coefficients as mpmath numbers."""
    def exact(r):
        return lambda: [_refine._mpf(v) for v in q[r]]
    return exact


# --- nll_loss ---------------------------------------------------------------------------------


def nll_loss(wrt, input, target, weight, ignore_index, reduction, *, sample_weight,
             empty_mean, validate):
    x = check.float_array("input", input)
    layout = _ClassLayout(x, axis=1 if x.ndim > 1 else 0)
    positive = x > 0
    if check.validate_flag(validate) and positive.any():
        raise OracleInputError(
            f"input: log-probability {check._first(positive, x)} is above 0 "
            "(a probability above 1)"
        )
    indices = check.is_class_index_target(target)
    if not indices:
        raise OracleInputError("target: nll_loss takes integer class indices, not probabilities")
    wrt = _wrt(wrt, True)
    y, active, _, w_y = _class_targets(target, layout, ignore_index, weight)
    sw = _sample_weight(sample_weight, layout)
    plan = _reduction.plan(layout.sample_shape, check.reduction(reduction), sw, empty_mean,
                           active=active, mean_weights=w_y)
    x_rows = layout.rows(x)
    y_rows, active_rows = y.reshape(-1), active.reshape(-1)
    rows = np.arange(len(y_rows))
    picked = ld(x_rows[rows, y_rows])
    loss = np.where(active_rows, -mul0(ld(w_y.reshape(-1)), picked), 0)
    value = plan.apply(loss.reshape(layout.sample_shape))
    if wrt is None:
        return value, None
    if plan.empty_value is not None:  # a mean with a zero divisor: constant empty_mean
        return value, np.full(x.shape, 0 * plan.empty_value)
    g = np.zeros(x_rows.shape)
    coeff = np.where(active_rows, plan.coefficients.reshape(-1), 0)
    g[rows, y_rows] = to_float64(-mul0(coeff, ld(w_y.reshape(-1))))
    return value, layout.unrows(g) if layout.moved else g.reshape(x.shape)


# --- categorical_cross_entropy ----------------------------------------------------------------


def categorical_cross_entropy(wrt, input, target, reduction, label_smoothing, *, axis,
                              ignore_index, clip_epsilon, log_offset, renormalize, sample_weight,
                              empty_mean, validate):
    p = check.float_array("input", input)
    validate = check.validate_flag(validate)
    if validate:
        check.in_unit_interval("input", p)
    if not isinstance(axis, (int, np.integer)) or not -max(p.ndim, 1) <= axis < max(p.ndim, 1):
        raise OracleInputError(f"axis: {axis!r} is not an axis of input with shape {p.shape}")
    layout = _ClassLayout(p, axis=int(axis))
    C = layout.n_classes
    e = check.smoothing(label_smoothing, validate)
    indices = check.is_class_index_target(target)
    wrt = _wrt(wrt, indices)
    off = LD(check.nonnegative_scalar("log_offset", log_offset))
    bounds = clip_bounds(clip_epsilon)
    sw = _sample_weight(sample_weight, layout)
    reduction = check.reduction(reduction)

    if indices:
        y, active = check.class_indices(target, layout.sample_shape, C,
                                        check.ignore_index_value(ignore_index))
        y_rows = y.reshape(-1)
        t_rows = np.zeros((len(y_rows), C))
        t_rows[np.arange(len(y_rows)), y_rows] = 1.0
    else:
        t, _ = _probability_targets(target, p, layout, ignore_index, None, validate)
        active = np.ones(layout.sample_shape, dtype=bool)
        t_rows = layout.rows(t)
    plan = _reduction.plan(layout.sample_shape, reduction, sw, empty_mean, active=active)
    ignored = ~active.reshape(-1)
    p_rows = layout.rows(p)
    q = ld(t_rows) if e == 0 else (1 - LD(e)) * ld(t_rows) + LD(e) / C

    after_clip = _renormalization(renormalize)
    if renormalize:
        # p / sum(p) is rounded wherever the sum is: each row in exact rational arithmetic.
        rows = [(LD(0), np.zeros(C, dtype=LD)) if ignored[r] else
                _renormalized_row(p_rows[r], t_rows[r], e, off, bounds, wrt, after_clip)
                for r in range(len(p_rows))]
        loss = np.array([row[0] for row in rows], dtype=LD)
        g_row = np.array([row[1] for row in rows], dtype=LD).reshape(p_rows.shape)
    else:
        P, Q, inside = complement_pair(ld(p_rows), bounds)
        log_p, _ = log_pair(P, Q, off)
        loss = -np.sum(mul0(q, log_p), axis=1, dtype=LD)
        _refine_outside_rows(loss, P, Q, log_p, t_rows, e, off)
        g_row = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if wrt == "input":
                g_row = np.where(inside, -mul0(q, 1 / (P + off)), 0)  # zero where clipped
                # log of a negative number (validate=False): NaN, and so is its derivative
                g_row = np.where(P + off < 0, LD(np.nan), g_row)
            elif wrt == "target":
                g_row = mul0(-(1 - LD(e)), log_p)
    loss = np.where(ignored, 0, loss) + 0  # an ignored sample costs 0; a zero loss is +0.0
    value = plan.apply(loss.reshape(layout.sample_shape))
    if wrt is None:
        return value, None
    if plan.empty_value is not None:  # a mean with a zero divisor: constant empty_mean
        return value, np.full(p.shape, 0 * plan.empty_value)
    g = to_float64(mul0(plan.coefficients.reshape(-1)[:, None], g_row))
    g[ignored] = 0  # whatever the row holds (NaN, a log of 0): an ignored sample passes nothing
    return value, layout.unrows(g) if layout.moved else g.reshape(p.shape)


def _refine_outside_rows(loss, P, Q, log_p, t_rows, e, off):
    """Recompute, in place, the losses of rows outside the domain (validate=False) that cancel.

    A negative target weight q_j, smoothing outside [0, 1], or p' outside [0, 1] give terms
    q_j log(p'_j + o) of both signs; such a row whose loss is below 2**-8 of the size of its
    terms (each q_j at the size of its own terms, |1 - e| |t_j| + |e| / C) is evaluated
    again exactly. Inside the domain no row qualifies.
    """
    C = P.shape[1]
    outside = np.any((P < 0) | (P > 1) | (t_rows < 0), axis=1) & np.all(np.isfinite(P), axis=1)
    if 0 <= e <= 1 and not outside.any():
        return  # inside the domain: nothing to do
    T = np.abs(ld(t_rows))
    q_size = T if e == 0 else np.abs(1 - LD(e)) * T + abs(LD(e) / C)
    with np.errstate(invalid="ignore"):
        size = np.sum(mul0(q_size, np.abs(log_p)), axis=1, dtype=LD)
        cancelled = np.abs(loss) < _CANCELLATION * size
    cancelled &= outside if 0 <= e <= 1 else np.all(np.isfinite(P), axis=1)
    E, offset = Fraction(e), _refine._fraction(off)
    for r in np.flatnonzero(cancelled):
        exact_p, _ = _refine.exact_pair(P[r], Q[r])
        q = [(1 - E) * Fraction(v) + E / C for v in t_rows[r]]
        loss[r] = _settled_loss(q, [v + offset for v in exact_p])


def _renormalization(renormalize) -> bool:
    """Whether the renormalisation comes after the clip: ``renormalize`` is False, True (divide,
    then clip) or "after_clip" (clip, then divide)."""
    if renormalize is False or renormalize is True or renormalize in (0, 1):
        return False
    if renormalize == "after_clip":
        return True
    raise OracleInputError(f"renormalize: {renormalize!r} is not False, True or 'after_clip'")


def _renormalized_row(p, t, e, off, bounds, wrt, after_clip=False):
    """(loss, gradient) of one row with p' = p / sum(p), exactly: rationals, then mpmath logs.

    Clipping compares the exact p' with the exact bounds; each log is taken of an exact
    rational, as log1p(x - 1) where x is near 1. With ``after_clip`` the clip acts on p itself
    and the clipped row is divided by its own sum: p'' = clip(p) / sum(clip(p)).
    """
    C = len(p)
    nan = (LD(np.nan), np.full(C, LD(np.nan)))
    if np.isnan(p).any() or np.isnan(t).any():
        return nan
    P = [Fraction(v) for v in p]
    E, offset = Fraction(e), _refine._fraction(off)
    q = [(1 - E) * Fraction(v) + E / C for v in t]
    low = high = None
    if bounds is not None:
        low, high = _refine._fraction(bounds.low), _refine._fraction(bounds.high)
        if bounds.low == bounds.low_complement:  # a scalar eps: the upper bound is 1 - eps
            high = 1 - low
    if after_clip:
        return _clipped_then_renormalized_row(P, q, E, offset, low, high, wrt)
    S = sum(P)
    if S == 0:
        return nan
    p1 = [v / S for v in P]
    clipped = [v if low is None else min(max(v, low), high) for v in p1]
    inside = [low is None or low <= v <= high for v in p1]
    logs = [_log_rational(v + offset) for v in clipped]
    loss = _row_loss(q, clipped, offset, logs)
    if wrt != "input":
        return loss, _target_gradient(logs, E, C) if wrt == "target" else np.zeros(C, dtype=LD)
    if any(_isnan(lg) for lg in logs):  # every p''_j depends on every p_k through the sum
        return loss, np.full(C, LD(np.nan))
    G = []
    for qj, v, ok in zip(q, clipped, inside, strict=True):
        if not ok or qj == 0:
            G.append(Fraction(0))
        elif v + offset == 0:
            return loss, np.array([LD(-np.inf) if qk else LD(0) for qk in q], dtype=LD)
        else:
            G.append(-qj / (v + offset))
    inner = sum(g * v for g, v in zip(G, p1, strict=True))
    return loss, np.array([_refine._ld((g - inner) / S) for g in G], dtype=LD)


def _target_gradient(logs, E, C: int) -> np.ndarray:
    """dl/dq_j = -(1 - E) log(p_j + o) of a row, from its exact logs (0 * NaN is NaN, as in
    the row's other forms; 0 * -inf is 0)."""
    if (1 - E) == 0:
        return np.array([LD(np.nan) if _isnan(lg) else LD(0) for lg in logs], dtype=LD)
    mpmath = _refine.mpmath
    with mpmath.workdps(60):  # the logs' precision, not the 53 bits of mpmath's default
        keep = _refine._mpf_fraction(1 - E)
        return np.array([_refine._ld(-keep * _as_mp(lg)) for lg in logs], dtype=LD)


def _clipped_then_renormalized_row(P, q, E, offset, low, high, wrt):
    """(loss, gradient) of one row with p'' = c / sum(c), c = clip(p), exactly.

    The clip compares p with the bounds; the loss is -sum_j q_j log(c_j / S + o), S = sum(c).
    Gradient: dl/dc_k = (H_k - sum_j H_j c_j / S) / S with H_j = -q_j / (c_j / S + o) (0 where
    q_j = 0), times 1 where p_k is inside the bounds (inclusive) and 0 where the clip acts.
    """
    C = len(P)
    c = [v if low is None else min(max(v, low), high) for v in P]
    inside = [low is None or low <= v <= high for v in P]
    S = sum(c)
    if S == 0:  # every c_j is 0: nothing to divide by
        return LD(np.nan), np.full(C, LD(np.nan))
    p2 = [v / S for v in c]
    logs = [_log_rational(v + offset) for v in p2]
    loss = _row_loss(q, p2, offset, logs)
    if wrt != "input":
        return loss, _target_gradient(logs, E, C) if wrt == "target" else np.zeros(C, dtype=LD)
    if any(_isnan(lg) for lg in logs):
        return loss, np.full(C, LD(np.nan))
    # H_j = None stands for -inf: c_j = 0 = o with q_j > 0, whose term H_j c_j / S has the
    # limit -q_j
    H, inner = [], Fraction(0)
    for qj, v in zip(q, p2, strict=True):
        if qj == 0:
            H.append(Fraction(0))
        elif v + offset == 0:
            H.append(None)
            inner -= qj
        else:
            H.append(-qj / (v + offset))
            inner += H[-1] * v
    return loss, np.array([LD(0) if not ok else LD(-np.inf) if h is None
                           else _refine._ld((h - inner) / S)
                           for h, ok in zip(H, inside, strict=True)], dtype=LD)


def _row_loss(q, p, offset, logs) -> LD:
    """-sum_j q_j log(p_j + o) from the 60-digit ``logs``; recomputed at rising precision where
    q or p is outside the domain (validate=False) and the terms cancel."""
    total = _mp_sum(q, logs)
    outside = any(qj < 0 for qj in q) or any(not 0 <= v <= 1 for v in p)
    if outside and _refine.mpmath.isfinite(total):
        if abs(total) < _refine.mpmath.ldexp(_mp_size(q, logs), -8):
            return _settled_loss(q, [v + offset for v in p])
    return _refine._ld(total)


def _settled_loss(q, x) -> LD:
    """-sum_j q_j log(x_j) of exact rationals whose sum is finite, settled at rising precision."""
    def compute():
        logs = [_log_rational(v) for v in x]
        return _mp_sum(q, logs), _mp_size(q, logs)
    return _refine._settled(compute)


def _log_rational(x: Fraction):
    """log(x) of an exact rational as an mpf, at 60 digits or the current precision if more
    (None for log 0 = -inf; NaN for a negative x, as IEEE arithmetic has it)."""
    if x == 0:
        return None
    mpmath = _refine.mpmath
    if x < 0:
        return mpmath.mpf("nan")
    with mpmath.workdps(max(60, mpmath.mp.dps)):
        if x > Fraction(1, 2):
            return mpmath.log1p(_refine._mpf_fraction(x - 1))
        return mpmath.log(_refine._mpf_fraction(x))


def _as_mp(value):
    return _refine.mpmath.mpf("-inf") if value is None else value


def _isnan(log) -> bool:
    return log is not None and _refine.mpmath.isnan(log)


def _mp_sum(q, logs):
    """-sum_j q_j log_j with 0 log 0 = 0; a NaN log (of a negative number) makes it NaN."""
    mpmath = _refine.mpmath
    with mpmath.workdps(max(60, mpmath.mp.dps)):
        total = mpmath.mpf(0)
        for qj, lg in zip(q, logs, strict=True):
            if qj != 0 or _isnan(lg):
                total += -_refine._mpf_fraction(qj) * _as_mp(lg)
        return total


def _mp_size(q, logs):
    """sum_j |q_j log_j|: the size of the terms of ``_mp_sum``."""
    mpmath = _refine.mpmath
    with mpmath.workdps(max(60, mpmath.mp.dps)):
        return mpmath.fsum(abs(_refine._mpf_fraction(qj) * _as_mp(lg))
                           for qj, lg in zip(q, logs, strict=True) if qj != 0)

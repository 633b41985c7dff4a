"""Hessian-vector products of the categorical losses, row by row (classes last, as in
``reference._categorical_eval``).

The Hessian of the reduced loss is block-diagonal: one C x C block per sample, times that
sample's coefficient ``c_i`` in the reduction (0 when ignored), the same ``c_i`` as the
gradient's. Each function returns the longdouble product, or with ``magnitude=True`` the same
expression with every factor taken in absolute value and every subtraction turned into a sum
(the error model's scale, ``reference.terms.hvp_terms``).

- cross_entropy: ``H_i = A (diag(p) - p p^T)``, ``A = sum_j a_j``, so ``(H v)_k = A p_k (v_k -
  p.v)``; rows with one +inf logit have a one-hot p and H = 0.
- nll_loss: linear in its input, H = 0.
- categorical_cross_entropy: see ``_renormalized`` for the closed form with the
  renormalisation; without it ``H = diag(q / (p' + o)^2)`` on unclipped classes.
"""

from __future__ import annotations

import numpy as np

from reference import _categorical_eval as _eval
from reference import _checks as check
from reference import _reduction
from reference._binary_hessian import vector_like
from reference._extended import LD, ld, mul0
from reference._probability import clip_bounds, complement_pair
from reference._softmax import Workspace, row_blocks, row_stats
from reference.errors import OracleInputError


def _finish(out_rows, layout, shape):
    return (layout.unrows(out_rows) if layout.moved else out_rows.reshape(shape))


def _sum(x):
    """Row sums in longdouble; NumPy sums a contiguous last axis pairwise (error ~log2(C) units
    of 2**-64 of the summed magnitudes, not C units)."""
    return np.sum(np.ascontiguousarray(x), axis=-1, dtype=LD)


# --- cross_entropy ----------------------------------------------------------------------------


def cross_entropy(vector, magnitude, input, target, weight, ignore_index, reduction,
                  label_smoothing, *, sample_weight, empty_mean, validate):
    x = check.float_array("input", input)
    v = vector_like(vector, x)
    layout = _eval._ClassLayout(x, axis=1 if x.ndim > 1 else 0)
    C = layout.n_classes
    validate = check.validate_flag(validate)
    e = check.smoothing(label_smoothing, validate)
    indices = check.is_class_index_target(target)
    sw = _eval._sample_weight(sample_weight, layout)
    reduction = check.reduction(reduction)
    keep, spread = 1 - LD(e), LD(e) / C
    if magnitude:
        keep, spread = abs(keep), abs(spread)
    if indices:
        _, active, w, w_y = _eval._class_targets(target, layout, ignore_index, weight)
        plan = _reduction.plan(layout.sample_shape, reduction, sw, empty_mean,
                               active=active, mean_weights=w_y)
        # A = sum_j w_j ((1 - e) [j = y] + e / C) = (1 - e) w_y + (e / C) sum_j w_j
        W = np.ones(C, dtype=LD) if w is None else ld(w)
        W_y = ld(w_y.reshape(-1))
        if magnitude:
            W, W_y = np.abs(W), np.abs(W_y)
        A = mul0(keep, W_y) + mul0(spread, _sum(W))
    else:
        q, w = _eval._probability_targets(target, x, layout, ignore_index, weight, validate)
        active = np.ones(layout.sample_shape, dtype=bool)
        plan = _reduction.plan(layout.sample_shape, reduction, sw, empty_mean)
        Q = ld(layout.rows(q))
        W = np.ones(C, dtype=LD) if w is None else ld(w)
        if magnitude:
            Q, W = np.abs(Q), np.abs(W)
        A = _sum(mul0(W, mul0(keep, Q) + spread))
    if plan.empty_value is not None:
        return np.full(x.shape, LD(0) * LD(plan.empty_value))
    active_rows = active.reshape(-1)
    coeff = np.where(active_rows, plan.coefficients.reshape(-1), 0)
    cA = mul0(coeff, A)
    if magnitude:
        cA = np.abs(cA)
    z_rows, v_rows = layout.rows(x), ld(layout.rows(v))
    out = np.empty(z_rows.shape, dtype=LD)
    work = Workspace()
    for rows in row_blocks(len(z_rows), C):
        stats = row_stats(z_rows[rows], work)
        p = stats.e() / stats.s[:, None]  # one-hot where a single logit is +inf
        V = v_rows[rows]
        if magnitude:
            V = np.abs(V)
            inner = V + _sum(p * V)[:, None]
        else:
            inner = V - _sum(p * V)[:, None]
        block = mul0(cA[rows, None], p * inner)
        block[stats.undefined & active_rows[rows]] = np.nan  # as the gradient has it
        out[rows] = block
    return _finish(out, layout, x.shape)


# --- nll_loss ---------------------------------------------------------------------------------


def nll_loss(vector, magnitude, input, target, weight, ignore_index, reduction, *,
             sample_weight, empty_mean, validate):
    """Linear in the input: 0, and NaN only where the gradient is NaN."""
    x = check.float_array("input", input)
    v = vector_like(vector, x)
    _, g = _eval.nll_loss("input", input, target, weight, ignore_index, reduction,
                          sample_weight=sample_weight, empty_mean=empty_mean, validate=validate)
    return np.where(np.isnan(g) | np.isnan(v), LD(np.nan), LD(0))


# --- categorical_cross_entropy ----------------------------------------------------------------


def categorical_cross_entropy(vector, magnitude, input, target, reduction, label_smoothing, *,
                              axis, ignore_index, clip_epsilon, log_offset, renormalize,
                              sample_weight, empty_mean, validate):
    p = check.float_array("input", input)
    validate = check.validate_flag(validate)
    if validate:
        check.in_unit_interval("input", p)
    if not isinstance(axis, (int, np.integer)) or not -max(p.ndim, 1) <= axis < max(p.ndim, 1):
        raise OracleInputError(f"axis: {axis!r} is not an axis of input with shape {p.shape}")
    v = vector_like(vector, p)
    layout = _eval._ClassLayout(p, axis=int(axis))
    C = layout.n_classes
    e = check.smoothing(label_smoothing, validate)
    indices = check.is_class_index_target(target)
    off = LD(check.nonnegative_scalar("log_offset", log_offset))
    bounds = clip_bounds(clip_epsilon)
    sw = _eval._sample_weight(sample_weight, layout)
    reduction = check.reduction(reduction)
    if indices:
        y, active = check.class_indices(target, layout.sample_shape, C,
                                        check.ignore_index_value(ignore_index))
        t_rows = np.zeros((y.size, C))
        t_rows[np.arange(y.size), y.reshape(-1)] = 1.0
    else:
        t, _ = _eval._probability_targets(target, p, layout, ignore_index, None, validate)
        active = np.ones(layout.sample_shape, dtype=bool)
        t_rows = layout.rows(t)
    plan = _reduction.plan(layout.sample_shape, reduction, sw, empty_mean, active=active)
    if plan.empty_value is not None:
        return np.full(p.shape, LD(0) * LD(plan.empty_value))
    after_clip = _eval._renormalization(renormalize)
    keep, spread = 1 - LD(e), LD(e) / C
    if magnitude:
        keep, spread = abs(keep), abs(spread)
    T = ld(t_rows)
    q = (np.abs(T) if magnitude else T) if e == 0 else mul0(keep, np.abs(T) if magnitude
                                                             else T) + spread
    P, V = ld(layout.rows(p)), ld(layout.rows(v))
    if not renormalize:
        h = _plain(P, V, q, off, bounds, magnitude)
    else:
        h = _renormalized(P, V, q, off, bounds, after_clip, magnitude)
    coeff = plan.coefficients.reshape(-1)[:, None]
    out = mul0(np.abs(coeff) if magnitude else coeff, h)
    out[~active.reshape(-1)] = 0  # an ignored sample passes nothing, whatever its row holds
    return _finish(out, layout, p.shape)


def _plain(P, V, q, off, bounds, magnitude):
    """``H = diag(q / (p' + o)^2)`` on unclipped classes (0 where the clip acts); NaN where
    ``p' + o < 0`` (validate=False), as the gradient."""
    Pc, _, inside = complement_pair(P, bounds)
    den = Pc + off
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = mul0(q, 1 / (den * den))
    r = np.where(inside, r, 0)
    r = np.where(den < 0, LD(np.nan), r)
    return mul0(r, np.abs(V) if magnitude else V)


def _renormalized(P, V, q, off, bounds, after_clip, magnitude):
    """Renormalisation, then (or, ``after_clip``, first) the clip, then the offset.

    Write each term as ``f_j = log(c_j + o S) - log S`` with ``S = sum_j c_j``: c = p, the
    classes j whose p / S the clip leaves alone carrying the terms (renormalize=True), or
    c = clip(p), every class carrying a term but only unclipped classes being variables
    (after_clip). Then ``d2 f_j / dc_k dc_l = -(d_jk + o)(d_jl + o) / (c_j + o S)^2 + 1 / S^2``,
    and with ``r_j = q_j / (c_j + o S)^2`` over the terms and V = sum of v over the variables::

        (H v)_k = r_k (v_k + o V) + o sum_j r_j (v_j + o V) - (sum_j q_j) V / S^2

    (k a variable; for o = 0, the familiar ``q_k v_k / p_k^2 - A V / S^2``). The terms that
    cancel between the chain rule's two parts are gone before any rounding. A row whose sum is
    0 or NaN, or with a log of a negative number, is NaN, as its gradient.
    """
    if after_clip:
        c, _, variable = complement_pair(P, bounds)
        S = _sum(c)[:, None]
        term = np.ones(P.shape, dtype=bool)
    else:
        c, S = P, _sum(P)[:, None]
        term = np.ones(P.shape, dtype=bool)
        if bounds is not None:  # the clip compares p / S with the bounds
            with np.errstate(invalid="ignore"):
                below = P < bounds.low * S
                above = (S - P) < bounds.low_complement * S
            term = ~(below | above)
        variable = np.ones(P.shape, dtype=bool)
    den = c + off * S
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = np.where(term, mul0(q, 1 / (den * den)), 0)
        undefined = (S[:, 0] == 0) | np.isnan(S[:, 0]) | np.any(term & (den / S < 0), axis=1)
        Vm = np.where(variable, np.abs(V) if magnitude else V, 0)
        total = _sum(Vm)[:, None]
        shifted = Vm + mul0(off, total)
        R = _sum(mul0(r, shifted))[:, None]
        mass = _sum(np.where(term, q, 0))[:, None]
        last = mass * total / (S * S)
        if magnitude:
            h = mul0(r, shifted) + mul0(off, R) + np.abs(last)
        else:
            h = mul0(r, shifted) + mul0(off, R) - last
    h = np.where(variable, h, 0)
    h[undefined] = np.nan
    return h

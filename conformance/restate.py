"""Fit a named case to what an API offers, where that keeps the case's point.

The stability sweeps and the edge cases are written once per loss, mostly as (2, 3) arrays with
probability targets and no reduction. An API that offers only a mean, only rank-1 inputs or only
class indices would skip them all, and its matrix cells would stay empty. Where a case can be
restated without changing what it tests, it is:

- the reduction: the first of the oracle's reductions (none, sum, mean, sum_over_batch_size,
  weighted_mean) the API offers;
- the rank of a binary loss (element-wise): the arrays flattened to rank 1, weights broadcast
  first;
- the targets of a categorical loss: one-hot probability rows become class indices, and valid
  class indices (no ignore_index) one-hot rows.

The reductions category tests each reduction as such and is never fitted.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from adapters.binding import Binding, Case, one_hot
from reference.specs import REDUCTIONS, loss_spec, option


def _takes_both_target_kinds(case: Case) -> bool:
    """The loss is defined on class indices and on probability rows alike, so one can stand
    for the other."""
    return {"indices", "probabilities"} <= set(loss_spec(case.loss).targets)


def fit(binding: Binding, case: Case, check: str = "value", wrt: str = "input") -> Case:
    """``case`` restated in a form ``binding`` offers, or unchanged if none keeps its point."""
    if binding.supports(case, check, wrt) is None:
        return case
    for restate in (_as_rank_1, _as_indices, _as_one_hot):
        case = restate(binding, case)
    return _in_offered_reduction(binding, case, check, wrt)


def _in_offered_reduction(binding: Binding, case: Case, check: str, wrt: str) -> Case:
    if option(case.options, "reduction") in binding.reductions:
        return case
    for reduction in REDUCTIONS:
        if reduction in binding.reductions:
            fitted = dataclasses.replace(case, options={**case.options, "reduction": reduction})
            if binding.supports(fitted, check, wrt) is None:
                return fitted
    return case


def _as_rank_1(binding: Binding, case: Case) -> Case:
    """A binary loss's arrays flattened, if the API takes rank 1 only and nothing is per-row."""
    x = np.asarray(case.inputs["input"])
    if loss_spec(case.loss).family != "binary" or x.ndim in binding.ranks \
            or 1 not in binding.ranks or "sample_weight" in case.inputs \
            or case.options.get("average_last_axis"):
        return case
    if np.shape(case.inputs["target"]) != x.shape:
        return case  # a shape mismatch is the point of the case
    arrays = {}
    for name, value in case.inputs.items():
        try:
            arrays[name] = np.broadcast_to(value, x.shape).ravel()
        except ValueError:
            return case
    return dataclasses.replace(case, inputs=arrays)


def _as_indices(binding: Binding, case: Case) -> Case:
    """One-hot probability targets as class indices, if the API takes indices only."""
    target = np.asarray(case.inputs["target"])
    if not _takes_both_target_kinds(case) or case.target_kind != "probabilities" \
            or "probabilities" in binding.targets or "indices" not in binding.targets:
        return case
    x = np.asarray(case.inputs["input"])
    if target.shape != x.shape or x.ndim < 1:
        return case
    axis = case.class_axis
    is_one_hot = np.all((target == 0) | (target == 1)) and np.all(target.sum(axis=axis) == 1)
    if not is_one_hot:
        return case
    return dataclasses.replace(case, inputs={**case.inputs, "target": target.argmax(axis=axis)})


def _as_one_hot(binding: Binding, case: Case) -> Case:
    """Valid class indices as one-hot probability rows, if the API takes probabilities only."""
    if not _takes_both_target_kinds(case) or not case.is_index("target") \
            or "indices" in binding.targets or "probabilities" not in binding.targets \
            or "ignore_index" in case.options:
        return case
    x, target = np.asarray(case.inputs["input"]), np.asarray(case.inputs["target"])
    axis = case.class_axis
    classes = x.shape[axis] if x.ndim else 0
    if x.ndim < 1 or target.shape != x.shape[:axis] + x.shape[axis + 1:] \
            or not np.all((target >= 0) & (target < classes)):
        return case  # an invalid index is the point of the case
    rows = np.moveaxis(one_hot(target, classes), -1, axis)
    return dataclasses.replace(case, inputs={**case.inputs, "target": rows})

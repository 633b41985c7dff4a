"""Predicates for the registry of Keras 3 on the torch backend
(conformance/deviations/keras@keras-torch.toml). Plain NumPy-free facts about the options."""

from __future__ import annotations

from adapters.core import Case
from conformance.predicates import predicate


@predicate
def mean_reduction(case: Case) -> bool:
    """The case reduces with a mean: reduction "mean", "sum_over_batch_size" (the Keras loss
    classes' default) or "weighted_mean" (mean_with_sample_weight), whose divisor Keras
    applies with divide_no_nan."""
    return case.options.get("reduction", "sum_over_batch_size") in (
        "mean", "sum_over_batch_size", "weighted_mean")

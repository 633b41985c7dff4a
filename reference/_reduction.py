"""Sample weights and reductions, shared by every loss.

Given the per-sample losses l_i (already multiplied by any class or element weight) the result is

    L_i = sample_weight_i * l_i                         reduction="none"  (array)
    sum_i L_i                                           reduction="sum"
    sum_i L_i / D                                       reduction="mean", "sum_over_batch_size"
                                                        or "weighted_mean"

where D, the divisor, is

    "mean" of a weighted-mean loss (cross_entropy / nll_loss with class indices):
        D = sum over non-ignored i of sample_weight_i * weight[target_i]   (PyTorch)
    "weighted_mean":
        D = sum over non-ignored i of sample_weight_i * v_i                (Keras, sklearn)
        with v_i = weight[target_i] for cross_entropy / nll_loss with class indices, else 1
    every other mean:
        D = number of non-ignored per-sample losses                        (PyTorch, Keras)

"weighted_mean" is the weighted average of the per-sample losses: Keras 3's
``reduction="mean_with_sample_weight"`` (``reduce_values`` in keras/src/losses/loss.py divides the
sum by ``sum(sample_weight)``, an ignored class entering the sample weight as a 0/1 mask in
``apply_mask``) and sklearn's ``log_loss(normalize=True, sample_weight=w)`` (``np.average(l,
weights=w)``). Without sample weights it is "mean" over the per-sample losses. Keras has no class
weight on a loss: ``Model.fit(class_weight=...)`` turns it into the sample weight
``class_weight[y_i]`` (``class_weight_to_sample_weights`` in
keras/src/trainers/data_adapters/data_adapter_utils.py), which the divisor then sums. The class
weight of a class-index target is therefore a per-sample weight here too, and "weighted_mean"
of cross_entropy / nll_loss with class indices equals their "mean". Probability targets carry
their class weights inside l_i (``sum_j weight_j q_ij ...``), as element weights do in the
binary losses: those stay out of D. With ``average_last_axis`` (Keras's binary losses) the
samples are the rows after the last-axis mean, one sample weight each.

The gradient of every reduction is ``c_i * dl_i/dx`` with the coefficients
``c_i = sample_weight_i`` (none, sum) or ``c_i = sample_weight_i / D`` (every mean), 0 at an
ignored sample; D itself holds no input. Negative weights (``validate=False``) are summed into D
exactly, as given, also where they cancel.

A mean whose divisor is zero (empty batch, every target ignored, weights summing to zero) has
the value ``empty_mean``: NaN by default (0/0), 0.0 for Keras's ``divide_no_nan``; its gradient
is ``0 * empty_mean`` everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from reference import _refine
from reference._extended import LD, ld, mul0, to_float64


@dataclass(frozen=True)
class Reduction:
    """A planned reduction: the weight of each per-sample loss in the result."""

    mode: str
    coefficients: np.ndarray  # longdouble, d result / d l_i (of the sum of L_i for "none")
    empty_value: float | None  # the result when the mean's divisor is zero

    def apply(self, per_sample: np.ndarray):
        """The reduced value, rounded once to float64."""
        weighted = mul0(self.coefficients, per_sample)
        if self.mode == "none":
            return to_float64(weighted)
        if self.empty_value is not None:
            return np.float64(self.empty_value)
        return to_float64(np.sum(weighted, dtype=LD))


def _exact_sum_of_products(a: np.ndarray, b: np.ndarray) -> LD:
    """sum_i a_i b_i of finite longdoubles, exactly, rounded once to longdouble."""
    total = sum((Fraction(*x.as_integer_ratio()) * Fraction(*y.as_integer_ratio())
                 for x, y in zip(a.ravel(), b.ravel(), strict=True)), Fraction(0))
    return _refine._ld(total)


def plan(
    shape: tuple[int, ...],
    reduction: str,
    sample_weight: np.ndarray | None,
    empty_mean: float,
    *,
    active: np.ndarray | None = None,
    mean_weights: np.ndarray | None = None,
) -> Reduction:
    """Plan the reduction of per-sample losses of ``shape``.

    ``active`` marks non-ignored samples (default: all); ``mean_weights`` (v_i) makes "mean" a
    weighted mean with divisor ``sum(sample_weight * mean_weights)`` over the active samples,
    and enters the divisor of "weighted_mean" likewise (v_i = 1 when None).
    """
    ones = np.ones(shape, dtype=LD) if sample_weight is None else ld(sample_weight)
    if reduction in ("none", "sum"):
        return Reduction(reduction, ones, None)
    if active is None:
        active = np.ones(shape, dtype=bool)
    if reduction == "weighted_mean" or (reduction == "mean" and mean_weights is not None):
        v = np.ones(shape, dtype=LD) if mean_weights is None else ld(mean_weights)
        products = mul0(ones, v)[active]
        divisor = np.sum(products, dtype=LD)
        if np.any(products < 0) and np.all(np.isfinite(products)):
            # negative weights (validate=False): the sum can cancel, so it is formed exactly
            divisor = _exact_sum_of_products(ones[active], v[active])
    else:
        divisor = LD(np.count_nonzero(active))
    if divisor == 0:
        return Reduction(reduction, np.full(shape, LD(empty_mean) * 0), float(empty_mean))
    return Reduction(reduction, ones / divisor, None)

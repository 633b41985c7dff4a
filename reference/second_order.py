"""``jvp`` and ``hvp``: forward-mode and second-order derivatives of every loss, by name.

- ``jvp``: the directional derivative of the loss's value, as the public function returns it
  (per sample with ``reduction="none"``, a scalar once reduced), along a tangent of the input
  or of probability targets. Each sample's loss depends only on its own elements (its class
  axis, or the last axis under ``average_last_axis``), so the jvp is the analytic gradient of
  the sum of the losses times the tangent, summed per sample (or over everything once reduced).
- ``hvp``: the Hessian of the reduced loss (of the sum of the per-sample losses for "none") with
  respect to the input, times a vector: closed forms per loss in ``reference._binary_hessian``
  and ``reference._categorical_hessian``.

Both evaluate in longdouble and round once to float64.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from reference import _binary_hessian, _categorical_hessian
from reference._extended import LD, ld, mul0, to_float64
from reference._types import Gradient, Loss, Wrt
from reference.errors import OracleInputError
from reference.specs import LOSS_SPECS, LossSpec

#: public name -> (vector, magnitude, **arguments) -> longdouble H v, or its magnitude
HESSIANS: dict[str, Callable[..., np.ndarray]] = {
    "binary_cross_entropy": _binary_hessian.binary_cross_entropy,
    "binary_cross_entropy_with_logits": _binary_hessian.binary_cross_entropy_with_logits,
    "cross_entropy": _categorical_hessian.cross_entropy,
    "nll_loss": _categorical_hessian.nll_loss,
    "categorical_cross_entropy": _categorical_hessian.categorical_cross_entropy,
}


def _bind(name, args, kwargs) -> tuple[LossSpec, dict]:
    """The loss's record and its full set of arguments, defaults applied."""
    key = getattr(name, "__name__", name)
    if key not in LOSS_SPECS:
        raise OracleInputError(f"name: {name!r} is not one of {', '.join(LOSS_SPECS)}")
    spec = LOSS_SPECS[key]
    bound = inspect.signature(spec.oracle).bind(*args, **kwargs)
    bound.apply_defaults()
    return spec, dict(bound.arguments)


def jvp(name: str | Callable[..., Loss], *args: Any, tangent: ArrayLike, wrt: Wrt = "input",
        **kwargs: Any) -> Loss:
    """d/de loss(..., wrt + e * tangent, ...) at e = 0, in the shape of the loss's value.

    ``tangent`` has the shape of the argument ``wrt`` ("input", or "target" for probability
    targets). The products of the gradient and the tangent are summed in longdouble, pairwise:
    within 2 ulp of ``sum_k |g_k t_k|`` over each sample's terms. The gradient is the oracle's
    (``grad``): with ``gradient_floor`` that is PyTorch's floored backward formula, so the jvp
    follows it (as torch's forward mode does), not the derivative of the value. Where a
    gradient element is beyond float64's range (weights near 1e300 times each other) the jvp
    is +-inf or NaN even if the product with the tangent is finite.
    """
    spec, arguments = _bind(name, args, kwargs)
    if wrt not in ("input", "target"):
        raise OracleInputError(f"wrt: {wrt!r} is not 'input' or 'target'")
    _, g = spec.evaluate(wrt=wrt, **arguments)
    t = _binary_hessian.vector_like(tangent, np.asarray(g), "tangent")
    products = mul0(ld(g), ld(t))
    if arguments["reduction"] != "none":
        return to_float64(np.sum(products.ravel(), dtype=LD))
    return to_float64(_per_sample(spec, arguments, products))


def _per_sample(spec: LossSpec, arguments: dict, products: np.ndarray) -> np.ndarray:
    """Sum ``products`` (the input's shape) over each sample's elements."""
    if spec.family == "binary":
        if not arguments["average_last_axis"]:
            return products
        axis = products.ndim - 1
    else:
        axis = spec.class_axis(products.ndim, arguments.get("axis"))
    # a contiguous last axis is summed pairwise by NumPy
    return np.sum(np.ascontiguousarray(np.moveaxis(products, axis, -1)), axis=-1, dtype=LD)


def hvp(name: str | Callable[..., Loss], *args: Any, vector: ArrayLike, wrt: Wrt = "input",
        **kwargs: Any) -> Gradient:
    """The Hessian of the reduced loss (of the sum of the losses for ``reduction="none"``) with
    respect to the input, times ``vector`` (the input's shape): float64, the input's shape."""
    if wrt != "input":
        raise OracleInputError(
            f"wrt: {wrt!r} given, but the Hessian-vector product is taken with respect to the "
            "input only")
    key, arguments = hessian_arguments(name, args, kwargs)
    return to_float64(HESSIANS[key](vector, False, **arguments))


def hessian_arguments(name, args, kwargs) -> tuple[str, dict]:
    """The loss's public name and its bound arguments (for ``hvp`` and ``terms.hvp_terms``)."""
    spec, arguments = _bind(name, args, kwargs)
    return spec.name, arguments

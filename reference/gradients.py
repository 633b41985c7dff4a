"""``grad`` and ``value_and_grad``: analytic gradients of every loss, by name."""

from __future__ import annotations

import inspect

from reference import _categorical_eval, binary, categorical
from reference.errors import OracleInputError

#: public name -> (public function, evaluator returning (value, gradient))
LOSSES = {
    "binary_cross_entropy": (binary.binary_cross_entropy, binary._binary_cross_entropy),
    "binary_cross_entropy_with_logits": (
        binary.binary_cross_entropy_with_logits,
        binary._binary_cross_entropy_with_logits,
    ),
    "cross_entropy": (categorical.cross_entropy, _categorical_eval.cross_entropy),
    "nll_loss": (categorical.nll_loss, _categorical_eval.nll_loss),
    "categorical_cross_entropy": (
        categorical.categorical_cross_entropy,
        _categorical_eval.categorical_cross_entropy,
    ),
}


def value_and_grad(name, *args, wrt="input", **kwargs):
    """The loss and its analytic gradient with respect to ``wrt`` ("input" or "target").

    ``name`` is a public loss name (or the function itself); the other arguments are those of
    that function. The gradient is of the reduced loss, or of the sum of the per-element losses
    when ``reduction="none"``, and has the shape of the argument it is taken with respect to.
    """
    key = getattr(name, "__name__", name)
    if key not in LOSSES:
        raise OracleInputError(f"name: {name!r} is not one of {', '.join(LOSSES)}")
    if wrt not in ("input", "target"):
        raise OracleInputError(f"wrt: {wrt!r} is not 'input' or 'target'")
    public, evaluate = LOSSES[key]
    bound = inspect.signature(public).bind(*args, **kwargs)
    bound.apply_defaults()
    return evaluate(wrt=wrt, **bound.arguments)


def grad(name, *args, wrt="input", **kwargs):
    """The analytic gradient only; see ``value_and_grad``."""
    return value_and_grad(name, *args, wrt=wrt, **kwargs)[1]

"""``grad`` and ``value_and_grad``: analytic gradients of every loss, by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from reference._types import Gradient, Loss, Wrt
from reference.errors import OracleInputError
from reference.specs import LOSS_SPECS

#: public name -> (public function, evaluator returning (value, gradient))
LOSSES: dict[str, tuple[Callable[..., Loss], Callable[..., tuple[Loss, Gradient]]]] = {
    name: (spec.oracle, spec.evaluate) for name, spec in LOSS_SPECS.items()}


def value_and_grad(name: str | Callable[..., Loss], *args: Any, wrt: Wrt = "input",
                   **kwargs: Any) -> tuple[Loss, Gradient]:
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


def grad(name: str | Callable[..., Loss], *args: Any, wrt: Wrt = "input",
         **kwargs: Any) -> Gradient:
    """The analytic gradient only; see ``value_and_grad``."""
    return value_and_grad(name, *args, wrt=wrt, **kwargs)[1]

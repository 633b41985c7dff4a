"""Errors element by element, each in ulps of its own exact value.

The suite's verdicts are normwise (``conformance.tolerance``): a gradient element is allowed
the rounding of its formula's terms, so an element far smaller than its terms may be wholly
wrong and still pass. That is the honest contract of a reduction, but not what a user of one
element sees: PyTorch's BCE-with-logits gradient is exactly 0 for a logit above about 37 with
target 1, where the exact value is -sigmoid(-x), a 100 % relative error that the normwise bound
cannot see. This module measures what the normwise verdict leaves out, for the derivative
checks beside their verdicts and for the accuracy tables (``conformance.accuracy``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from reference.specs import dtype_spec


@dataclass(frozen=True)
class ElementErrors:
    """Per element of a result: ``ulps`` (0 where both are the same non-finite value, inf where
    only one side is finite or they are different non-finite values), and masks of the
    elements whose exact value, as the dtype holds it, is non-zero but came back 0 (``zero``) or
    with the opposite sign (``sign``), and of the non-finite disagreements (``nonfinite``)."""

    ulps: np.ndarray
    zero: np.ndarray
    sign: np.ndarray
    nonfinite: np.ndarray


def in_dtype(values: np.ndarray, dtype: str) -> np.ndarray:
    """Exact values as the dtype can hold their size: beyond its largest finite value, inf (an
    exact result above the range is infinite in the dtype, and no error to return inf)."""
    limit = dtype_spec(dtype).max
    with np.errstate(invalid="ignore"):
        return np.where(np.abs(values) > limit, np.sign(values) * np.inf, values)


def element_errors(expected, observed, dtype: str) -> ElementErrors:
    """``observed`` against the exact ``expected`` (float64, same shape), element by element,
    in units of the dtype's ulp at the exact value (subnormal spacing below the normals)."""
    exact = in_dtype(np.asarray(expected, dtype=np.float64), dtype)
    got = np.asarray(observed, dtype=np.float64)
    spec = dtype_spec(dtype)
    held = spec.round(exact)  # what the dtype holds of the exact value
    finite = np.isfinite(exact) & np.isfinite(got)
    same_special = (np.isnan(exact) & np.isnan(got)) | (np.isinf(exact) & (exact == got))
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        ulps = np.where(finite, np.abs(got - exact) / spec.ulp(exact),
                        np.where(same_special, 0.0, np.inf))
    nonzero = finite & (held != 0)
    return ElementErrors(
        ulps=ulps,
        zero=nonzero & (got == 0),
        sign=nonzero & (got != 0) & (np.signbit(got) != np.signbit(held)),
        nonfinite=~(finite | same_special),
    )


def summary(expected, observed, dtype: str) -> dict:
    """A derivative's componentwise record (results schema ``componentwise``): the worst
    element's ulps and index, and how many elements came back 0 or with the wrong sign."""
    errors = element_errors(expected, observed, dtype)
    if errors.ulps.size == 0:
        return {"ulp": 0.0, "index": None, "zero": 0, "sign": 0}
    worst = np.unravel_index(int(np.argmax(errors.ulps)), errors.ulps.shape)
    return {"ulp": float(errors.ulps[worst]), "index": [int(i) for i in worst],
            "zero": int(errors.zero.sum()), "sign": int(errors.sign.sum())}

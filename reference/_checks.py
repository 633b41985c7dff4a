"""Argument checks: each failure raises OracleInputError naming the argument and the value."""

from __future__ import annotations

import math

import numpy as np

from reference._types import REDUCTIONS
from reference.errors import OracleInputError


def _first(mask: np.ndarray, values: np.ndarray) -> str:
    """Describe the first offending element: its value and, for arrays, its position."""
    index = tuple(int(i) for i in np.argwhere(mask)[0])
    value = values[index] if values.ndim else values[()]
    where = f" at position {index}" if values.ndim else ""
    return f"{value.item()!r}{where}"


def float_array(name: str, x) -> np.ndarray:
    """``x`` as a float64 array; integers and booleans convert exactly, anything else is refused."""
    try:
        a = np.asarray(x)
    except Exception as exc:  # ragged nested lists and the like
        raise OracleInputError(f"{name}: cannot be read as a numeric array ({exc})") from None
    if a.dtype.kind not in "biuf":
        raise OracleInputError(f"{name}: expected real numbers, got dtype {a.dtype}")
    if a.dtype.kind == "f" and a.dtype.itemsize > 8:
        raise OracleInputError(f"{name}: dtype {a.dtype} does not fit float64 exactly")
    return a.astype(np.float64, copy=False)


def optional_float_array(name: str, x) -> np.ndarray | None:
    return None if x is None else float_array(name, x)


def in_unit_interval(name: str, a: np.ndarray, what: str = "probability") -> None:
    """Every non-NaN element of ``a`` lies in [0, 1]; NaN is allowed and propagates."""
    bad = (a < 0) | (a > 1)
    if np.any(bad):
        raise OracleInputError(f"{name}: {what} {_first(bad, a)} is outside [0, 1]")


def smoothing(label_smoothing, validate: bool = True) -> float:
    """The smoothing e: in [0, 1], or with ``validate=False`` any finite number (the formula
    ``(1 - e) y + e / C`` is linear in e; NaN or an infinity is a broken setting, not a value)."""
    e = _scalar("label_smoothing", label_smoothing)
    if validate and not 0.0 <= e <= 1.0:
        raise OracleInputError(f"label_smoothing: {e!r} is outside [0, 1]")
    if not math.isfinite(e):
        raise OracleInputError(f"label_smoothing: {e!r} is not a finite number")
    return e


def validate_flag(value) -> bool:
    """``validate`` is True or False: whether the value-domain checks apply (see README)."""
    if not isinstance(value, (bool, np.bool_)):
        raise OracleInputError(f"validate: expected True or False, got {value!r}")
    return bool(value)


def reduction(value) -> str:
    if value not in REDUCTIONS:
        raise OracleInputError(f"reduction: {value!r} is not one of {', '.join(REDUCTIONS)}")
    return value


def _scalar(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise OracleInputError(f"{name}: expected a real number, got {value!r}") from None
    return v


def nonnegative_scalar(name: str, value, upper: float = math.inf) -> float:
    v = _scalar(name, value)
    if not 0.0 <= v <= upper:
        raise OracleInputError(f"{name}: {v!r} is outside [0, {upper}]")
    return v


def optional_scalar(name: str, value) -> float | None:
    if value is None:
        return None
    v = _scalar(name, value)
    if math.isnan(v):
        raise OracleInputError(f"{name}: NaN is not a valid setting")
    return v


def same_shape(name: str, a: np.ndarray, ref_name: str, ref: np.ndarray) -> None:
    if a.shape != ref.shape:
        raise OracleInputError(
            f"{name}: shape {a.shape} does not match {ref_name} shape {ref.shape}"
        )


def broadcast(name: str, a: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """``a`` broadcast (NumPy rules) to ``shape``; ``None`` stays ``None``."""
    if a is None:
        return None
    try:
        return np.broadcast_to(a, shape)
    except ValueError:
        raise OracleInputError(f"{name}: shape {a.shape} does not broadcast to {shape}") from None


def class_weight(weight, n_classes: int) -> np.ndarray | None:
    w = optional_float_array("weight", weight)
    if w is not None and w.shape != (n_classes,):
        raise OracleInputError(
            f"weight: shape {w.shape} is not ({n_classes},), one weight per class"
        )
    return w


def class_indices(
    target, expected_shape: tuple[int, ...], n_classes: int, ignore_index: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Validate integer class indices; return (indices with ignored set to 0, active mask)."""
    t = np.asarray(target)
    if t.shape != expected_shape:
        raise OracleInputError(
            f"target: shape {t.shape} does not match the input without its class axis "
            f"{expected_shape}"
        )
    active = np.ones(t.shape, dtype=bool) if ignore_index is None else t != ignore_index
    bad = active & ((t < 0) | (t >= n_classes))
    if np.any(bad):
        raise OracleInputError(
            f"target: class index {_first(bad, t)} is outside [0, {n_classes})"
            + ("" if ignore_index is None else f" and is not ignore_index={ignore_index}")
        )
    return np.where(active, t, 0).astype(np.intp), active


def ignore_index_value(ignore_index) -> int | None:
    if ignore_index is None:
        return None
    if isinstance(ignore_index, (bool, np.bool_)) or not isinstance(
        ignore_index, (int, np.integer)
    ):
        raise OracleInputError(f"ignore_index: expected an integer or None, got {ignore_index!r}")
    return int(ignore_index)


def is_class_index_target(target) -> bool:
    """PyTorch's rule: an integer target holds class indices, a floating one probabilities."""
    kind = np.asarray(target).dtype.kind
    if kind == "b":
        raise OracleInputError(
            "target: boolean dtype is ambiguous; pass integer class indices or float probabilities"
        )
    if kind not in "iuf":
        raise OracleInputError(
            f"target: expected integers or floats, got dtype {np.asarray(target).dtype}"
        )
    return kind in "iu"

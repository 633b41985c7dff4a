"""Small, regular example cases for every loss: the inputs of the adapter contract tests.

Values are chosen away from every edge (probabilities in [0.1, 0.9], logits within +-3) so
that any working implementation agrees with the oracle to a few units of its dtype's rounding.
"""

from __future__ import annotations

import numpy as np

from adapters.core import Case

_LOGITS = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])
_PROBABILITIES = np.array([[0.2, 0.7, 0.9], [0.4, 0.5, 0.6]])
_SOFT = np.array([[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]])
_INDICES = np.array([2, 0])

#: example values of every array or scalar option, for two samples of three classes
OPTION_VALUES = {
    "weight": np.array([0.5, 1.0, 2.0]),
    "pos_weight": np.array([1.5, 0.5, 2.0]),
    "sample_weight": np.array([0.3, 1.7]),
    "label_smoothing": 0.1,
    "ignore_index": 1,
}


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _ranked(a: np.ndarray, rank: int, class_axis: int | None) -> np.ndarray:
    """Reshape a (2, 3) example to ``rank`` dimensions keeping 3 classes on the class axis."""
    if rank == 2:
        return a
    if rank == 1:
        return a[0]
    if rank == 0:
        return a[0, 0]
    extra = (1,) * (rank - 2)
    if class_axis == 1:  # (N, C) -> (N, C, 1, ...)
        return a.reshape(a.shape + extra)
    return a.reshape((a.shape[0], *extra, a.shape[1]))  # classes stay last


def regular_case(loss: str, *, rank: int = 2, target_kind: str = "probabilities",
                 dtype: str = "float64", reduction: str = "mean", options: dict | None = None,
                 class_axis: int = 1) -> Case:
    """A regular example of ``loss``; ``options`` names the options to set (values above)."""
    options = dict(options or {})
    scalars = {"reduction": reduction}
    arrays = {}
    for name, value in options.items():
        value = OPTION_VALUES[name] if value is None else value
        (arrays if isinstance(value, np.ndarray) else scalars)[name] = value
    per_class = loss in ("cross_entropy", "nll_loss", "categorical_cross_entropy")
    axis = 1 if loss in ("cross_entropy", "nll_loss") else class_axis
    if loss == "binary_cross_entropy":
        inputs = {"input": _PROBABILITIES, "target": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])}
    elif loss == "binary_cross_entropy_with_logits":
        inputs = {"input": _LOGITS, "target": np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])}
    elif loss == "cross_entropy":
        inputs = {"input": _LOGITS}
    elif loss == "nll_loss":
        inputs = {"input": np.log(_softmax(_LOGITS, 1))}
    elif loss == "categorical_cross_entropy":
        inputs = {"input": _softmax(_LOGITS, 1)}
    else:
        raise ValueError(f"unknown loss {loss!r}")
    if per_class:
        if target_kind == "indices":
            target = _INDICES if "ignore_index" not in scalars else np.array([2, 1])
            inputs["target"] = target if rank >= 2 else target[0]
            inputs["target"] = _ranked_indices(inputs["target"], rank)
        else:
            inputs["target"] = _ranked(_SOFT, rank, axis if rank > 2 else 1)
        inputs["input"] = _ranked(inputs["input"], rank, axis if rank > 2 else 1)
        if axis != 1 and rank > 2:
            scalars.setdefault("axis", -1)
    else:
        inputs = {k: _ranked(v, rank, None) for k, v in inputs.items()}
    if "sample_weight" in arrays and rank != 2:
        arrays.pop("sample_weight")
    return Case(loss, {**inputs, **arrays}, scalars, dtype)


def _ranked_indices(t: np.ndarray, rank: int) -> np.ndarray:
    if rank <= 2:
        return t
    return t.reshape(t.shape + (1,) * (rank - 2))

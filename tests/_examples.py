"""Small, regular example cases of every loss in any rank: the inputs of the adapter contract
tests.

Every case is the loss's own example (``LossSpec.example``: logits within +-2, probabilities
in [0.1, 0.9]), so any working implementation agrees with the oracle to a few units of its
dtype's rounding.
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Case
from conformance.cases import OPTION_EXAMPLES
from reference.specs import loss_spec

#: example values of every array or scalar option, for two samples of three classes (the
#: suite's own; the class axis is a structural option, exercised through the ranks)
OPTION_VALUES = {k: v for k, v in OPTION_EXAMPLES.items() if k != "axis"}


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


def _ranked_indices(t: np.ndarray, rank: int) -> np.ndarray:
    """Class indices of a (2,) example for an input of ``rank``: one index for a single row,
    trailing unit axes for the spatial ones."""
    if rank < 2:
        return t[0]
    return t.reshape(t.shape + (1,) * (rank - 2))


def regular_case(loss: str, *, rank: int = 2, target_kind: str = "probabilities",
                 dtype: str = "float64", reduction: str = "mean", options: dict | None = None,
                 class_axis: int = 1) -> Case:
    """A regular example of ``loss``; ``options`` names the options to set (values above).
    ``class_axis`` places the classes of a rank > 2 input of a channels-last loss."""
    spec = loss_spec(loss)
    scalars = {"reduction": reduction}
    arrays = {}
    for name, value in dict(options or {}).items():
        value = OPTION_VALUES[name] if value is None else value
        (arrays if isinstance(value, np.ndarray) else scalars)[name] = value
    if spec.family == "binary":
        inputs = {k: _ranked(v, rank, None) for k, v in spec.example().items()}
    else:
        kind = target_kind
        example = spec.example(kind)
        if kind == "indices" and "ignore_index" in scalars:
            example["target"] = np.array([2, 1])  # sample 2 is ignored
        axis = spec.class_axis(rank) if spec.channels_first else class_axis
        axis = axis if rank > 2 else 1
        inputs = {"input": _ranked(example["input"], rank, axis)}
        inputs["target"] = (_ranked_indices(example["target"], rank) if kind == "indices"
                            else _ranked(example["target"], rank, axis))
        if not spec.channels_first and rank > 2 and class_axis != 1:
            scalars.setdefault("axis", -1)
    if "sample_weight" in arrays and rank != 2:
        arrays.pop("sample_weight")
    return Case(loss, {**inputs, **arrays}, scalars, dtype)

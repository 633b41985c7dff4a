"""Small, regular example cases of every loss in any rank, and the contract tests' capability
bound: the inputs of the adapter contract tests and of the agreement test.

Every case is the loss's own example (``LossSpec.example``: logits within +-2, probabilities
in [0.1, 0.9]), so any working implementation agrees with the oracle to a few units of its
dtype's rounding.
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Binding, Case
from conformance.cases import OPTION_EXAMPLES
from reference.specs import loss_spec

#: example values of every array or scalar option, for two samples of three classes (the
#: suite's own; the class axis is a structural option, exercised through the ranks)
OPTION_VALUES = {k: v for k, v in OPTION_EXAMPLES.items() if k != "axis"}

#: How far from the oracle a result may land and still show that a declared capability (a
#: dtype, reduction, target kind, option, rank or gradient) *works*: relative to the largest
#: expected magnitude (at least 1). Deliberately generous, and no accuracy bound: a wrong
#: formula, axis, reduction or target misses the oracle by whole percents, far beyond it, while
#: a working call in half precision rounds every step to 11 (float16) or 8 (bfloat16) bits.
#: How close a working call comes is the error model's question (``conformance.tolerance``),
#: asked by the agreement test and the conformance suite.
CAPABILITY_TOLERANCE = {"float16": 3e-2, "bfloat16": 1e-1, "float32": 1e-4, "float64": 1e-4}


def works_as_declared(observed, expected, dtype: str) -> bool:
    """``observed`` is finite, shaped as ``expected`` and within ``CAPABILITY_TOLERANCE``."""
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    if observed.shape != expected.shape or not np.all(np.isfinite(observed)):
        return False
    tolerance = CAPABILITY_TOLERANCE[dtype]
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.allclose(observed, expected, rtol=tolerance, atol=tolerance * scale))


def _ranked(a: np.ndarray, rank: int, class_axis: int) -> np.ndarray:
    """A (2, 3) example with ``rank`` dimensions, its 3 classes on ``class_axis``, unit axes
    added for the spatial ones: (3, 2) for axis 0, (2, 3, 1) for axis 1, (2, 1, 3) for the
    last."""
    if rank < 2:
        return a[0] if rank == 1 else a[0, 0]
    return np.moveaxis(a.reshape(a.shape + (1,) * (rank - 2)), 1, class_axis)


def regular_case(loss: str, *, rank: int = 2, target_kind: str | None = None,
                 dtype: str = "float64", reduction: str = "mean", options: dict | None = None,
                 class_axis: int | None = None) -> Case:
    """The regular example of ``loss`` at ``rank``, with ``target_kind`` targets (the loss's
    first by default). ``options`` names the options to set (None: the value above; ``axis``
    is the oracle's class axis). At rank 2 and more the classes of a categorical loss go on
    ``class_axis``, by default the loss's own (``LossSpec.class_axis``, which reads ``axis``)."""
    spec = loss_spec(loss)
    scalars, arrays = {"reduction": reduction}, {}
    for name, value in dict(options or {}).items():
        value = OPTION_VALUES[name] if value is None else value
        (arrays if isinstance(value, np.ndarray) else scalars)[name] = value
    kind = None if spec.family == "binary" else target_kind or spec.targets[0]
    example = spec.example(kind)
    if kind == "indices" and "ignore_index" in scalars:
        example["target"] = np.array([2, 1])  # sample 2 is ignored
    if class_axis is None or rank < 2 or kind is None:
        class_axis = spec.class_axis(rank, scalars.get("axis"))
    inputs = {"input": _ranked(example["input"], rank, class_axis)}
    if kind == "indices":  # a single row's index, or unit axes for the spatial ones
        target = example["target"]
        inputs["target"] = target[0] if rank < 2 else target.reshape(
            target.shape + (1,) * (rank - 2))
    else:
        inputs["target"] = _ranked(example["target"], rank, class_axis)
    if "sample_weight" in arrays and rank != 2:
        arrays.pop("sample_weight")
    return Case(loss, {**inputs, **arrays}, scalars, dtype)


def ordinary_case(binding: Binding, **settings) -> Case:
    """The binding's most ordinary case, with ``settings`` (``regular_case``'s keywords)
    applied: rank 2, its first target kind, its first of mean, sum_over_batch_size, sum and
    none, float64 where offered, and the options it cannot be called without."""
    ordinary = {
        "rank": 2 if 2 in binding.ranks else binding.ranks[0],
        "target_kind": binding.targets[0],
        "reduction": next((r for r in ("mean", "sum_over_batch_size", "sum", "none")
                           if r in binding.reductions), "mean"),
        "dtype": "float64" if "float64" in binding.dtypes else binding.dtypes[0],
    }
    ordinary.update(settings)
    ordinary["options"] = {**dict.fromkeys(binding.required), **ordinary.get("options", {})}
    return regular_case(binding.loss, **ordinary)

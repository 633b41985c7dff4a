"""Named facts about a case, for deviation-registry matchers (``match.predicate``).

Each predicate reads the case's oracle-layout arrays and options and says whether a property
holds. Names say what is true of the inputs, never which library misbehaves on them.
Predicates used by one library's registry only live in its folder's ``predicates.py``
(``adapters/keras/predicates.py``), beside the registry; they are loaded with this module.
"""

from __future__ import annotations

import numpy as np

from adapters.binding import Case
from reference.specs import dtype_spec, loss_spec, option

#: how far from 1 a row of probabilities may sum and still count as summing to 1: rounding a
#: row that sums to 1 to float32 moves its sum by at most 2**-24 (each element by 2**-24 of
#: itself), while the named cases' rows that do not sum to 1 are off by 0.1 or more
ROW_SUM_SLACK = 1e-6

_PREDICATES = {}


def predicate(function):
    _PREDICATES[function.__name__] = function
    return function


def exists(name: str) -> bool:
    return name in _PREDICATES


def holds(name: str, case: Case) -> bool:
    return bool(_PREDICATES[name](case))


def names() -> list[str]:
    return sorted(_PREDICATES)


def in_dtype(case: Case, values) -> np.ndarray:
    """``values`` (an array, or the name of one of the case's inputs) as the tested dtype
    holds them, back in float64: the facts a library sees are facts about these numbers."""
    values = case.inputs[values] if isinstance(values, str) else values
    return dtype_spec(case.dtype).round(values)


def _input(case: Case) -> np.ndarray:
    return np.asarray(case.inputs["input"], dtype=np.float64)


def _target(case: Case) -> np.ndarray:
    return np.asarray(case.inputs["target"])


@predicate
def empty_batch(case: Case) -> bool:
    """The input holds no element."""
    return _input(case).size == 0


@predicate
def nan_input(case: Case) -> bool:
    return bool(np.isnan(_input(case)).any())


@predicate
def infinite_input(case: Case) -> bool:
    return bool(np.isinf(_input(case)).any())


@predicate
def positive_infinite_input(case: Case) -> bool:
    return bool((_input(case) == np.inf).any())


@predicate
def negative_infinite_input(case: Case) -> bool:
    return bool((_input(case) == -np.inf).any())


@predicate
def label_smoothing(case: Case) -> bool:
    return float(option(case.options, "label_smoothing")) != 0.0


@predicate
def class_index_out_of_range(case: Case) -> bool:
    """A class index below 0 or at least C that is not the ignore_index."""
    t = _target(case)
    if t.dtype.kind not in "iu":
        return False
    classes = _input(case).shape[case.class_axis]
    ignore = case.options.get("ignore_index")
    bad = (t < 0) | (t >= classes)
    if ignore is not None:
        bad &= t != ignore
    return bool(bad.any())


@predicate
def every_target_ignored(case: Case) -> bool:
    t = _target(case)
    ignore = case.options.get("ignore_index")
    return t.dtype.kind in "iu" and ignore is not None and t.size > 0 and bool((t == ignore).all())


@predicate
def probabilities_not_summing_to_one(case: Case) -> bool:
    """Some sample's probabilities (along its class axis) sum away from 1 by more than
    ``ROW_SUM_SLACK``."""
    p = _input(case)
    if p.ndim < 1:
        return False
    sums = p.sum(axis=case.class_axis)
    return bool((np.abs(sums - 1) > ROW_SUM_SLACK).any())


# --- facts about the inputs as the library holds them: rounded to the tested dtype -----------


def float_target(case: Case) -> np.ndarray | None:
    """The float target rounded to the tested dtype; None for class indices."""
    if np.asarray(case.inputs["target"]).dtype.kind != "f":
        return None
    return in_dtype(case, "target")


@predicate
def finite_input_in_dtype(case: Case) -> bool:
    """In the tested dtype (bfloat16 included), every input element is finite: no NaN, no
    infinity, no overflow of the dtype."""
    return bool(np.isfinite(in_dtype(case, "input")).all())


@predicate
def infinite_input_in_dtype(case: Case) -> bool:
    """In the tested dtype, some input element is +inf or -inf (given so, or overflowing the
    dtype: a logit of 1e6 in float16)."""
    return bool(np.isinf(in_dtype(case, "input")).any())


@predicate
def positive_infinite_logit_in_dtype(case: Case) -> bool:
    """In the tested dtype, some logit is +inf (given so, or overflowing the dtype)."""
    return bool((in_dtype(case, "input") == np.inf).any())


@predicate
def infinite_logit_at_certain_target(case: Case) -> bool:
    """In the tested dtype, some logit is +inf where its float target is exactly 1, or -inf
    where it is exactly 0: binary cross-entropy with logits has the limit 0 there, while one of
    its terms is ``0 * log sigmoid(-inf)``, ``0 * -inf`` (or -inf - (-inf)) in IEEE arithmetic."""
    y = float_target(case)
    x = in_dtype(case, "input")
    if y is None or y.shape != x.shape:
        return False
    return bool((((x == np.inf) & (y == 1)) | ((x == -np.inf) & (y == 0))).any())


@predicate
def class_weight_given(case: Case) -> bool:
    """A categorical loss weighs its classes (``weight``), not all by 1."""
    if loss_spec(case.loss).family != "categorical" or "weight" not in case.inputs:
        return False
    return bool(np.any(np.asarray(case.inputs["weight"], dtype=np.float64) != 1))


@predicate
def ignore_index_given(case: Case) -> bool:
    """The case ignores a class index (``ignore_index``)."""
    return case.options.get("ignore_index") is not None


@predicate
def one_row_input(case: Case) -> bool:
    """The input is one row: a categorical (C,) input, or a binary input of rank 1 or 0 (one
    sample, where a loss averages the last axis per sample as Keras does)."""
    ndim = np.ndim(case.inputs["input"])
    return ndim == 1 if loss_spec(case.loss).family == "categorical" else ndim <= 1


@predicate
def class_axis_not_last(case: Case) -> bool:
    """The classes are on another axis than the last one."""
    return case.class_axis != max(np.ndim(case.inputs["input"]) - 1, 0)


@predicate
def certain_probability_in_dtype(case: Case) -> bool:
    """In the tested dtype some probability input is exactly 0 or 1: given so, or rounded
    there (sigmoid(z) or softmax(z) of logits beyond about 8 in float16, 17 in float32 and 37
    in float64 leave no room between p and 1). A loss of such a p is the loss of certainty."""
    if loss_spec(case.loss).input_kind != "probabilities":
        return False
    p = in_dtype(case, _input(case))
    return bool(((p == 0) | (p == 1)).any())


def _load_library_predicates() -> None:
    """Import every library folder's ``predicates.py`` (``adapters/keras/predicates.py``...),
    whose predicates register themselves."""
    import importlib
    import importlib.util
    import pkgutil

    import adapters

    for folder in pkgutil.iter_modules(adapters.__path__):
        if folder.ispkg and importlib.util.find_spec(f"adapters.{folder.name}.predicates"):
            importlib.import_module(f"adapters.{folder.name}.predicates")


_load_library_predicates()

"""The type hints of the public oracle API say what its functions take and return.

A type checker reads them from the installed package (``reference/py.typed``, see
tests/test_packaging.py); these tests hold them to the truth at run time: every parameter and
result is annotated and the annotations resolve, each Literal names exactly what the oracle
accepts, and every loss returns what its hint says, on every target kind and reduction.
"""

from __future__ import annotations

import inspect
import typing

import numpy as np
import pytest

import reference
from reference import OracleInputError
from reference._types import Reduction, Wrt
from reference.specs import LOSS_SPECS

PUBLIC_FUNCTIONS = [spec.oracle for spec in LOSS_SPECS.values()] + [reference.grad,
                                                                    reference.value_and_grad]
CASES = [(name, kind) for name, spec in LOSS_SPECS.items() for kind in spec.targets]


def _case_id(case: tuple[str, str]) -> str:
    return "-".join(case)


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_every_parameter_and_result_is_annotated(function):
    hints = typing.get_type_hints(function)  # raises if an annotation names nothing
    assert set(hints) == {*inspect.signature(function).parameters, "return"}


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_results_are_what_the_hints_say(case):
    name, kind = case
    spec = LOSS_SPECS[name]
    example = spec.example(kind)
    for reduction in typing.get_args(Reduction):
        value, gradient = reference.value_and_grad(name, **example, reduction=reduction)
        # Loss: a float64 scalar once reduced, a float64 array of per-sample losses with "none"
        if reduction == "none":
            assert isinstance(value, np.ndarray), reduction
            assert value.dtype == np.float64
        else:
            assert type(value) is np.float64, reduction
        # Gradient: a float64 array shaped like the argument
        assert isinstance(gradient, np.ndarray), reduction
        assert gradient.dtype == np.float64
        assert gradient.shape == example["input"].shape
        assert type(spec.oracle(**example, reduction=reduction)) is type(value)
        assert type(reference.grad(name, **example, reduction=reduction)) is np.ndarray


def test_one_unbatched_sample_of_a_class_loss_is_a_scalar_even_unreduced():
    # why Loss is np.float64 | NDArray[np.float64] and not the array alone: softmax of
    # [0, log 3] is [1/4, 3/4]; class 1 costs -log(3/4) = 0.2877, a 0-d result
    value = reference.cross_entropy([0.0, np.log(3.0)], np.array(1), reduction="none")
    assert type(value) is np.float64
    assert value == pytest.approx(-np.log(0.75), rel=1e-15)


@pytest.mark.parametrize("name", list(LOSS_SPECS))
def test_the_reduction_literal_names_what_the_oracle_accepts(name):
    spec = LOSS_SPECS[name]
    for reduction in typing.get_args(Reduction):
        spec.oracle(**spec.example(), reduction=reduction)
    with pytest.raises(OracleInputError, match="reduction: 'avg' is not one of none, sum"):
        spec.oracle(**spec.example(), reduction="avg")


def test_the_wrt_literal_names_what_grad_accepts():
    example = LOSS_SPECS["cross_entropy"].example("probabilities")
    for wrt in typing.get_args(Wrt):
        reference.grad("cross_entropy", **example, wrt=wrt)
    with pytest.raises(OracleInputError, match="wrt: 'weight' is not 'input' or 'target'"):
        reference.grad("cross_entropy", **example, wrt="weight")


def test_the_renormalize_hint_names_what_the_oracle_accepts():
    hint = typing.get_type_hints(reference.categorical_cross_entropy)["renormalize"]
    literal = [arg for arg in typing.get_args(hint) if typing.get_origin(arg) is typing.Literal]
    assert typing.get_args(hint)[0] is bool
    assert [typing.get_args(arg) for arg in literal] == [("after_clip",)]
    example = LOSS_SPECS["categorical_cross_entropy"].example()
    for renormalize in (False, True, "after_clip"):
        reference.categorical_cross_entropy(**example, renormalize=renormalize)
    with pytest.raises(OracleInputError, match="renormalize: 'before_clip' is not False"):
        reference.categorical_cross_entropy(**example, renormalize="before_clip")

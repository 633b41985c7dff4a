"""reductions: none/sum/mean, weighted means, per-sample vs per-class weights, empty batches,
all targets ignored (named cases, float32 and float64)."""

import dataclasses

import pytest

from conformance._params import BINDINGS, IDS
from conformance.cases import reduction_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reductions(suite, name, binding, dtype):
    available(suite, name)
    for case_name, case in reduction_cases(binding.loss):
        case = dataclasses.replace(case, dtype=dtype)
        suite.check(name, binding, case, case_name, "reductions")
        if "input" in binding.gradients:
            suite.check(name, binding, case, case_name, "reductions", "gradient", "input")
    suite.assert_explained()

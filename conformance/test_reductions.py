"""reductions: none/sum/mean, weighted means, per-sample vs per-class weights, empty batches,
all targets ignored (named cases, float32 and float64)."""

import dataclasses

import pytest

from conformance._params import REDUCTION_CASE_IDS, REDUCTION_CASES
from conformance.cases import named_case, reduction_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding", "dtype", "case_name"), REDUCTION_CASES,
                         ids=REDUCTION_CASE_IDS)
def test_reductions(suite, name, binding, dtype, case_name):
    available(suite, name)
    case = dataclasses.replace(named_case(reduction_cases(binding.loss), case_name).case,
                               dtype=dtype)
    suite.check(name, binding, case, case_name, "reductions")
    if "input" in binding.gradients:
        suite.check(name, binding, case, case_name, "reductions", "gradient", "input")
    suite.assert_explained()

"""edge_cases: log(0), infinities and NaN, and every kind of invalid input: out-of-range and
negative class indices, probabilities and targets outside [0, 1], label smoothing outside
[0, 1], negative and zero weights, mismatched shapes, wrong target dtypes."""

import pytest

from conformance._params import EDGE_CASE_IDS, EDGE_CASES
from conformance.cases import edge_cases, named_case
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding", "dtype", "case_name"), EDGE_CASES, ids=EDGE_CASE_IDS)
def test_edge_cases(suite, name, binding, dtype, case_name):
    available(suite, name)
    case = named_case(edge_cases(binding.loss), case_name).case
    suite.check(name, binding, case, case_name, "edge_cases")
    if "input" in binding.gradients:
        suite.check(name, binding, case, case_name, "edge_cases", "gradient", "input")
    suite.assert_explained()

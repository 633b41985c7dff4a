"""edge_cases: log(0), infinities and NaN, and every kind of invalid input: out-of-range and
negative class indices, probabilities and targets outside [0, 1], label smoothing outside
[0, 1], negative and zero weights, mismatched shapes, wrong target dtypes."""

import pytest

from conformance._params import BINDINGS, IDS
from conformance.cases import edge_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_edge_cases(suite, name, binding):
    available(suite, name)
    for case_name, case in edge_cases(binding.loss):
        suite.check(name, binding, case, case_name, "edge_cases")
        if "input" in binding.gradients:
            suite.check(name, binding, case, case_name, "edge_cases", "gradient", "input")
    suite.assert_explained()

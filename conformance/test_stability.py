"""stability: logit magnitudes from 1 to the dtype's limits, probabilities towards 0 and 1
(down to subnormals), 32 000 classes, half-precision overflow and quantisation."""

import pytest

from conformance._params import STABILITY_CASE_IDS, STABILITY_CASES
from conformance.cases import named_case, stability_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding", "dtype", "case_name"), STABILITY_CASES,
                         ids=STABILITY_CASE_IDS)
def test_stability(suite, name, binding, dtype, case_name):
    available(suite, name)
    named = named_case(stability_cases(binding.loss, dtype), case_name)
    suite.check(name, binding, named.case, case_name, "stability", magnitude=named.magnitude)
    if "input" in binding.gradients:
        suite.check(name, binding, named.case, case_name, "stability", "gradient", "input",
                    magnitude=named.magnitude)
    suite.assert_explained()

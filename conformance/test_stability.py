"""stability: logit magnitudes from 1 to the dtype's limits, probabilities towards 0 and 1
(down to subnormals), 32 000 classes, half-precision overflow and quantisation."""

import dataclasses

import pytest

from adapters.core import DTYPES
from conformance._params import BINDINGS, IDS
from conformance.cases import stability_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_stability(suite, name, binding, dtype):
    available(suite, name)
    for case_name, case, magnitude in stability_cases(binding.loss, dtype):
        case = dataclasses.replace(case, dtype=dtype)
        suite.check(name, binding, case, case_name, "stability", magnitude=magnitude)
        if "input" in binding.gradients:
            suite.check(name, binding, case, case_name, "stability", "gradient", "input",
                        magnitude=magnitude)
    suite.assert_explained()

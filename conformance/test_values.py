"""values: regular inputs, every option and reduction the binding offers, every dtype."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance._params import BINDING_DTYPE_IDS, BINDING_DTYPES, describe
from conformance.cases import regular_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding", "dtype"), BINDING_DTYPES, ids=BINDING_DTYPE_IDS)
@given(data=st.data())
def test_values(suite, name, binding, dtype, data):
    available(suite, name)
    if dtype not in binding.dtypes:
        suite.recorder.unsupported(binding.api, "values", dtype)
        return
    case = data.draw(regular_cases(binding, dtype), label="case")
    suite.check(name, binding, case, describe(case), "values")
    suite.assert_explained()

"""gradients: the library's autograd against the oracle's analytic gradient, with respect to
the prediction and, where the library propagates it, to soft targets."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance._params import BINDING_DTYPE_IDS, BINDING_DTYPES, describe
from conformance.cases import regular_cases
from conformance.conftest import available


@pytest.mark.parametrize(("name", "binding", "dtype"), BINDING_DTYPES, ids=BINDING_DTYPE_IDS)
@given(data=st.data())
def test_gradients(suite, name, binding, dtype, data):
    available(suite, name)
    if dtype not in binding.dtypes or not binding.gradients:
        suite.recorder.unsupported(binding.api, "gradients", dtype)
        return
    case = data.draw(regular_cases(binding, dtype), label="case")
    for wrt in binding.gradients:
        if wrt == "target" and case.target_kind == "indices":
            continue
        suite.check(name, binding, case, describe(case), "gradients", "gradient", wrt)
    suite.assert_explained()

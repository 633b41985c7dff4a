"""derivatives: beyond the first reverse pass. The library's forward-mode directional
derivative (``jvp``, along a tangent) and its Hessian-vector product (``hvp``) against the
oracle's ``reference.jvp`` and ``reference.hvp``, on the cases the gradients meet: the stability
sweeps, the edge cases and drawn regular cases, in every dtype, with respect to the input and,
for a jvp, to soft targets where the library differentiates them. Each case also compares the
paths' status with the library's reverse gradient on it (``conformance.status``)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.binding import DIRECTIONAL_CHECKS
from conformance import status
from conformance._params import (
    BINDING_DTYPE_IDS,
    BINDING_DTYPES,
    EDGE_CASE_IDS,
    EDGE_CASES,
    STABILITY_CASE_IDS,
    STABILITY_CASES,
    describe,
)
from conformance.budget import (
    derivative_dtypes,
    derivatives_of_named_cases,
    past_derivative_draws,
)
from conformance.cases import edge_cases, named_case, regular_cases, stability_cases
from conformance.conftest import available
from conformance.recorder import finding_id


def _derivatives(suite, name, binding, case, case_name, magnitude=None):
    """Every directional derivative of ``case`` the binding offers, judged and recorded, and
    each one's status against the reverse gradient of the same case."""
    for wrt in binding.gradients:
        if wrt == "target" and case.target_kind == "indices":
            continue
        reverse = None
        for check in DIRECTIONAL_CHECKS:
            judged = suite.judged(name, binding, case, case_name, "derivatives", check, wrt,
                                  magnitude)
            if judged is None:
                continue
            if reverse is None:
                _, guarded = suite.adapter(name)
                reverse = guarded.evaluate(binding.api, judged.case, "gradient", wrt,
                                           suite.timeout(binding))
            status.compare(suite, binding, judged.case, case_name, judged.observation,
                           reverse)


def _not_run(suite, binding, case, case_name):
    """A case the ci profile's budget leaves out (``conformance.budget``): counted, not run."""
    if binding.gradients:
        suite.recorder.over_budget(binding.api, "derivatives", case.dtype, finding_id(
            binding.api, "derivatives", "", None, case.dtype, case_name, case))


@pytest.mark.parametrize(("name", "binding", "dtype", "case_name"), STABILITY_CASES,
                         ids=STABILITY_CASE_IDS)
def test_derivatives_stability(suite, name, binding, dtype, case_name):
    available(suite, name)
    named = named_case(stability_cases(binding.loss, dtype), case_name)
    if dtype not in derivative_dtypes(binding, case_name):
        _not_run(suite, binding, named.case, case_name)
        return
    _derivatives(suite, name, binding, named.case, case_name, named.magnitude)
    suite.assert_explained()


@pytest.mark.parametrize(("name", "binding", "dtype", "case_name"), EDGE_CASES, ids=EDGE_CASE_IDS)
def test_derivatives_edge_cases(suite, name, binding, dtype, case_name):
    available(suite, name)
    case = named_case(edge_cases(binding.loss), case_name).case
    if not derivatives_of_named_cases(binding):
        _not_run(suite, binding, case, case_name)
        return
    _derivatives(suite, name, binding, case, case_name)
    suite.assert_explained()


@pytest.mark.parametrize(("name", "binding", "dtype"), BINDING_DTYPES, ids=BINDING_DTYPE_IDS)
@given(data=st.data())
def test_derivatives_draws(suite, name, binding, dtype, data):
    available(suite, name)
    if dtype not in binding.dtypes or not binding.gradients:
        suite.recorder.unsupported(binding.api, "derivatives", dtype)
        return
    case = data.draw(regular_cases(binding, dtype), label="case")
    if past_derivative_draws(binding, dtype, describe(case)):
        _not_run(suite, binding, case, describe(case))
        return
    _derivatives(suite, name, binding, case, describe(case))
    suite.assert_explained()

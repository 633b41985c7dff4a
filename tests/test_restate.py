"""Fitting named cases to what an API offers: the restated case means the same to the oracle,
and a case whose point is its form (a bad index, a shape mismatch) is left alone."""

import dataclasses

import numpy as np
import pytest

from adapters.binding import Binding
from conformance.cases import edge_cases, named_case, stability_cases
from conformance.restate import fit
from reference.specs import loss_spec


def binding(loss, **declared) -> Binding:
    return Binding(api="lib.f", library="lib", loss=loss, expression="lib.f(input, target)",
                   **declared)


MEAN_ONLY_RANK_1 = binding("binary_cross_entropy", reductions={"mean": ""}, ranks=(1,))
INDICES_ONLY = binding("categorical_cross_entropy", reductions={"sum": ""}, ranks=(2,),
                       targets=("indices",))
PROBABILITIES_ONLY = binding("cross_entropy", reductions={"none": ""}, ranks=(2,),
                             targets=("probabilities",))


def total(case) -> float:
    options = {**case.options, "reduction": "sum"}
    return float(loss_spec(case.loss).oracle(**case.inputs, **options))


@pytest.mark.parametrize("api", [MEAN_ONLY_RANK_1, INDICES_ONLY, PROBABILITIES_ONLY],
                         ids=["mean-only-rank-1", "indices-only", "probabilities-only"])
def test_every_stability_case_fits_and_keeps_its_meaning(api):
    for named in stability_cases(api.loss, "float64"):
        name, case = named.name, named.case
        fitted = fit(api, case)
        assert api.supports(fitted) is None, (name, api.supports(fitted))
        assert total(fitted) == pytest.approx(total(case), rel=1e-15, nan_ok=True), name


def test_the_reduction_falls_back_to_the_most_telling_one_offered():
    both = binding("binary_cross_entropy", reductions={"mean": "", "sum": ""})
    case = named_case(edge_cases("binary_cross_entropy"), "log-of-zero").case
    assert case.options["reduction"] == "none"
    assert fit(both, case).options["reduction"] == "sum"


def test_weights_are_broadcast_before_flattening():
    case = named_case(edge_cases("binary_cross_entropy"), "zero-weight").case
    fitted = fit(MEAN_ONLY_RANK_1, case)
    assert fitted.inputs["weight"].shape == fitted.inputs["input"].shape == (6,)
    assert total(fitted) == pytest.approx(total(case), rel=1e-15)


@pytest.mark.parametrize(("api", "case_name"), [
    (MEAN_ONLY_RANK_1, "mismatched-shapes"),
    (PROBABILITIES_ONLY, "class-index-too-large"),
    (PROBABILITIES_ONLY, "class-index-negative"),
    (PROBABILITIES_ONLY, "class-index-equals-ignore-index"),
    (PROBABILITIES_ONLY, "mismatched-batch"),
])
def test_cases_whose_point_is_their_form_are_not_fitted(api, case_name):
    cases = {named.name: named.case for named in edge_cases(api.loss)}
    assert case_name in cases
    fitted = fit(api, cases[case_name])
    assert fitted.inputs.keys() == cases[case_name].inputs.keys()
    for name, value in cases[case_name].inputs.items():
        assert np.shape(fitted.inputs[name]) == np.shape(value), name


def test_soft_targets_do_not_become_indices():
    case = stability_cases("categorical_cross_entropy", "float64")[0].case
    soft = dataclasses.replace(case, inputs={**case.inputs,
                                             "target": np.full(case.inputs["input"].shape, 1 / 3)})
    assert fit(INDICES_ONLY, soft).target_kind == "probabilities"

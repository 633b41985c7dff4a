"""The derivatives category's machinery on a stand-in library (tests/_fake_calculus.py): a jvp
and an hvp judged against the oracle, a wrong one caught, a mode an API does not offer counted
as unsupported, and a path that raises where the reverse gradient returns a status finding."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from _fake_calculus_adapter import FakeCalculusAdapter
from _suites import guarded_fixture

from adapters.binding import Case
from conformance import directions, recorder, status
from conformance.deviations import DeviationRegistry
from conformance.limits import Limits
from conformance.recorder import Recorder
from conformance.suite import Suite, UnexplainedDifference

guarded = guarded_fixture("_fake_calculus_adapter:FakeCalculusAdapter", timeout=30)
ADAPTER = FakeCalculusAdapter()
CASE = Case("binary_cross_entropy_with_logits",
            {"input": np.array([-3.0, 0.5, 2.0, 40.0]), "target": np.array([0.0, 1.0, 0.25, 1.0])},
            {"reduction": "sum"})
TESTS = Path(__file__).parent


def _suite(tmp_path, guarded) -> Suite:
    (tmp_path / "calculus.toml").write_text('[registry]\nlibrary = "calculus"\nversion = "1.0"\n')
    suite = Suite(Recorder("calculus-env", "main", tmp_path), limits=Limits())
    suite.adapters["calculus"] = (ADAPTER, guarded)
    suite.registries["calculus"] = DeviationRegistry.load("calculus", "calculus-env", tmp_path)
    return suite


def _findings(suite: Suite, tmp_path) -> list[dict]:
    suite.close()
    return recorder.merge("calculus-env", suite.registries, tmp_path)["findings"]


@pytest.mark.parametrize("check", ["jvp", "hvp"])
@pytest.mark.parametrize("wrt", ["input", "target"])
def test_an_exact_derivative_matches_and_its_reproducer_prints_it(tmp_path, guarded, check, wrt):
    suite = _suite(tmp_path, guarded)
    judged = suite.judged("calculus", ADAPTER.binding("_fake_calculus.exact"), CASE, "case",
                          "derivatives", check, wrt)
    if check == "hvp" and wrt == "target":
        assert judged is None  # the Hessian-vector product is taken with respect to the input
        return
    assert judged.verdict.outcome == "match", judged.verdict
    direction = judged.case.direction
    assert direction.shape == CASE.inputs[wrt].shape
    assert np.any(direction != 0)
    assert "direction = np.array(" in judged.observation.reproducer
    # the stand-in library is a module of the tests, and it asks the oracle
    path = os.pathsep.join([str(TESTS), str(TESTS.parent)])
    printed = subprocess.run([sys.executable, "-c", judged.observation.reproducer],
                             capture_output=True, text=True, check=True,
                             env={**os.environ, "PYTHONPATH": path}).stdout
    assert np.array(eval(printed)) == pytest.approx(judged.observation.gradient, rel=0, abs=0)
    suite.assert_explained()


def test_the_direction_is_the_same_for_every_library_and_rounded_to_the_dtype():
    case = Case("cross_entropy", {"input": np.zeros((2, 3)), "target": np.array([0, 2])},
                dtype="bfloat16")
    first, again = directions.along(case, "jvp", "input"), directions.along(case, "jvp", "input")
    assert np.array_equal(first.direction, again.direction)
    assert not np.array_equal(first.direction, directions.along(case, "hvp", "input").direction)
    rounded = first.direction.astype(np.float32).view(np.uint32)
    assert np.all(rounded & 0xFFFF == 0)  # bfloat16 keeps the top 16 bits of a float32


def test_a_wrong_jvp_is_an_unexplained_difference(tmp_path, guarded):
    suite = _suite(tmp_path, guarded)
    verdict = suite.check("calculus", ADAPTER.binding("_fake_calculus.wrong_jvp_sign"), CASE,
                          "case", "derivatives", "jvp", "input")
    assert verdict.outcome == "deviates"
    with pytest.raises(UnexplainedDifference,
                       match=r"derivatives, case case, float64, jvp wrt input"):
        suite.assert_explained()


def test_a_mode_the_api_does_not_offer_is_unsupported_not_run(tmp_path, guarded):
    suite = _suite(tmp_path, guarded)
    binding = ADAPTER.binding("_fake_calculus.first_order_only")
    assert suite.judged("calculus", binding, CASE, "case", "derivatives", "hvp") is None
    assert suite.judged("calculus", binding, CASE, "case", "derivatives", "jvp") is not None
    assert ADAPTER.derivative_unsupported(binding, "hvp") == (
        "no hvp: a stand-in without double backward")


def test_a_framework_without_forward_mode_offers_no_jvp(monkeypatch):
    monkeypatch.setattr(type(ADAPTER.framework), "derivatives", {"hvp": "Traced.hvp"})
    assert ADAPTER.derivative_unsupported(ADAPTER.binding("_fake_calculus.exact"), "jvp") == (
        "no jvp: _fake_calculus offers none")


def test_a_jvp_that_raises_where_the_reverse_gradient_returns_is_a_status_finding(
        tmp_path, guarded):
    suite = _suite(tmp_path, guarded)
    binding = ADAPTER.binding("_fake_calculus.no_forward_mode")
    judged = suite.judged("calculus", binding, CASE, "case", "derivatives", "jvp", "input")
    assert judged.verdict.outcome == "raises"
    reverse = guarded.evaluate(binding.api, judged.case, "gradient", "input")
    assert reverse.error is None
    status.compare(suite, binding, judged.case, "case", judged.observation, reverse)
    with pytest.raises(UnexplainedDifference):
        suite.assert_explained()
    (found,) = [f for f in _findings(suite, tmp_path) if f["category"] == "equivalence"]
    assert found["outcome"] == "status"
    assert found["check"] == "jvp"
    assert [p["api"] for p in found["paths"]] == [f"{binding.api} [jvp]",
                                                   f"{binding.api} [reverse gradient]"]
    assert found["paths"][0]["observed"]["error"] == "NotImplementedError"
    # the returning path is shown by the loss value it returned, not its derivative
    assert np.shape(found["paths"][1]["observed"]) == ()


def test_paths_that_both_return_have_the_same_status_counted_not_kept(tmp_path, guarded):
    suite = _suite(tmp_path, guarded)
    binding = ADAPTER.binding("_fake_calculus.exact")
    judged = suite.judged("calculus", binding, CASE, "case", "derivatives", "hvp", "input")
    reverse = guarded.evaluate(binding.api, judged.case, "gradient", "input")
    status.compare(suite, binding, judged.case, "case", judged.observation, reverse)
    suite.assert_explained()
    suite.close()
    document = recorder.merge("calculus-env", suite.registries, tmp_path)
    assert [f for f in document["findings"] if f["category"] == "equivalence"] == []
    (row,) = [r for r in document["summary"] if r["category"] == "equivalence"]
    assert (row["cases"], row["matches"], row["findings"]) == (1, 1, 0)


def test_a_claim_restating_the_inputs_moves_the_direction_with_its_operand():
    from adapters.binding import Observation
    from conformance.claims import RESTATED_INPUTS

    case = Case("binary_cross_entropy", {"input": np.array([[0.25], [0.5]]),
                                         "target": np.array([1.0, 0.0])},
                direction=np.array([[0.5], [-1.0]]))
    seen = Observation("api", "lib", "1", "float64", {**case.inputs, "direction": case.direction},
                       wrt="input", derivative="jvp")
    restated, moved = RESTATED_INPUTS["aligned"](case, seen)  # Keras squeezes the column away
    assert restated.inputs["input"].shape == (2,)
    assert moved.fed["direction"].tolist() == [0.5, -1.0]
    assert restated.direction.tolist() == [0.5, -1.0]

"""The accuracy tables (conformance/accuracy.py, exhaustive.py, worst_case.py,
componentwise.py): the inputs they sweep, the errors they measure, the rows they record, and
that a library's failure is a row while the harness's fails the test."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from _suites import fake_suite, guarded_fixture

from conformance import exhaustive, results, worst_case
from conformance.componentwise import element_errors, summary
from conformance.recorder import merge
from conformance.suite import HarnessError

guarded = guarded_fixture("_fake_accuracy:FakeAccuracyAdapter", timeout=60)


def _rows(tmp_path, guarded, run) -> list[dict]:
    from _fake_accuracy import FakeAccuracyAdapter

    tmp_path.mkdir(exist_ok=True)
    suite = fake_suite(tmp_path, guarded, adapter=FakeAccuracyAdapter())
    adapter = suite.adapters.pop("fake")
    suite.adapters["accuracy"] = adapter
    try:
        run(suite, {b.api.split(".")[-1]: b for b in adapter[0].bindings})
    finally:
        suite.recorder.close()
    document = merge("fake-env", {}, tmp_path)
    results.validate(document)
    return document.get("accuracy", [])


def _one(rows, **fields) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in fields.items())]
    assert len(found) == 1, (fields, len(found))
    return found[0]


# -- the inputs --------------------------------------------------------------------------------
def test_every_half_precision_value_is_each_bit_pattern_once():
    for dtype in ("float16", "bfloat16"):
        values = exhaustive.every_value(dtype)
        assert values.shape == (65536,)
        assert np.isnan(values).sum() == (2046 if dtype == "float16" else 254)
        assert np.isposinf(values).sum() == np.isneginf(values).sum() == 1
        finite = values[np.isfinite(values)]
        assert len(np.unique(finite)) == len(finite) - 1  # +0 and -0 compare equal
    assert exhaustive.every_value("float16")[1] == 2.0**-24  # the smallest subnormal
    assert exhaustive.every_value("bfloat16")[0x3F80] == 1.0
    assert exhaustive.every_value("bfloat16")[0x7F7F] == pytest.approx(3.3895313892515355e38)


def test_a_probability_sweep_is_every_pattern_in_the_unit_interval(monkeypatch):
    monkeypatch.setenv("XENT_ACCURACY", "exhaustive")
    values, domain = exhaustive.inputs("binary_cross_entropy", "float16")
    # +0 to 1.0 is 0x0000..0x3C00, and -0
    assert len(values) == 0x3C00 + 1 + 1
    assert values.min() == 0
    assert values.max() == 1
    assert "15,362 inputs" in domain
    logits, _ = exhaustive.inputs("binary_cross_entropy_with_logits", "bfloat16")
    assert len(logits) == 65536


# -- componentwise errors ----------------------------------------------------------------------
def test_element_errors_name_a_lost_element_a_flipped_sign_and_a_nonfinite_answer():
    exact = np.array([-1e-5, 0.25, 3.0, 1.0, 0.0, 70000.0])
    got = np.array([0.0, -0.25, 3.0, np.inf, 0.0, np.inf])
    errors = element_errors(exact, got, "float16")
    assert errors.zero.tolist() == [True, False, False, False, False, False]
    assert errors.sign.tolist() == [False, True, False, False, False, False]
    # 70000 is beyond float16: inf is its value there, no error
    assert errors.nonfinite.tolist() == [False, False, False, True, False, False]
    assert errors.ulps[2] == 0
    assert errors.ulps[5] == 0
    assert errors.ulps[1] == 0.5 / 2.0**-12  # 0.5 off, at a spacing of 2^-12
    assert errors.ulps[0] == pytest.approx(1e-5 / 2.0**-24)


def test_an_exact_value_that_rounds_to_zero_in_the_dtype_is_not_lost():
    # 1e-9 is below float16's smallest subnormal (6e-8): 0 is as close as the dtype gets
    errors = element_errors(np.array([-1e-9]), np.array([0.0]), "float16")
    assert not errors.zero.any()
    assert summary(np.array([-1e-9, 2.0]), np.array([0.0, 2.0]), "float16")["zero"] == 0


# -- exhaustive tables -------------------------------------------------------------------------
def test_the_tables_show_a_gradient_flushed_to_zero_with_its_input(tmp_path, guarded,
                                                                    monkeypatch):
    monkeypatch.setenv("XENT_ACCURACY", "exhaustive")
    # each target is one more oracle call on 65,536 elements: two will do
    monkeypatch.setattr(exhaustive, "TARGETS", (0.0, 1.0))
    rows = _rows(tmp_path, guarded, lambda suite, b: [
        exhaustive.sweep(suite, "accuracy", b[name], "float16") for name in ("exact",
                                                                             "flushed")])
    exact = _one(rows, api="_fake_accuracy.exact", check="gradient", target="1")
    assert exact["method"] == "exhaustive"
    assert exact["inputs"] == 65536
    assert exact["worst_ulp"] <= 0.5
    assert exact["zero_count"] == 0
    flushed = _one(rows, api="_fake_accuracy.flushed", check="gradient", target="1")
    zero = flushed["zero"]
    # sigmoid(x) rounds to 1 in float16 from x of about 8.3: every logit above it up to where
    # the exact gradient -sigmoid(-x) underflows float16 (about 17) comes back 0
    assert flushed["zero_count"] > 100
    assert zero["observed"] == 0
    assert zero["expected"] < 0
    assert 7 < zero["input"] < 9
    assert flushed["worst_ulp"] > 1000
    assert "_fake_accuracy.flushed(input, target)" in flushed["reproducer"]
    assert f"np.array([{flushed['worst']['input']!r}]" in flushed["reproducer"]
    profile = [[results.decode_number(n) for n in band] for band in flushed["profile"]]
    assert len(profile) == 128
    assert profile[0][0] == -np.inf
    assert profile[-1][1] == np.inf
    assert max(band[2] for band in profile) == flushed["worst_ulp"]
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(profile))  # in order of input
    # the value is exact in both: only the gradient is flushed
    assert _one(rows, api="_fake_accuracy.flushed", check="value", target="1")[
        "worst_ulp"] <= 0.5


def test_a_library_that_raises_gets_a_row_saying_so(tmp_path, guarded, monkeypatch):
    monkeypatch.setenv("XENT_ACCURACY", "exhaustive")
    rows = _rows(tmp_path, guarded, lambda suite, b: exhaustive.sweep(
        suite, "accuracy", b["refuses"], "float16"))
    assert {r["outcome"] for r in rows} == {"raises"}
    assert "refuses every input" in rows[0]["reason"]
    assert len(rows) == 2 * len(exhaustive.TARGETS)


def test_a_dtype_the_binding_does_not_offer_is_unsupported(tmp_path, guarded):
    rows = _rows(tmp_path, guarded, lambda suite, b: exhaustive.sweep(
        suite, "accuracy", b["exact"], "bfloat16"))
    assert {r["outcome"] for r in rows} == {"unsupported"}
    assert "bfloat16 not offered" in rows[0]["reason"]


def test_the_harness_failing_fails_the_test_and_is_no_measurement(tmp_path, guarded,
                                                                   monkeypatch):
    from conformance import accuracy

    monkeypatch.setattr(accuracy, "measure", lambda *args: "the oracle rejects the batch")
    with pytest.raises(HarnessError, match="oracle rejects the batch"):
        _rows(tmp_path, guarded, lambda suite, b: exhaustive.sweep(
            suite, "accuracy", b["exact"], "float16"))


def test_the_ci_profile_samples_the_patterns_against_0_and_1(monkeypatch):
    monkeypatch.delenv("XENT_ACCURACY", raising=False)
    monkeypatch.setattr(exhaustive, "whole", lambda: False)
    values, domain = exhaustive.inputs("binary_cross_entropy_with_logits", "float16")
    assert 1000 < len(values) < 1200
    assert "sample" in domain
    assert np.isnan(values).any()
    assert np.isinf(values).any()
    assert exhaustive.targets() == (0.0, 1.0)
    assert exhaustive.in_budget("float16")
    assert not exhaustive.in_budget("bfloat16")


# -- the search --------------------------------------------------------------------------------
def test_the_search_finds_the_flushed_gradient_and_repeats_itself(tmp_path, guarded,
                                                                   monkeypatch):
    monkeypatch.setenv("XENT_ACCURACY", "exhaustive")

    def run(suite, b):
        worst_case.search(suite, "accuracy", b["flushed"], "float64", "elements", 7)

    first = _rows(tmp_path / "a", guarded, run)
    again = _rows(tmp_path / "b", guarded, run)
    assert first == again  # the same seed finds the same inputs
    row = _one(first, check="gradient", target="1")
    assert row["method"] == "searched"
    assert row["evaluations"] == worst_case.GENERATIONS["full"]
    # in float64 sigmoid(x) rounds to 1 above a logit of about 37
    assert row["zero_count"] > 0
    assert row["zero"]["input"] > 36
    assert row["worst_ulp"] > 2.0**40
    # its value is the oracle's, rounded once
    assert _one(first, check="value", target="1")["worst_ulp"] <= 0.5



# -- componentwise errors beside the normwise verdict ----------------------------------------
def test_a_gradient_element_lost_to_zero_is_recorded_beside_a_matching_verdict(tmp_path,
                                                                               guarded):
    from _fake_accuracy import FakeAccuracyAdapter

    from adapters.binding import Case

    suite = fake_suite(tmp_path, guarded, adapter=FakeAccuracyAdapter())
    suite.adapters["accuracy"] = suite.adapters.pop("fake")
    binding = suite.adapters["accuracy"][0].binding("_fake_accuracy.flushed")
    case = Case("binary_cross_entropy_with_logits",
                {"input": np.array([40.0, 0.5]), "target": np.array([1.0, 0.0])},
                {"reduction": "none"})
    verdict = suite.check("accuracy", binding, case, "draw:a-drawn-case", "gradients",
                          "gradient", "input")
    # normwise the lost -4.2e-18 is far inside 8 ulps of the formula's terms (about 1)
    assert verdict.outcome == "match"
    assert verdict.error["componentwise"] == {
        "ulp": pytest.approx(2.0**52, rel=0.5), "index": [0], "zero": 1, "sign": 0}
    suite.close()
    document = merge("fake-env", {}, tmp_path)
    (row,) = document["summary"]
    assert row["componentwise"]["zero"] == 1
    assert row["componentwise"]["sign"] == 0
    # a drawn match is kept when an element came back 0, to show its input
    (finding,) = document["findings"]
    assert finding["id"] == row["componentwise"]["case"]
    assert finding["inputs"]["input"] == [40.0, 0.5]


def test_an_option_the_api_requires_gets_a_value_that_leaves_the_loss_as_it_is():
    import reference
    from adapters.binding import Binding, Case
    from conformance.accuracy import with_required_options

    binding = Binding(api="lib.weighted", library="lib", loss="binary_cross_entropy_with_logits",
                      expression="lib.weighted(input, target, pos_weight)",
                      options={"pos_weight": "pos_weight"}, required=("pos_weight",),
                      reductions={"none": ""})
    case = Case(binding.loss, {"input": np.array([[-3.0], [2.0]]),
                               "target": np.array([[1.0], [0.5]])}, {"reduction": "none"})
    filled = with_required_options(binding, case)
    assert binding.supports(case) == "option pos_weight is required"
    assert binding.supports(filled) is None
    assert np.array_equal(reference.binary_cross_entropy_with_logits(**filled.inputs,
                                                                     **filled.options),
                          reference.binary_cross_entropy_with_logits(**case.inputs,
                                                                     **case.options))

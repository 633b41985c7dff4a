"""The suite's runner and recorder, on the fake library of tests/_fake_library.py.

An unregistered difference fails with the call, the values and a reproducer; a registered one
does not; a crash is one finding, not the end of the run; what was journalled before the
controller died is merged into a valid results file.
"""

import dataclasses
import json
import os
import stat

import numpy as np
import pytest
from _fake_adapter import FakeAdapter
from _registry_text import deviation
from _suites import fake_suite, guarded_fixture

from adapters.binding import Case
from conformance import budget, recorder
from conformance.results import validate
from conformance.suite import UnexplainedDifference

# fake "fine" returns sum(input) = 0.75 where the loss is -log(0.75) - log(0.5) = 0.98083
CASE = Case("binary_cross_entropy",
            {"input": np.array([0.25, 0.5]), "target": np.array([0.0, 1.0])}, {"reduction": "sum"})
BINDINGS = {b.api.split(".")[-1]: b for b in FakeAdapter.bindings}


guarded = guarded_fixture("_fake_adapter:FakeAdapter", timeout=5)


def test_an_unregistered_difference_fails_with_the_call_values_and_reproducer(tmp_path, guarded):
    suite = fake_suite(tmp_path, guarded)
    verdict = suite.check("fake", BINDINGS["fine"], CASE, "a-named-case", "edge_cases")
    assert verdict.outcome == "deviates"
    with pytest.raises(UnexplainedDifference) as raised:
        suite.assert_explained()
    message = str(raised.value)
    for part in ("_fake_library.fine", "a-named-case", "edge_cases", "deviates",
                 "observed 0.75", "expected 0.980829253011726", "the allowed bound"):
        assert part in message, part
    notes = "\n".join(raised.value.__notes__)
    assert "_fake_library.fine(input, target)" in notes
    suite.assert_explained()  # reported once: the next test starts clean


def test_a_registered_difference_passes_and_is_recorded_with_its_entry(tmp_path, guarded):
    suite = fake_suite(tmp_path, guarded, deviation(
        id="fake-fine-sums-its-input", apis=["_fake_library.fine"], kind="bug",
        reason="fine returns sum(input), whatever the target.",
        match='{ check = "value", outcome = "deviates" }', actual="{ value = 0.75 }"))
    suite.check("fake", BINDINGS["fine"], CASE, "a-named-case", "edge_cases")
    suite.assert_explained()
    suite.recorder.close()
    document = recorder.merge("fake-env", suite.registries, tmp_path)
    (finding,) = document["findings"]
    assert finding["deviation"] == "fake-fine-sums-its-input"
    assert document["stale_deviations"] == []
    (row,) = document["summary"]
    assert (row["findings"], row["registered"]) == (1, 1)


def test_a_crash_is_one_finding_and_the_run_goes_on(tmp_path, guarded):
    suite = fake_suite(tmp_path, guarded)
    crashed = suite.check("fake", BINDINGS["segfault"], CASE, "crash-case", "edge_cases")
    assert crashed.outcome == "crash"
    assert suite.check("fake", BINDINGS["fine"], CASE, "after-the-crash", "edge_cases")
    with pytest.raises(UnexplainedDifference, match="2 unregistered"):
        suite.assert_explained()


def test_journalled_findings_survive_a_controller_that_never_closed(tmp_path, guarded):
    suite = fake_suite(tmp_path, guarded)
    suite.check("fake", BINDINGS["fine"], CASE, "before-the-kill", "edge_cases")
    suite.unexplained.clear()
    # no close(), no merge: the process "dies" here; a later merge reads the journal
    journal = tmp_path / ".journal-fake-env" / "main.jsonl"
    with journal.open("a") as torn:
        torn.write('{"kind": "finding", "id": "half-writ')  # a torn last line is skipped
    document = recorder.merge("fake-env", {}, tmp_path)
    validate(document)
    assert [f["case"] for f in document["findings"]] == ["before-the-kill"]
    on_disk = json.loads((tmp_path / "fake-env.json").read_text())
    assert on_disk["findings"][0]["observed"] == 0.75


def test_draws_past_the_compile_budget_are_counted_not_run(tmp_path, guarded, monkeypatch):
    """A compiled binding, in the ci profile, is run on the draws of one shape per test; the
    others are counted in the summary row as over_budget (``conformance.budget``)."""
    monkeypatch.setattr(budget, "ci_profile", lambda: True)
    monkeypatch.setattr(budget, "_DRAWN", type(budget._DRAWN)(set))
    suite = fake_suite(tmp_path, guarded)
    compiled = dataclasses.replace(BINDINGS["fine"], mode="jit")
    wider = CASE.with_inputs(input=np.array([0.25, 0.5, 0.5]), target=np.array([0.0, 1.0, 1.0]))
    # another draw of the same shape and options (its name): compiles nothing new, so checked
    again = CASE.with_inputs(input=np.array([0.75, 0.5]))
    verdicts = [suite.check("fake", compiled, case, name, "values")
                for case, name in ((CASE, "draw:a"), (again, "draw:a"), (wider, "draw:b"))]
    assert [v is None for v in verdicts] == [False, False, True]
    suite.unexplained.clear()  # "fine" is wrong: not the point here
    suite.recorder.close()
    (row,) = recorder.merge("fake-env", {}, tmp_path)["summary"]
    assert (row["cases"], row["over_budget"]) == (2, 1)


def test_a_claim_that_fails_says_so_and_its_entry_is_not_stale(tmp_path, guarded):
    """An entry whose match selects the finding but whose claim is false leaves it unexplained,
    and says which claim failed and how: on the failure, in the finding and in the results,
    apart from the entries that selected nothing."""
    suite = fake_suite(tmp_path, guarded, deviation(
        id="fake-fine-is-clamped", apis=["_fake_library.fine"], kind="documented-semantics",
        reason="a wrong guess: fine is not the loss with its logs clamped",
        match='{ check = "value", outcome = "deviates" }',
        actual="{ oracle = { log_clamp = -100.0 } }",
    ) + deviation(
        id="fake-never-selected", apis=["_fake_library.fine"], kind="bug",
        reason="selects what never happens", match='{ outcome = "timeout" }',
        actual='{ value = "nan" }'))
    suite.check("fake", BINDINGS["fine"], CASE, "a-named-case", "edge_cases")
    with pytest.raises(UnexplainedDifference) as raised:
        suite.assert_explained()
    why = ("oracle = { log_clamp = -100.0 }: the result is off by 2.08e+15 ulp, 2.24e+14x the "
           "allowed bound")
    assert f"registry entry fake-fine-is-clamped selected it, but its claim failed: {why}" in \
        str(raised.value)
    suite.recorder.close()
    document = recorder.merge("fake-env", suite.registries, tmp_path)
    (finding,) = document["findings"]
    assert finding["failed_claims"] == [{"id": "fake-fine-is-clamped", "why": why}]
    assert document["failed_claims"] == {
        "fake-fine-is-clamped": {"selected": 1, "failed": 1, "why": why}}
    assert document["stale_deviations"] == ["fake-never-selected"]


def test_a_case_run_twice_is_counted_once(tmp_path, guarded):
    """Hypothesis runs a failing example again to report it: one case, one finding."""
    suite = fake_suite(tmp_path, guarded)
    for _ in range(2):
        suite.check("fake", BINDINGS["fine"], CASE, "draw:a", "values")
    suite.check("fake", BINDINGS["fine"], CASE.with_inputs(input=np.array([0.75, 0.5])),
                "draw:b", "values")
    suite.unexplained.clear()
    suite.recorder.close()
    document = recorder.merge("fake-env", {}, tmp_path)
    (row,) = document["summary"]
    assert (row["cases"], row["findings"], len(document["findings"])) == (2, 2, 2)


def test_the_results_file_is_readable_by_all_and_the_journals_are_gone(tmp_path, guarded):
    suite = fake_suite(tmp_path, guarded)
    suite.check("fake", BINDINGS["fine"], CASE, "a-named-case", "edge_cases")
    suite.unexplained.clear()
    suite.recorder.close()
    assert (tmp_path / ".journal-fake-env").is_dir()
    recorder.merge("fake-env", suite.registries, tmp_path)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "fake-env.json").stat().st_mode) == 0o666 & ~mask
    assert not (tmp_path / ".journal-fake-env").exists()

"""Equivalence's machinery (conformance/equivalence.py): which paths pair, the case each side
gets, and a pair's verdict explained and recorded under each API, on the fake library."""

import dataclasses

import numpy as np
import pytest
from _fake_adapter import FakeAdapter
from _suites import fake_suite

from adapters.binding import Binding, Case
from adapters.guard import IsolatedAdapter
from conformance import recorder
from conformance.equivalence import compare, pairs, restated
from conformance.suite import UnexplainedDifference

LOGITS = Binding(api="lib.bce_with_logits", library="lib",
                 loss="binary_cross_entropy_with_logits", expression="lib.f(input, target)",
                 reductions={"mean": ""}, surface=("lib.bce_with_logits",))
# each differs from LOGITS in one step, or in what it computes
MODULE = dataclasses.replace(LOGITS, api="lib.BCEWithLogitsLoss",
                             surface=("lib.BCEWithLogitsLoss()",))
PROBABILITIES = dataclasses.replace(LOGITS, api="lib.bce", loss="binary_cross_entropy")
COMPILED = dataclasses.replace(LOGITS, api="lib.bce_with_logits [jit]", mode="jax.jit")
ROW_MEAN = dataclasses.replace(LOGITS, api="lib.row_mean", fixed_options={
    "average_last_axis": True})
OTHER_LIBRARY = dataclasses.replace(LOGITS, api="other.bce_with_logits", library="other")
INDICES_AND_ROWS = Binding(api="lib.ce", library="lib", loss="cross_entropy",
                           expression="lib.ce(input, target)",
                           options={"ignore_index": "ignore_index={}"},
                           reductions={"mean": ""}, targets=("indices", "probabilities"))


def test_paths_pair_within_one_library_where_they_differ_in_one_step():
    found = dict(pairs([("a", PROBABILITIES), ("a", LOGITS), ("a", MODULE), ("b", COMPILED),
                        ("a", ROW_MEAN), ("c", OTHER_LIBRARY), ("a", INDICES_AND_ROWS)]))
    assert found == {
        # the logits side first, whatever the order of the bindings
        "lib.bce_with_logits == lib.bce": ("a", LOGITS, "a", PROBABILITIES),
        "lib.bce_with_logits == lib.BCEWithLogitsLoss": ("a", LOGITS, "a", MODULE),
        "lib.bce_with_logits == lib.bce_with_logits [jit]": ("a", LOGITS, "b", COMPILED),
        "lib.ce [indices] == lib.ce [one-hot]": ("a", INDICES_AND_ROWS, "a", INDICES_AND_ROWS),
    }


def test_class_indices_meet_their_one_hot_rows_where_rows_can_say_the_same():
    case = Case("cross_entropy", {"input": np.zeros((2, 3)), "target": np.array([0, 2])},
                {"reduction": "mean"})
    indices, rows = restated(INDICES_AND_ROWS, INDICES_AND_ROWS, case)
    assert indices.is_index("target")
    assert rows.inputs["target"].tolist() == [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]]
    ignored = dataclasses.replace(case, options={**case.options, "ignore_index": 2})
    out_of_range = case.with_inputs(target=np.array([0, 3]))
    assert restated(INDICES_AND_ROWS, INDICES_AND_ROWS, ignored) is None
    assert restated(INDICES_AND_ROWS, INDICES_AND_ROWS, out_of_range) is None


# fake "fine" returns sum(input) = 0.75; "broken" raises a ValueError
CASE = Case("binary_cross_entropy",
            {"input": np.array([0.25, 0.5]), "target": np.array([0.0, 1.0])}, {"reduction": "sum"})
FINE, BROKEN = (b for b in FakeAdapter.bindings
                if b.api in ("_fake_library.fine", "_fake_library.broken"))


@pytest.fixture(scope="module")
def guarded():
    with IsolatedAdapter("_fake_adapter:FakeAdapter", timeout=5) as adapter:
        yield adapter


def test_a_pair_that_disagrees_fails_under_the_api_that_raised_with_both_calls(tmp_path,
                                                                              guarded):
    suite = fake_suite(tmp_path, guarded)
    compare(suite, (guarded, guarded), (FINE, BROKEN), (CASE, CASE), "a-case", "reductions")
    with pytest.raises(UnexplainedDifference) as raised:
        suite.assert_explained()
    assert "_fake_library.broken [equivalence, case agrees-with _fake_library.fine: a-case" \
        in str(raised.value)
    reproducer = raised.value.__notes__[0]
    for part in ("# --- this: _fake_library.broken", "# --- other: _fake_library.fine",
                 "print(result_this)\nprint(result_other)"):
        assert part in reproducer, part
    suite.recorder.close()
    # only the side that raised is recorded: the other has nothing to be judged against
    (finding,) = recorder.merge("fake-env", suite.registries, tmp_path)["findings"]
    assert (finding["api"], finding["outcome"], finding["deviation"]) == (
        "_fake_library.broken", "raises", None)
    assert [p["api"] for p in finding["paths"]] == ["_fake_library.broken",
                                                    "_fake_library.fine"]


@pytest.mark.parametrize(("api", "actual"), [("_fake_library.broken", 'raises = "ValueError"'),
                                             ("_fake_library.fine", "value = 0.75")])
def test_either_sides_registry_entry_explains_a_pair_difference(tmp_path, guarded, api,
                                                                actual):
    """The entry may be the raising side's, or the other side's (judged against this one)."""
    suite = fake_suite(tmp_path, guarded, f"""
        [[deviation]]
        id = "fake-pair"
        apis = ["{api}"]
        kind = "inconsistent-paths"
        reason = "fine returns a number where broken raises"
        link = "https://example.org"
        match = {{ category = "equivalence" }}
        actual = {{ {actual} }}
        """)
    compare(suite, (guarded, guarded), (FINE, BROKEN), (CASE, CASE), "a-case", "reductions")
    suite.assert_explained()
    suite.recorder.close()
    (finding,) = recorder.merge("fake-env", suite.registries, tmp_path)["findings"]
    assert (finding["api"], finding["deviation"]) == ("_fake_library.broken", "fake-pair")

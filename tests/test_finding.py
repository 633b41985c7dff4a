"""``conformance.results.Finding``: the record of one finding, written exactly as results files
of schema_version 1 hold it and read back from them."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from conformance.results import Finding, validate
from reports import synthetic as synthetic_results

#: the keys of a finding in the order the recorder has always written them (schema_version 1);
#: the files are compared byte for byte across versions of the suite, so the order is part of
#: the format
ORDER = ["id", "case", "backend", "backend_version", "api", "loss", "category", "check", "wrt",
         "dtype", "options", "inputs", "expected", "observed", "outcome", "error", "deviation",
         "reproducer", "magnitude"]


def recorded(**changes) -> Finding:
    """A finding as the recorder builds it: arrays, numpy scalars, non-finite floats."""
    values = dict(
        id="0123456789abcdef", case="log-of-zero", backend="torch",
        backend_version="2.13.0", api="torch.nn.functional.binary_cross_entropy",
        loss="binary_cross_entropy", category="edge_cases", check="value", wrt=None,
        dtype="float32", options={"reduction": "none"},
        inputs={"input": np.array([0.0, 0.5], dtype=np.float32), "target": np.array([1.0, 0.0])},
        expected=np.array([np.inf, np.log(2.0)]), observed=np.array([100.0, np.log(2.0)]),
        outcome="deviates",
        error={"abs": np.inf, "rel": np.float64(np.nan), "ulp": np.inf, "bound": 2.0,
               "bound_ratio": np.inf, "index": [0]},
        deviation="torch-bce-log-clamp", reproducer="import torch\n", magnitude=None)
    values.update(changes)
    return Finding(**values)


def test_to_json_writes_results_numbers_in_the_recorded_order():
    record = recorded(magnitude=np.float64(1e4)).to_json()
    assert list(record) == ORDER
    assert record["inputs"] == {"input": [0.0, 0.5], "target": [1.0, 0.0]}
    assert record["expected"] == ["inf", math.log(2.0)]
    assert record["error"]["rel"] == "nan"
    assert type(record["magnitude"]) is float
    json.dumps(record, allow_nan=False)  # nothing non-standard left


def test_optional_fields_are_left_out_when_they_have_no_value_but_wrt_is_always_written():
    record = recorded(case=None, loss=None).to_json()
    assert list(record) == [k for k in ORDER if k not in ("case", "loss", "magnitude")]
    assert record["wrt"] is None


def test_from_json_reads_what_to_json_wrote():
    record = recorded(wrt="input", check="gradient", magnitude=3.0).to_json()
    finding = Finding.from_json(record)
    assert (finding.api, finding.wrt, finding.magnitude) == (record["api"], "input", 3.0)
    assert finding.expected == ["inf", math.log(2.0)]  # the values stay as the file has them
    assert finding.to_json() == record
    assert json.dumps(finding.to_json()) == json.dumps(record)  # the same keys in the same order


def test_absent_optional_fields_read_as_none():
    record = recorded().to_json()
    for name in ("case", "loss", "wrt"):
        del record[name]
    finding = Finding.from_json(record)
    assert (finding.case, finding.loss, finding.wrt, finding.magnitude) == (None,) * 4


def test_every_synthetic_finding_survives_the_round_trip():
    document = synthetic_results.document("torch")
    validate(document)
    for record in document["findings"]:
        again = Finding.from_json(record).to_json()
        assert again == record
        assert list(again) == list(record)


@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.pop("outcome"), "missing outcome$"),
    (lambda r: [r.pop(k) for k in ("reproducer", "api")], "missing api, reproducer$"),
    (lambda r: r.update(sweep="logit"), "unknown field sweep$"),
    (lambda r: (r.update(kind="finding"), r.pop("error")), "missing error; unknown field kind$"),
])
def test_a_record_that_is_not_a_finding_is_named_with_its_problem(change, message):
    record = recorded().to_json()
    change(record)
    with pytest.raises(ValueError, match=r"finding '0123456789abcdef' does not fit the results "
                                         r"format: " + message):
        Finding.from_json(record)
    with pytest.raises(ValueError, match="a finding is a JSON object, not list"):
        Finding.from_json([record])


def test_a_finding_is_read_only():
    finding = Finding.from_json(recorded().to_json())
    with pytest.raises(AttributeError):
        finding.outcome = "match"

"""``python -m reports same OLD NEW``: are two runs the same run? A refactoring must leave every
finding's outcome and registry entry, and every summary row's counts, as they were."""

import json
import subprocess
import sys

from reports import synthetic
from reports.same import differences

ENVS = ["torch", "jax"]


def _runs(tmp_path):
    old, new = tmp_path / "old", tmp_path / "new"
    synthetic.write(old, ENVS)
    synthetic.write(new, ENVS)
    return old, new


def _edit(folder, env, change) -> None:
    path = folder / f"{env}.json"
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))


def test_a_run_is_the_same_as_itself(tmp_path):
    old, new = _runs(tmp_path)
    assert differences(old, new) == []
    done = subprocess.run([sys.executable, "-m", "reports", "same", str(old), str(new)],
                          capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout.splitlines()[-1]) == (
        0, f"0 differences between {old} and {new}")


def test_every_kind_of_difference_is_named(tmp_path):
    old, new = _runs(tmp_path)
    torch = json.loads((old / "torch.json").read_text())
    first, second = torch["findings"][0], torch["findings"][1]
    row = torch["summary"][0]

    def change(document):
        kept = [f for f in document["findings"] if f["id"] != second["id"]]
        for f in kept:
            if f["id"] == first["id"]:
                f["deviation"] = "another-entry"
        document["findings"] = kept
        document["summary"][0]["matches"] += 1

    _edit(new, "torch", change)
    (new / "jax.json").unlink()
    found = differences(old, new)
    where = f"({first['api']}, {first['case']}, {first['dtype']}, {first['check']})"
    assert f"torch: finding {first['id']} {where}: {first['outcome']} / {first['deviation']} " \
           f"became {first['outcome']} / another-entry" in found
    assert any(line.startswith(f"torch: finding {second['id']} ") and
               line.endswith("only in the old run") for line in found)
    assert f"torch: summary {row['api']} / {row['category']} / {row['dtype']}: matches " \
           f"{row['matches']} -> {row['matches'] + 1}" in found
    assert "jax: only in the old run" in found
    done = subprocess.run([sys.executable, "-m", "reports", "same", str(old), str(new)],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 1


def test_an_accuracy_row_measured_differently_or_gone_is_a_difference(tmp_path):
    old, new = _runs(tmp_path)
    records = json.loads((old / "torch.json").read_text())["accuracy"]
    first, second = records[0], records[1]

    def change(document):
        document["accuracy"] = [r for r in document["accuracy"] if r != second]
        for r in document["accuracy"]:
            if r == first:
                r["outcome"], r["reason"] = "raises", "ValueError: no"
        # a library's number is not compared: the same calls give the same ones
        document["accuracy"][-1]["worst_ulp"] = 12345.0

    _edit(new, "torch", change)
    found = differences(old, new)
    assert len(found) == 2, found
    assert any(line.startswith(f"torch: accuracy {first['api']} ") and
               line.endswith(f"{first['outcome']} over {first['inputs']} inputs became raises "
                             f"over {first['inputs']}") for line in found)
    assert any(line.startswith(f"torch: accuracy {second['api']} ") and
               line.endswith("only in the old run") for line in found)

"""The report built from a real conformance run, not from synthetic results.

A small slice of the suite (scipy's APIs, edge cases and reductions: scipy is a dependency of
the project, so it is in every env) writes a real results file; the report must read it,
validate it and show its APIs. Whether the slice passes is the suite's business, not this
test's: a results file is written either way.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from conformance.results import validate
from reports.build import build, write

ROOT = Path(__file__).resolve().parent.parent


def test_report_from_a_real_run(tmp_path):
    env = {**os.environ, "XENT_RESULTS_DIR": str(tmp_path), "XENT_ENV": "scipy-sample",
           "XENT_REQUIRE_ADAPTERS": "scipy", "HYPOTHESIS_PROFILE": "ci"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "conformance", "-q", "-p", "no:cacheprovider",
         "-p", "no:xdist", "-k", "scipy and (edge_cases or reductions)"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    results = tmp_path / "scipy-sample.json"
    assert results.exists(), run.stdout[-3000:] + run.stderr[-3000:]
    document = json.loads(results.read_text())
    validate(document)
    assert document["summary"], "the run judged no case"
    apis = {row["api"] for row in document["summary"]}
    assert any(api.startswith("scipy.special") for api in apis)

    report = build(tmp_path, expected=("scipy-sample",))
    out = tmp_path / "index.html"
    write(report, out)
    html = out.read_text()
    assert "scipy.special" in html
    assert "scipy-sample" in html

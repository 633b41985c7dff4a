"""Verdicts a maintainer can trust, in the report (issue 18): "n/a" in the overview only where
nothing was judged; cases the harness failed on kept apart from the library's findings, with
their causes; registry entries whose claim failed, apart from stale ones; the runs' warnings;
``python -m reports --strict``. Rendered from synthetic results (``synthetic_results``), whose
jax and tensorflow runs hold harness errors, torch and tensorflow failed claims, numpy and jax
warnings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from test_report import no_figures  # noqa: F401 (an autouse fixture: no figures here)
from test_report_overview import overview_cell

import reports
from reports import __main__ as cli
from reports import notices, plots, registry, summary
from reports import synthetic as synthetic_results
from reports.build import build
from reports.diff import diff
from reports.load import load_results
from reports.model import build_model

ENVS = ("numpy", "torch", "tensorflow", "jax")


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("results")
    synthetic_results.write(directory, ENVS)
    return directory


@pytest.fixture(scope="module")
def report(results_dir):
    return build(results_dir)


# --- the overview: n/a only where nothing was judged --------------------------------------------

def test_a_cell_with_unsupported_and_judged_cases_shows_its_findings(tmp_path):
    """A cell whose dtypes are partly unsupported (more unsupported cases than judged ones,
    the case that showed judged findings as "n/a") shows its findings and cases judged,
    coloured by its worst finding, and its title counts both."""
    document = synthetic_results.document("torch")
    api, category = "torch.nn.functional.cross_entropy", "values"
    rows = [r for r in document["summary"] if r["api"] == api and r["category"] == category]
    unsupported = rows[0]  # this dtype: every case one the API cannot express
    document["findings"] = [f for f in document["findings"] if not (
        f["api"] == api and f["category"] == category and f["dtype"] == unsupported["dtype"])]
    unsupported.update(cases=0, matches=0, findings=0, registered=0, unsupported=5000,
                       ulp_histogram={})
    (tmp_path / "torch.json").write_text(json.dumps(document))
    # the cell: torch's eager APIs of the softmax cross-entropy (the function and the module)
    apis = {f["api"] for f in document["findings"] if f["loss"] == "cross_entropy"}
    judged = sum(r["matches"] + r["findings"] for r in document["summary"]
                 if r["api"] in apis and r["category"] == category)
    findings = sum(1 for f in document["findings"] if f["api"] in apis
                   and f["category"] == category and f["outcome"] != "match")
    assert 0 < judged < 5000
    assert findings

    report = build(tmp_path)
    cls, title, text = overview_cell(report.html, "cross-entropy on logits", category,
                                     "PyTorch")
    assert "s-unsupported" not in cls
    assert cls.split()[0].startswith("o-")
    assert text.startswith(f'<span class="n">{findings}</span><span class="judged">/{judged}'
                           '</span>')
    assert f"{judged} cases judged, {findings} findings" in title
    assert "5000 unsupported (not expressible by the API)" in title


def test_the_unsupported_cells_of_a_run_are_na(report):
    """keras on numpy has no gradients: nothing judged, every case unsupported."""
    overview = report.overview
    tallies = [overview.unit_cell(row, c, u) for row, _ in overview.rows
               for c in overview.categories for col in overview.columns for u in col.units]
    assert not any(t.state == "unsupported" and (t.judged or t.findings) for t in tallies)


def test_a_cell_the_harness_failed_on_is_not_na(results_dir, tmp_path):
    """jax's integer-label gradients: the harness failed on every case, so nothing was judged:
    not "not applicable", and not a finding."""
    document = json.loads((results_dir / "jax.json").read_text())
    failed = "optax.softmax_cross_entropy_with_integer_labels"

    def kept(record: dict) -> bool:  # of the cell's gradients, only the failed API's
        return record["category"] != "gradients" or record["api"] == failed
    document["summary"] = [r for r in document["summary"] if kept(r)]
    document["findings"] = [f for f in document["findings"] if kept(f)]
    (tmp_path / "jax.json").write_text(json.dumps(document))
    cls, title, text = overview_cell(build(tmp_path).html, "cross-entropy on logits",
                                     "gradients", "JAX")
    assert cls.split()[0] == "s-harness-error"
    assert text == "&#9888;"
    assert "0 findings (0 explained by the registry, 0 not), the harness failed on 8 (no " \
        "verdict)" in title
    # a judged cell with a few harness errors shows its findings and marks the failures
    cls, title, text = overview_cell(build(results_dir).html, "binary cross-entropy on logits",
                                     "edge_cases", "TensorFlow")
    assert cls.split()[0].startswith("o-")
    assert '<i class="harness">' in text
    assert "the harness failed on 2 (no verdict)" in title


# --- harness errors: no verdicts about the library ------------------------------------------------

def test_harness_errors_are_not_findings_of_the_library(report, results_dir):
    jax = json.loads((results_dir / "jax.json").read_text())
    failed = [f for f in jax["findings"] if f["outcome"] == "harness-error"]
    assert len(failed) == 8
    differing = [f for f in jax["findings"] if f["outcome"] not in ("match", "harness-error")]
    totals = report.model.totals["jax"]
    assert totals["findings"] == len(differing)
    assert totals["harness_errors"] == 8
    assert totals["unregistered"] == sum(1 for f in differing if not f["deviation"]
                                         and f["outcome"] != "unsupported")
    optax = next(lib for lib in summary.libraries(report.results, report.model)
                 if lib.backend == "optax")
    assert optax.findings == sum(1 for f in differing if f["backend"] == "optax")
    assert "harness-error" not in optax.counts
    assert not any(f.outcome == "harness-error" for issue in optax.issues
                   for _, f in issue.findings)
    assert not any(f.outcome == "harness-error" for _, cases in report.model.lone
                   for case in cases for f in case.findings)


def test_the_page_says_where_the_harness_failed_near_the_top(report):
    html = report.html
    top = html.index('<section id="notices"')
    assert top < html.index('<section id="summary"')
    notice = html[top:html.index("</section>", top)]
    cause = ("the binding&#39;s expression names "
             "optax.softmax_cross_entropy_with_integer_label, which does not exist")
    assert re.search(r"The harness failed on <strong>8</strong> cases of <strong>jax</strong>:"
                     r"\s*<span class=\"cause\">" + re.escape(cause) + r"</span> \(8\);\s*"
                     r"these are not verdicts about the library", notice)
    # the causes are the harness's words, escaped like every string of a results file
    assert "died while serving the call &lt;oom&gt; &amp; was replaced" in notice
    assert '<a href="#findings?env=jax&amp;group=harness-error">' in notice
    failures = {h.env: h for h in notices.harness_failures(report.results)}
    assert failures["tensorflow"].cases == 2
    assert failures["tensorflow"].causes == [(
        "the worker process died while serving the call <oom> & was replaced", 2)]
    # the lead counts them apart from the findings
    assert re.search(r"<strong class=\"harness\">10</strong> cases the harness failed on</a> "
                     r"\(not verdicts about the libraries\)", html)


def test_a_finding_that_became_a_harness_error_changed(results_dir, tmp_path):
    """In the diff of two runs: not "disappeared" (fixed), but changed, by its outcome."""
    document = json.loads((results_dir / "torch.json").read_text())
    finding = next(f for f in document["findings"] if f["outcome"] == "deviates")
    finding.update(outcome="harness-error", error=None, deviation=None, observed={
        "error": "ImportError", "message": "no module", "cause": "an import failed"})
    (tmp_path / "torch.json").write_text(json.dumps(document))
    changes = diff(load_results(tmp_path), load_results(results_dir))
    assert changes.fixed == []
    assert [c.after.id for c in changes.changed] == [finding["id"]]
    assert changes.changed[0].what[0] == "outcome deviates -> harness-error"


# --- failed claims and warnings -----------------------------------------------------------------

def test_failed_claims_are_listed_apart_from_stale_entries(report):
    by_library = {lib.library: lib for lib in registry.by_library(report.results,
                                                                   report.model.facts)}
    tensorflow = {e.ident: e for e in by_library["tensorflow"].entries}
    entry = tensorflow["tf-sigmoid-inf-logit-nan"]
    assert entry.stale == []  # its match selected findings: not stale
    assert entry.failed == {"tensorflow": {"selected": 3, "failed": 3,
                                           "why": "claims nan; the library returned inf"}}
    torch = {e.ident: e for e in by_library["torch"].entries}["torch-bce-log-clamp"]
    assert torch.failed["torch"]["failed"] < torch.failed["torch"]["selected"]
    assert torch.matches["torch"] == torch.failed["torch"]["selected"] - \
        torch.failed["torch"]["failed"]
    assert by_library["tensorflow"].failed_claims == 1

    html = report.html
    row = re.search(r'<tr class="registry-entry claim-failed"[^>]*>\s*<td><code>'
                    r'tf-sigmoid-inf-logit-nan</code>.*?</tr>', html, re.S).group(0)
    assert '<span class="badge claim-failed">claim failed</span>' in row
    assert '<span class="badge stale">' not in row
    assert 'it claims <code>"nan"</code>' in row
    assert re.search(r"Its match selected 3 findings; the claim did not hold on <a href=\""
                     r"#findings\?env=tensorflow&amp;q=tf-sigmoid-inf-logit-nan\">3</a>, which "
                     r"are not in the registry: claims nan; the library returned inf", row)
    assert re.search(r"<strong>tensorflow</strong>: \d+ entr\w+, "
                     r"<span class=\"bad\">1 with a failed claim</span>", html)


def test_the_runs_warnings_are_near_the_top_and_with_their_runs(report):
    html = report.html
    warning = synthetic_results.WARNINGS["jax"][0].replace("<", "&lt;").replace(">", "&gt;")
    notice = html[html.index('<section id="notices"'):html.index('<section id="summary"')]
    assert f"<b>warning</b> (jax): {warning}" in notice
    runs = html[html.index('<section id="runs"'):]
    assert f'<div class="warning">{warning}</div>' in runs
    assert notices.warnings(report.results) == [  # in the runs' order, by file name
        ("jax", synthetic_results.WARNINGS["jax"][0]),
        ("numpy", synthetic_results.WARNINGS["numpy"][0])]


def test_no_notices_without_harness_errors_or_warnings(tmp_path):
    synthetic_results.write(tmp_path, ["keras-torch"])
    assert 'id="notices"' not in build(tmp_path).html


# --- python -m reports --strict -----------------------------------------------------------------

def run_cli(results: Path, out: Path, *args: str) -> int:
    return cli.main(["--results", str(results), "--out", str(out), *args])


def test_strict_fails_on_an_unreadable_file(tmp_path, capsys):
    results = tmp_path / "results"
    synthetic_results.write(results, ["jax"])
    (results / "torch.json").write_text('{"schema_version": 1, "env": "torch", "findings": [')
    out = tmp_path / "index.html"
    assert run_cli(results, out) == 0  # without --strict: one readable file is enough
    assert run_cli(results, out, "--strict") == 1
    err = capsys.readouterr().err
    assert f"reports: error: {results / 'torch.json'}: ends early" in err
    assert "reports: error (--strict): 1 unreadable results files, 0 missing envs" in err
    assert out.exists()  # the page is written all the same


def test_strict_fails_on_a_missing_expected_env(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    synthetic_results.write(results, ["jax"])
    out = tmp_path / "index.html"
    monkeypatch.setenv("XENT_EXPECTED_ENVS", "jax,torch")
    assert run_cli(results, out) == 0
    assert run_cli(results, out, "--strict") == 1
    assert "reports: error (--strict): 0 unreadable results files, 1 missing envs" in \
        capsys.readouterr().err
    assert run_cli(results, out, "--strict", "--expected-envs", "jax") == 0


def test_strict_is_documented(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--help"])
    help_text = capsys.readouterr().out
    assert "--strict" in help_text
    assert "exit 1 when a results file is unreadable or an expected env is missing" in \
        " ".join(help_text.split())
    assert "--strict" in cli.__doc__
    assert "--strict" in reports.__doc__


def test_the_main_jobs_report_env_is_strict():
    tox = Path(__file__).resolve().parent.parent / "tox.ini"
    section = tox.read_text().split("[testenv:report]", 1)[1].split("\n[", 1)[0]
    assert "\ncommands = python -m reports --strict {posargs}" in section


def test_a_sweep_point_the_harness_failed_on_is_not_plotted(tmp_path):
    """No error to plot: not a point at the top of the axis, where non-finite results go."""
    document = synthetic_results.document("jax")
    sweep = [f for f in document["findings"] if f["category"] == "stability"
             and f["api"] == "optax.softmax_cross_entropy"]
    for f in sweep:
        f.update(outcome="harness-error", error=None, deviation=None, observed={
            "error": "WorkerDied", "message": "signal 9", "cause": "the worker died"})
    document["findings"] = sweep
    (tmp_path / "jax.json").write_text(json.dumps(document))
    results = load_results(tmp_path)
    assert plots.stability_points(results.runs, build_model(results).facts) == {}

"""The HTML report, rendered from synthetic results (``synthetic_results``): its structure, its
counts and links, escaping, self-containment, bad input, missing envs, the "only this library
differs" view and the diff of two runs. The browser behaviour is in test_report_browser.py."""

from __future__ import annotations

import base64
import contextlib
import copy
import gc
import gzip
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import reports
from conformance.results import validate
from reports import __main__ as cli
from reports import payload, plots, registry, summary
from reports import synthetic as synthetic_results
from reports.build import build, fmt, safe_url
from reports.diff import diff
from reports.load import ResultsError, load_results, read_run, schema_problems
from reports.model import build_model, categories

ENVS = ("numpy", "torch", "tensorflow", "jax", "keras-jax")


class Page(HTMLParser):
    """Every start tag with its attributes, the matrix cells, and each script's text."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self._script: dict | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag == "script":
            self._script = attributes
            self.scripts.append((attributes, ""))

    def handle_data(self, data):
        if self._script is not None:
            attributes, text = self.scripts[-1]
            self.scripts[-1] = (attributes, text + data)

    def handle_endtag(self, tag):
        if tag == "script":
            self._script = None

    @staticmethod
    def _name(keyword: str) -> str:  # class_ -> class, data_env -> data-env
        return keyword.rstrip("_").replace("_", "-")

    def find(self, tag: str, **attrs) -> list[dict]:
        return [a for t, a in self.tags if t == tag
                and all(a.get(self._name(k)) == v for k, v in attrs.items())]

    def blob(self, **attrs):
        """The JSON in the script with these attributes (gzip + base64)."""
        for attributes, text in self.scripts:
            if all(attributes.get(self._name(k)) == v for k, v in attrs.items()):
                return json.loads(gzip.decompress(base64.b64decode(text.strip())))
        raise KeyError(attrs)


@pytest.fixture(autouse=True)
def no_figures(monkeypatch, request):
    """Figures cost seconds and are checked on their own (test_figures_*)."""
    if request.node.name.startswith("test_figures"):
        return
    monkeypatch.setattr(plots, "stability_figure", lambda *a: None)
    monkeypatch.setattr(plots, "histogram_figure", lambda *a: None)
    monkeypatch.setattr(plots, "gradient_figure", lambda *a: None)
    monkeypatch.setattr(plots, "accuracy_figure", lambda *a: None)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("results")
    synthetic_results.write(directory, ENVS)
    return directory


@pytest.fixture
def report(results_dir):
    return build(results_dir, expected=(*ENVS, "mxnet"))


@pytest.fixture
def page(report) -> Page:
    return Page(report.html)


# --- synthetic results and loading --------------------------------------------------------------

def test_synthetic_documents_are_valid_results():
    documents = synthetic_results.documents()
    validate(documents["jax"])  # the pure-Python validator, on one small document
    for env, document in documents.items():
        assert schema_problems(document) == [], env
    findings = [f for d in documents.values() for f in d["findings"]]
    assert {f["outcome"] for f in findings} == {
        "match", "deviates", "nonfinite", "raises", "accepts_invalid", "unsupported", "crash",
        "timeout", "harness-error"}
    assert any(f.get("failed_claims") for f in findings)
    assert any(d.get("failed_claims") for d in documents.values())
    assert any(d.get("warnings") for d in documents.values())
    assert any(r.get("harness_errors") for d in documents.values() for r in d["summary"])
    assert {f["category"] for f in findings} == set(categories())
    assert {f["dtype"] for f in findings} == {"float16", "bfloat16", "float32", "float64"}
    kinds = {e["kind"] for d in documents.values() for e in d["deviations"].values()}
    assert kinds == {"documented-semantics", "precision", "bug", "out-of-contract", "unsupported"}
    assert any(d["stale_deviations"] for d in documents.values())
    assert any(d["unavailable"] for d in documents.values())
    assert any(synthetic_results.XSS in json.dumps(f["observed"]) for f in findings)
    assert any("magnitude" in f for f in findings)


def test_synthetic_documents_scale_to_a_requested_size():
    documents = synthetic_results.documents(["jax"], findings=3000)
    assert 2700 <= len(documents["jax"]["findings"]) <= 3300


@pytest.mark.parametrize(("content", "problem"), [
    (b"", "is empty"),
    (b'{"schema_version": 1, "env": "torch", "findings": [', "truncated"),
    (b"{this is not json}", "is not valid JSON"),
    (b"\xff\xfe\x00garbage", "not UTF-8"),
    (b"[1, 2, 3]", "holds a JSON list"),
    (b'{"schema_version": 1, "x": NaN}', "non-standard JSON constant NaN"),
])
def test_unreadable_files_say_what_is_wrong(tmp_path, content, problem):
    path = tmp_path / "torch.json"
    path.write_bytes(content)
    with pytest.raises(ResultsError, match=problem):
        read_run(path)


def test_schema_problems_name_the_place():
    document = synthetic_results.document("jax")
    document["findings"][3]["outcome"] = "exploded"
    del document["environment"]["seed"]
    problems = schema_problems(document)
    assert any(p.startswith("at findings[3].outcome:") and "exploded" in p for p in problems)
    assert any("seed" in p for p in problems)
    document = synthetic_results.document("jax")
    document["schema_version"] = 2
    assert schema_problems(document) == ["schema_version is 2; this report reads version 1"]


# --- the report reads results, nothing else ------------------------------------------------------

#: builds the report of argv[1] in a fresh interpreter; prints the modules it imported and the
#: files it opened (the "open" audit event: every open, imports included)
PROBE = """
import json, os, sys
opened = []
sys.addaudithook(lambda event, args: opened.append(os.fsdecode(args[0]))
                 if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)) else None)
from reports.build import build
report = build(sys.argv[1])
print(json.dumps({"modules": sorted(sys.modules), "opened": opened, "facts": report.model.facts}))
"""


def test_the_report_reads_nothing_but_results_and_their_format(tmp_path):
    document = synthetic_results.document("jax")
    alone = "optax.safe_softmax_cross_entropy"  # an API that no kept case names
    document["findings"] = [f for f in document["findings"] if f["api"] != alone]
    (tmp_path / "jax.json").write_text(json.dumps(document))
    site = Path(reports.__file__).resolve().parent.parent  # where this run imports it from
    run = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path)], capture_output=True,
                         text=True, check=True, env={**os.environ, "PYTHONPATH": str(site)},
                         cwd=tmp_path, timeout=300)
    probe = json.loads(run.stdout.splitlines()[-1])

    modules = [m for m in probe["modules"] if m.split(".")[0] in ("adapters", "reference")
               or (m.startswith("conformance.") and m != "conformance.results")]
    assert modules == []
    opened = [Path(p).resolve() for p in probe["opened"]]
    assert tmp_path.resolve() / "jax.json" in opened  # the probe sees what the report opens
    homes = {name: Path(importlib.util.find_spec(name).origin).resolve().parent
             for name in ("adapters", "reference", "conformance")}
    for path in opened:
        assert not path.is_relative_to(homes["adapters"]), path
        assert not path.is_relative_to(homes["reference"]), path
        if path.is_relative_to(homes["conformance"]):  # the results format only
            assert path.name.split(".")[0] in ("__init__", "results"), path
    # what the results do not say, the report does not look up elsewhere
    assert probe["facts"][alone] == ["?", "(loss not recorded)"]


# --- structure ----------------------------------------------------------------------------------

def test_header_names_every_run_with_its_versions(report, page):
    html = report.html
    for env in ENVS:
        assert f"<th>{env}<div class=\"file\">{env}.json</div></th>" in html
    assert "torch <b>2.13.0</b>" in html
    assert "optax <b>0.2.8</b>" in html
    assert "Hypothesis profile <code>ci</code>, seed <code>20261122</code>" in html
    assert "Linux-6.1.0-x86_64-with-glibc2.36" in html


def embedded(page) -> tuple[dict, dict[str, list[dict]]]:
    """The environments and, per env, the findings the page carries (``payload.page_data``),
    each env's in the order of its file."""
    data = page.blob(id="results-data")
    by_env: dict[str, list[dict]] = {}
    for record in rows(data["findings"]):
        by_env.setdefault(record.pop("env"), []).append(record)
    return data["environments"], by_env


def test_every_finding_is_embedded_with_its_file(page, results_dir):
    """The page carries what its script reads of each results file: its environment and every
    finding (big arrays summarised); not what the page renders on the server: the summary
    rows, and the registry entries (the script reads them from the registry section,
    test_report_browser.py)."""
    environments, findings = embedded(page)
    assert set(environments) == set(ENVS)
    assert set(findings) == set(ENVS)
    for env in ENVS:
        path = results_dir / f"{env}.json"
        document = json.loads(path.read_text())
        assert environments[env] == document["environment"]
        key = {f["id"]: k for k, f in enumerate(document["findings"])}.get
        assert sorted(findings[env], key=lambda f: key(f["id"])) == [
            payload.page_record(f, path) for f in document["findings"]]
        if any(payload.is_big(f) for f in document["findings"]):
            # classes-32000 findings that keep their inputs (see the next test)
            assert env in ("torch", "keras-jax")
    facts = page.blob(id="report-facts")
    assert facts["categories"] == list(categories())
    assert facts["lone"]["torch"]


def test_the_same_finding_of_several_envs_travels_side_by_side(page):
    """The Keras envs run the same cases: the records of one id follow each other, so that
    their nearly equal reproducers compress together."""
    data = page.blob(id="results-data")
    ids, envs = data["findings"]["columns"]["id"], data["findings"]["columns"]["env"]
    runs = [ids[0]]
    for ident in ids[1:]:
        if ident != runs[-1]:
            runs.append(ident)
    assert len(runs) == len(set(ids))  # each id in one run of records
    shared = {i for i, e in zip(ids, envs, strict=True) if e == "keras-jax"} & \
        {i for i, e in zip(ids, envs, strict=True) if e == "tensorflow"}
    assert shared


def rows(table: dict) -> list[dict]:
    """The records of a findings table (``payload.table``), as the page's script reads them:
    a null in the column of a field a record may leave out is left out."""
    optional = set(table["optional"])
    return [{k: v[i] for k, v in table["columns"].items() if v[i] is not None or k not in optional}
            for i in range(table["count"])]


def test_findings_travel_column_by_column():
    records = [{"id": "a", "case": "x", "wrt": None, "error": None},
               {"id": "b", "wrt": "input", "error": None, "magnitude": 2.0}]
    packed = payload.table(records)
    assert packed["columns"] == {"id": ["a", "b"], "case": ["x", None], "wrt": [None, "input"],
                                 "error": [None, None], "magnitude": [None, 2.0]}
    assert {"case", "magnitude", "paths", "failed_claims"} <= set(packed["optional"])
    assert not {"error", "wrt"} & set(packed["optional"])  # null is a value of theirs
    assert rows(packed) == records


def test_a_table_keeps_fields_the_schema_does_not_name_and_may_be_empty():
    packed = payload.table([{"id": "a", "zeta": 1}, {"id": "b", "alpha": [2]}])
    assert packed["columns"] == {"id": ["a", "b"], "alpha": [None, [2]], "zeta": [1, None]}
    assert payload.table([])["columns"] == {}


def test_build_pauses_the_cyclic_collector_and_restores_it(results_dir, monkeypatch):
    """Off while the build reads the results and makes the page (its full passes over the
    results' millions of objects were a quarter of the build's time), then as it was: on, or
    off where the caller had turned it off (``python -m reports``), also when the build
    fails."""
    during = []

    def load(*args):
        during.append(gc.isenabled())
        return load_results(*args)

    monkeypatch.setattr(reports.build, "load_results", load)
    assert gc.isenabled()
    assert build(results_dir).readable
    assert during == [False]
    assert gc.isenabled()
    gc.disable()
    try:
        build(results_dir)
        assert not gc.isenabled()
    finally:
        gc.enable()
    monkeypatch.setattr(reports.build, "build_model", lambda results: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        build(results_dir)
    assert gc.isenabled()

def test_big_arrays_travel_as_summaries_and_reproducers_read_them(page, results_dir):
    path = results_dir / "torch.json"
    document = json.loads(path.read_text())
    shown_by_id = {f["id"]: f for f in embedded(page)[1]["torch"]}
    big = [f for f in document["findings"] if f["case"] == "classes-32000" and f["inputs"]]
    assert {f["check"] for f in big} == {"value", "gradient"}
    for f in big:
        shown = shown_by_id[f["id"]]
        logits = f["inputs"]["input"]
        summary = shown["inputs"]["input"]["array"]
        assert summary["shape"] == [2, 32000]
        assert summary["size"] == 64000
        assert summary["min"] == min(min(row) for row in logits)
        assert summary["max"] == max(max(row) for row in logits)
        assert summary["first"] == logits[0][:payload.FIRST]
        assert summary["file"] == "torch.json"
        assert shown["inputs"]["target"] == f["inputs"]["target"]  # small arrays stay
        assert str(logits[0][:3])[1:-1] not in shown["reproducer"]
        if f["check"] == "gradient":
            assert shown["expected"]["array"]["shape"] == [2, 32000]
            assert shown["observed"]["array"]["shape"] == [2, 32000]
        # the reproducer reads the full array from the results file: run its loading part
        loading = shown["reproducer"].split("\nimport torch")[0]
        assert f"RESULTS = {str(path)!r}" in loading
        namespace: dict = {}
        exec(loading, namespace)
        assert namespace["numbers"](namespace["recorded"]["input"]) == logits
        assert "input = torch.asarray(numbers(recorded['input']), dtype='float32')" in \
            shown["reproducer"]
    small = [f for f in document["findings"] if not payload.is_big(f)]
    assert all(shown_by_id[f["id"]] == f for f in small)


def test_the_main_jobs_page_stays_small(results_dir, report):
    """The page carries each finding, but the big arrays only as summaries: the torch file
    holds about 4.5 MB of them, which the page must not."""
    files = sum((results_dir / f"{env}.json").stat().st_size for env in ENVS)
    assert files > 5_000_000
    assert len(report.html) < 1_500_000


def test_library_strings_are_escaped(tmp_path):
    document = synthetic_results.document("jax")
    evil = "optax.evil<script>alert(1)</script>&co"
    for f in document["findings"][:5]:
        f["api"] = evil
    document["summary"][0]["api"] = evil
    document["unavailable"] = {"flax": "unavailable: ImportError: <img src=x onerror=alert(1)>"}
    entry = next(iter(document["deviations"].values()))
    entry["reason"] = "clips & <b>rounds</b> <script>alert(2)</script>"
    entry["link"] = "javascript:alert(3)"
    document["environment"]["platform"] = "</td><script>alert(4)</script>"
    (tmp_path / "jax.json").write_text(json.dumps(document))
    html = build(tmp_path).html
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "<b>rounds" not in html
    assert "optax.evil&lt;script&gt;alert(1)&lt;/script&gt;&amp;co" in html
    assert "clips &amp; &lt;b&gt;rounds&lt;/b&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    hrefs = [a["href"] for a in Page(html).find("a") if "href" in a]
    assert not any(h.strip().lower().startswith("javascript:") for h in hrefs)


def test_the_page_is_self_contained(report, page):
    assert page.find("link") == []
    assert page.find("iframe") == []
    for tag, attrs in page.tags:
        if "src" in attrs:
            assert attrs["src"].startswith("data:"), (tag, attrs["src"][:80])
        if "href" in attrs and not attrs["href"].startswith("#"):
            assert tag == "a", attrs
            assert attrs.get("class") == "registry-link", attrs
            assert attrs["href"].startswith(("https://", "http://"))
            assert "noreferrer" in attrs["rel"]
    for attributes, _ in page.scripts:
        assert "src" not in attributes
    assert not re.search(r"url\(\s*['\"]?https?:|@import", report.html)
    assert sum(1 for a in page.find("a") if a.get("class") == "registry-link") > 3


def test_figures_are_inline_svg_and_the_histograms_a_png(results_dir):
    """The stability curves and the gradient error (a row per API, named as text) are inline
    SVG; the histograms, many lines and few words, a PNG data URI."""
    report = build(results_dir)
    page = Page(report.html)
    images = page.find("img")
    assert len(images) == 2  # the histograms, and the accuracy sweeps' error against the input
    for image in images:
        assert image["src"].startswith("data:image/png;base64,")
        assert base64.b64decode(image["src"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
        assert image["alt"]
    assert len(page.find("svg")) == 2
    assert page.find("figure", class_="stability-plot")
    gradients = report.html.split('<figure class="gradient-plot"', 1)[1].split("</figure>")[0]
    assert ">torch.nn.functional.cross_entropy (torch)</text>" in gradients
    # the ids matplotlib derives from content differ between the figures
    stability = report.html.split('<figure class="stability-plot"', 1)[1].split("</figure>")[0]
    derived = re.compile(r'id="([mp][0-9a-f]{10})"')
    assert set(derived.findall(stability)).isdisjoint(derived.findall(gradients))
    assert derived.findall(gradients)


def test_stability_ticks_are_the_swept_values(results_dir):
    """Each panel's x ticks are the values its cases swept, as the case names write them."""
    results = load_results(results_dir)
    points = plots.stability_points(results.runs, build_model(results).facts)
    assert set(points) == {("cross_entropy", "logit-magnitude"), ("nll_loss", "logit-magnitude"),
                           ("binary_cross_entropy_with_logits", "logit-magnitude"),
                           ("binary_cross_entropy", "probability-near-0-and-1"),
                           ("categorical_cross_entropy", "probability-near-0")}
    ticks = {dtype: sorted({m: v[0] for by_m in by_unit.values() for m, v in by_m.items()}
                           .items()) for dtype, by_unit in
             points[("cross_entropy", "logit-magnitude")].items()}
    assert [label for _, label in ticks["float64"]] == [
        "1", "10", "100", "1e3", "1e4", "1e6", "4.49e307"]
    assert [label for _, label in ticks["float16"]] == [
        "1", "10", "100", "1e3", "1e4", "1.64e4", "1e6"]
    probabilities = points[("binary_cross_entropy", "probability-near-0-and-1")]
    assert sorted({v[0] for by_m in probabilities["float32"].values() for v in by_m.values()},
                  key=lambda t: float(t[3:])) == ["1e-1", "1e-4", "1e-8", "1e-16", "1e-30"]
    # classes-32000 is one point, no sweep: not plotted as a logit magnitude of 32000
    assert not any(32000.0 in by_m for by_unit in points[("cross_entropy", "logit-magnitude")]
                   .values() for by_m in by_unit.values())


def test_figures_escape_library_strings(tmp_path):
    document = synthetic_results.document("jax")
    for f in document["findings"]:
        f["backend"] = "optax<script>alert(1)</script>"
    (tmp_path / "jax.json").write_text(json.dumps(document))
    svg = plots.stability_figure(load_results(tmp_path).runs,
                                 build_model(load_results(tmp_path)).facts)
    assert "<script>" not in svg
    assert "optax&lt;script&gt;alert(1)&lt;/script&gt; (jax)" in svg


def test_ulp_bins_sort_by_their_edge():
    labels = ["nonfinite", ">2^20", "<=2^20", "<=4", "<=2", "<=1", "<=0.5", "0", "<=2^3"]
    ordered = sorted(labels, key=plots.bin_edge)
    assert ordered == ["0", "<=0.5", "<=1", "<=2", "<=4", "<=2^3", "<=2^20", ">2^20",
                       "nonfinite"]


def test_stale_deviations_and_unavailable_adapters_are_listed(report):
    assert '<span class="badge stale">stale</span>' in report.html
    assert "<b>scikit-learn</b>: unavailable: ModuleNotFoundError" in report.html


# --- bad input and missing envs -----------------------------------------------------------------

def test_bad_files_are_named_and_the_others_still_render(tmp_path, capsys):
    results = tmp_path / "results"
    synthetic_results.write(results, ["torch", "jax"])
    good = (results / "jax.json").read_text()
    (results / "corrupt.json").write_bytes(b"\x00\x01{{{ not json")
    (results / "truncated.json").write_text(good[: len(good) // 2])
    wrong = json.loads(good)
    wrong["env"] = "wrong"
    wrong["findings"][0]["outcome"] = "exploded"
    (results / "wrong.json").write_text(json.dumps(wrong))
    out = tmp_path / "index.html"
    status = cli.main(["--results", str(results), "--out", str(out), "--expected-envs",
                       "torch,jax,truncated,mxnet"])
    assert status == 0
    err = capsys.readouterr().err
    html = out.read_text()
    for name, problem in [("corrupt.json", "is not valid JSON"),
                          ("truncated.json", "the file is truncated"),
                          ("wrong.json", "at findings[0].outcome")]:
        assert f"{results / name}: " in err
        assert problem in err
        line = re.search(re.escape(str(results / name)) + r"</code>: <span class=\"message\">"
                         r"([^<]*)</span>", html)
        assert line, name
        assert problem in line.group(1).replace("&#39;", "'"), name
    assert "missing env mxnet: no mxnet.json" in err
    assert "<strong>truncated</strong>: truncated.json could not be read" in html
    assert "<strong>mxnet</strong>: no mxnet.json" in html
    page = Page(html)
    assert {a.get("title") for a in page.find("th", class_="library first")} == {"torch", "optax"}


def test_no_readable_file_exits_non_zero_and_still_writes_the_report(tmp_path, capsys):
    results = tmp_path / "results"
    results.mkdir()
    (results / "torch.json").write_text("{")
    out = tmp_path / "index.html"
    assert cli.main(["--results", str(results), "--out", str(out)]) == 1
    assert "no results file could be read" in capsys.readouterr().err
    assert "No results file could be read" in out.read_text()
    assert cli.main(["--results", str(tmp_path / "nowhere"), "--out", str(out)]) == 1
    assert "the results folder does not exist" in out.read_text()


def test_expected_envs_come_from_the_environment(tmp_path, monkeypatch, capsys):
    results = tmp_path / "results"
    synthetic_results.write(results, ["jax"])
    journal = results / ".journal-torch"
    journal.mkdir()
    (journal / "gw0.jsonl").write_text('{"kind": "finding"}\n{"kind": "finding"}\n')
    monkeypatch.setenv("XENT_EXPECTED_ENVS", "jax, torch ,tensorflow")
    assert cli.main(["--results", str(results), "--out", str(tmp_path / "index.html")]) == 0
    err = capsys.readouterr().err
    assert "missing env torch: no torch.json, but a journal with 2 records: the run died" in err
    assert "missing env tensorflow: no tensorflow.json: the env did not run" in err
    assert "missing env jax" not in err


# --- only this library differs ------------------------------------------------------------------

def test_only_this_library_differs(report):
    lone = {(env, backend): {(c.case, c.dtype) for c in cases}
            for (env, backend), cases in report.model.lone}
    # torch alone crashes on all-infinite logits and raises on NaN probabilities
    assert ("edge_cases/all_logits_inf", "float32") in lone[("torch", "torch")]
    assert ("edge_cases/nan_input", "float64") in lone[("torch", "torch")]
    assert ("edge_cases/inf_logit", "float32") in lone[("tensorflow", "tensorflow")]
    # log(0): torch, keras and the textbook formula all differ, so it is nobody's alone
    assert not any(case == "edge_cases/log0_certain_wrong" for cases in lone.values()
                   for case, _ in cases)
    # one API's hypothesis draws are nobody else's cases: never "only this library"
    assert not any("/draw-" in case for cases in lone.values() for case, _ in cases)
    assert "#findings?env=torch&amp;backend=torch&amp;lone=1" in report.html


# --- diff of two runs ---------------------------------------------------------------------------

def test_diff_finds_new_fixed_and_changed(tmp_path, results_dir):
    current = tmp_path / "current"
    current.mkdir()
    for env in ("torch", "jax"):
        document = json.loads((results_dir / f"{env}.json").read_text())
        if env == "torch":
            differing = [f for f in document["findings"] if f["outcome"] != "match"]
            fixed = differing[0]
            document["findings"].remove(fixed)
            changed = differing[1]
            changed["outcome"] = "nonfinite"
            changed["observed"] = "nan"
            new = copy.deepcopy(differing[2])
            new["id"] = "0123456789abcdef"
            document["findings"].append(new)
            document["environment"]["libraries"]["torch"] = "2.14.0"
        (current / f"{env}.json").write_text(json.dumps(document))
    baseline = load_results(results_dir)
    changes = diff(load_results(current), baseline)
    assert [c.after.id for c in changes.new] == ["0123456789abcdef"]
    assert [c.before.id for c in changes.fixed] == [fixed["id"]]
    assert [c.after.id for c in changes.changed] == [changed["id"]]
    assert changes.changed[0].what[0].endswith("-> nonfinite")
    assert ("torch", "torch", "2.13.0", "2.14.0") in changes.versions
    assert set(changes.only_baseline) == set(ENVS) - {"torch", "jax"}

    report = build(current, baseline_dir=results_dir)
    assert "<strong>1</strong> appeared, <strong>1</strong> disappeared, <strong>1</strong> " \
           "changed" in report.html
    assert f'href="#finding=torch/{new["id"]}"' in report.html
    facts = Page(report.html).blob(id="report-facts")
    assert facts["diff"]["torch"] == {new["id"]: "new", changed["id"]: "changed"}


# --- small helpers ------------------------------------------------------------------------------

def test_numbers_and_links_for_people():
    assert [fmt(v) for v in (0, 0.5, 12.345, 3.1e5, 1e-5, "inf", "nan", None)] == [
        "0", "0.5", "12.3", "3.10e+05", "1.00e-05", "inf", "nan", "-"]
    assert safe_url(" https://pytorch.org/docs ") == "https://pytorch.org/docs"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("torch/nn/functional.py line 3") is None


def test_inconsistent_paths_are_listed_with_both_sides(report):
    """Every equivalence finding is in the list of its own, each row with both APIs, what
    each returned and what the oracle says, and a link to the script running both calls."""
    listed = summary.inconsistent_paths(report.results)
    expected = [f for run in report.results.runs.values() for f in run.findings
                if f.category == "equivalence" and f.outcome != "match"]
    assert expected, "the synthetic results hold equivalence findings"
    assert sum(len(item.findings) for item in listed) == len(expected)
    section = report.html.split('id="inconsistent-paths"', 1)[1].split("</table>", 1)[0]
    for item in listed:
        env, worst = item.worst
        assert f'href="#finding={env}/{worst.id}"' in section
        for path in worst.paths:
            assert f"<code>{path['api']}</code>:" in section


def test_model_of_no_results_is_empty(tmp_path):
    model = build_model(load_results(tmp_path))
    assert model.envs == []
    assert model.lone == []


# --- the first screen: per library, by kind ------------------------------------------------------

def test_summary_counts_each_library_by_kind(report, results_dir):
    libraries = {lib.backend: lib for lib in summary.libraries(report.results, report.model)}
    assert set(libraries) >= {"torch", "keras", "optax", "tensorflow", "numpy", "scipy"}
    # recount keras from the files: the kind of the registry entry, equivalence apart
    expected = dict.fromkeys(summary.GROUPS, 0)
    for env in ENVS:
        document = json.loads((results_dir / f"{env}.json").read_text())
        for f in document["findings"]:
            if f["backend"] != "keras" or f["outcome"] == "match":
                continue
            if f["category"] == "equivalence":
                group = "inconsistent-paths"
            elif f["deviation"]:
                group = document["deviations"][f["deviation"]]["kind"]
            else:
                group = "unsupported" if f["outcome"] == "unsupported" else "unexplained"
            expected[group] += 1
    assert libraries["keras"].counts == expected
    assert libraries["keras"].envs == ["keras-jax", "tensorflow"]
    assert libraries["optax"].counts["bug"] > 0
    # torch alone crashes on all-infinite logits: counted as "only this library"
    assert libraries["torch"].alone == sum(len(c) for (e, b), c in report.model.lone
                                           if b == "torch")
    # the page: a row per library, each count a link to those findings
    row = re.search(r'<tr data-library="optax">.*?</tr>', report.html, re.S).group(0)
    n = libraries["optax"].counts["bug"]
    assert f'<a href="#findings?backend=optax&amp;group=bug">{n}</a>' in row


def test_the_bugs_not_reported_upstream_come_first_with_their_issue_text(report):
    """Per library, the bugs whose entry found no upstream report: counted in the summary,
    listed on the first screen, each a click from its issue text; the registry says where
    each entry stands upstream."""
    libraries = {lib.backend: lib for lib in summary.libraries(report.results, report.model)}
    unreported = {lib: [issue.deviation for issue in found.unreported]
                  for lib, found in libraries.items() if found.unreported}
    assert unreported == {"optax": ["optax-integer-labels-out-of-range"]}  # torch's: reported
    row = re.search(r'<tr data-library="optax">.*?</tr>', report.html, re.S).group(0)
    assert row.endswith('<td class="num has g-bug" title="optax\'s bugs by upstream status: '
                        'none found 1"><a href="#unreported">1</a></td>\n    </tr>')
    assert libraries["optax"].bugs_upstream == {"none found": 1}
    listed = report.html.split('<p class="unreported"', 1)[1].split("</p>", 1)[0]
    env, worst = libraries["optax"].unreported[0].worst
    assert f'<a class="issue-link" href="#issue={env}/{worst.id}">issue text</a>' in listed
    assert "torch" not in listed
    section = report.html.split('<section id="registry">', 1)[1]
    assert ('upstream: <b>none found</b> (2026-12-07)' in section)
    assert ('upstream: <b>reported</b> (2026-12-07) <a class="registry-link" '
            'href="https://github.com/pytorch/pytorch/issues/00000"') in section


def test_issues_rank_unexplained_and_bugs_first_then_the_largest_error(report):
    for lib in summary.libraries(report.results, report.model):
        ranks = [issue.rank() for issue in lib.issues]
        assert ranks == sorted(ranks)
        groups = [list(summary.GROUPS).index(issue.group) for issue in lib.issues]
        assert groups == sorted(groups)
    torch = next(lib for lib in summary.libraries(report.results, report.model)
                 if lib.backend == "torch")
    first = torch.top[0]
    assert first.group == "unexplained"  # torch's unregistered findings fail the run
    env, worst = first.worst
    assert summary.severity(worst) == max(summary.severity(f) for _, f in first.findings)
    assert f'href="#finding={env}/{worst.id}"' in report.html  # its reproducer, one click


def test_registry_lists_each_entry_once_by_library(report):
    by_library = {lib.library: lib for lib in registry.by_library(report.results,
                                                                   report.model.facts)}
    keras = {e.ident: e for e in by_library["keras"].entries}
    assert keras["keras-clip-epsilon"].envs == ["keras-jax", "tensorflow"]
    assert "torch-bce-log-clamp" in {e.ident for e in by_library["torch"].entries}
    assert any(e.stale for lib in by_library.values() for e in lib.entries)
    # collapsed: a closed <details> per library
    details = Page(report.html).find("details", class_="registry-library")
    assert [d["data-library"] for d in details] == sorted(by_library)
    assert not any("open" in d for d in details)


def test_diff_as_text(tmp_path, results_dir):
    current = tmp_path / "current"
    current.mkdir()
    document = json.loads((results_dir / "jax.json").read_text())
    gone = next(f for f in document["findings"] if f["outcome"] != "match")
    document["findings"].remove(gone)
    (current / "jax.json").write_text(json.dumps(document))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["--results", str(current), "--baseline", str(results_dir),
                         "--out", str(tmp_path / "index.html")]) == 0
    printed = out.getvalue()
    assert f"changes from {results_dir} to {current}: 0 appeared, 1 disappeared, 0 changed" \
        in printed
    assert "optax: 0 appeared, 1 disappeared, 0 changed" in printed
    assert re.search(rf"Disappeared \(1\):\n  jax +{re.escape(gone['api'])} .*\[{gone['id']}\]",
                     printed)
    assert "only in the baseline (not compared): " in printed


def test_a_reproducer_of_unexpected_form_keeps_its_literal():
    source = "import torch\nx = torch.tensor(load())\nprint(x)\n"
    assert payload.reproducer(source, ["x"], Path("torch.json"), "0" * 16) == source

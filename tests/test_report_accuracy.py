"""The report's accuracy section (reports/accuracy.py): per loss, each binding's worst error in
ulps by method, dtype, check and target; the derivatives' componentwise error beside the
normwise verdict; the exhaustive sweeps' error against the input; the changes against a
baseline. Rendered from synthetic results (``reports.synthetic``)."""

from __future__ import annotations

import base64
import gzip
import json
import re
from pathlib import Path

import pytest

from reports import plots
from reports import synthetic as synthetic_results
from reports.accuracy import build_accuracy
from reports.build import build
from reports.diff import diff, text
from reports.load import load_results, schema_problems
from reports.model import build_model

ENVS = ("numpy", "torch", "jax")


@pytest.fixture(autouse=True)
def no_figures(monkeypatch, request):
    """Figures cost seconds; the accuracy figure is checked on its own."""
    monkeypatch.setattr(plots, "stability_figure", lambda *a: None)
    monkeypatch.setattr(plots, "histogram_figure", lambda *a: None)
    monkeypatch.setattr(plots, "gradient_figure", lambda *a: None)
    if not request.node.name.startswith("test_figure"):
        monkeypatch.setattr(plots, "accuracy_figure", lambda *a: None)


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("results")
    synthetic_results.write(directory, ENVS)
    return directory


@pytest.fixture(scope="module")
def documents(results_dir) -> dict[str, dict]:
    return {env: json.loads((results_dir / f"{env}.json").read_text()) for env in ENVS}


@pytest.fixture
def report(results_dir):
    return build(results_dir)


def section(html: str) -> str:
    start = html.index('<section id="accuracy">')
    return html[start:html.index("</section>", start)]


def cell(html: str, loss: str, index: int) -> str:
    """The ``<td>`` of the record with page index ``index`` in the loss's table."""
    table = html.split(f'<table class="accuracy" data-loss="{loss}">', 1)[1].split("</table>")[0]
    match = re.search(rf'<td [^>]*data-acc="{index}"[^>]*>.*?</td>', table, re.S)
    assert match, index
    return match.group(0)


def embedded(html: str) -> list[dict]:
    blob = re.search(r'<script type="application/octet-stream" id="accuracy-data">([^<]*)<',
                     html).group(1)
    return json.loads(gzip.decompress(base64.b64decode(blob.strip())))["records"]


def test_synthetic_accuracy_records_are_valid_and_cover_every_kind(documents):
    for env, document in documents.items():
        assert schema_problems(document) == [], env
    records = [r for d in documents.values() for r in d["accuracy"]]
    assert {r["method"] for r in records} == {"exhaustive", "searched"}
    assert {r["outcome"] for r in records} >= {"measured", "unsupported", "harness-error"}
    assert any(r.get("zero_count") for r in records)
    assert any(r.get("nonfinite_count") for r in records)
    assert any(r.get("worst_ulp") == "inf" for r in records)
    exhaustive = [r for r in records if r["method"] == "exhaustive" and r["outcome"] == "measured"]
    # the profile's worst band is the record's worst
    for r in exhaustive:
        worst = max(float(b[2]) for b in r["profile"])
        assert worst == float(r["worst_ulp"]), (r["api"], r["dtype"])
        assert len(r["profile"]) == synthetic_results.PROFILE_BANDS
    summary = [row for d in documents.values() for row in d["summary"]]
    assert any(row.get("componentwise", {}).get("zero") for row in summary)


def test_each_loss_has_a_table_of_its_bindings(report, documents):
    html = section(report.html)
    losses = {r["loss"] for d in documents.values() for r in d["accuracy"]}
    for loss in losses:
        assert f'<table class="accuracy" data-loss="{loss}">' in html, loss
    table = html.split('<table class="accuracy" data-loss="binary_cross_entropy_with_logits">',
                       1)[1].split("</table>")[0]
    # the bindings side by side, grouped by backend (numpy's scipy, torch, optax)
    groups = re.findall(r'<th class="backend-group first" colspan="(\d+)">([^<]+)</th>', table)
    assert [name for _, name in groups] == ["scipy", "torch", "optax"]  # the overview's order
    assert [int(n) for n, _ in groups] == [1, 2, 1]
    assert 'title="torch.nn.BCEWithLogitsLoss (torch in env torch)"' in table
    assert "<span>sigmoid_binary_cross_entropy</span>" in table
    # rows: exhaustive before searched, dtypes in order, value before gradient
    methods = re.findall(r'<th class="rk method">(\w*)</th>', table)
    assert [m for m in methods if m] == ["exhaustive", "searched"]


def test_cells_show_the_worst_ulp_exact_or_as_a_lower_bound(report, documents):
    accuracy = report.accuracy
    assert accuracy.records == sum(len(d["accuracy"]) for d in documents.values())
    by_key = {(m.env, m.record["api"], m.record["dtype"], m.record["check"], m.record["target"]): m
              for m in accuracy.measures}
    exact = by_key[("torch", "torch.nn.functional.binary_cross_entropy", "float16", "value", "1")]
    assert exact.record["method"] == "exhaustive"
    td = cell(report.html, "binary_cross_entropy", exact.index)
    worst = exact.record["worst_ulp"]
    assert re.search(rf">{re.escape(f'{worst:.3g}')}</td>", td), td
    assert "exhaustive" in td
    assert "≥" not in td
    lower = by_key[("torch", "torch.nn.functional.binary_cross_entropy", "float32", "value", "1")]
    td = cell(report.html, "binary_cross_entropy", lower.index)
    assert f">≥{lower.record['worst_ulp']:.3g}</td>" in td
    assert "a lower bound" in td
    # not finite: "inf", coloured as the worst
    inf = next(m for m in accuracy.measures if m.record.get("worst_ulp") == "inf")
    td = cell(report.html, inf.record["loss"], inf.index)
    assert "inf" in td
    assert "a4" in td


def test_zero_sign_and_nonfinite_counts_are_marked(report):
    zero = next(m for m in report.accuracy.measures if m.record.get("zero_count"))
    td = cell(report.html, zero.record["loss"], zero.index)
    assert '<i class="mk z">0</i>' in td
    assert f"{zero.record['zero_count']} returned 0 where the exact result is not" in td
    nonfinite = next(m for m in report.accuracy.measures if m.record.get("nonfinite_count"))
    td = cell(report.html, nonfinite.record["loss"], nonfinite.index)
    assert '<i class="mk n">∞</i>' in td
    clean = next(m for m in report.accuracy.measures
                 if m.measured and not m.marks and m.record["loss"] == "cross_entropy")
    assert '<i class="mk' not in cell(report.html, "cross_entropy", clean.index)


def test_a_cell_that_is_not_measured_says_why(report):
    harness = next(m for m in report.accuracy.measures if m.outcome == "harness-error")
    td = cell(report.html, harness.record["loss"], harness.index)
    assert "acc-missing" in td
    assert "o-harness-error" in td
    assert "harness-error: the binding&#39;s expression names " \
           "optax.softmax_cross_entropy_with_integer_label" in td
    unsupported = next(m for m in report.accuracy.measures if m.outcome == "unsupported"
                       and m.record["dtype"] == "bfloat16")
    td = cell(report.html, unsupported.record["loss"], unsupported.index)
    assert ">n/a</td>" in td
    assert "NumPy has no bfloat16 dtype" in td


def test_the_detail_of_each_cell_travels_with_the_page(report, documents):
    records = embedded(report.html)
    assert len(records) == report.accuracy.records
    for m in report.accuracy.measures:
        shown = records[m.index]
        assert shown["env"] == m.env
        assert {k: v for k, v in shown.items() if k != "env"} == {
            k: v for k, v in m.record.items() if k != "profile"}
    zero = next(r for r in records if r.get("zero"))
    assert zero["zero"]["observed"] == 0.0
    assert zero["reproducer"]
    assert all("profile" not in r for r in records)  # the figure has the profiles
    # every measured cell opens its record: its index is in the blob
    indices = {int(i) for i in re.findall(r'data-acc="(\d+)"', section(report.html))}
    assert indices == set(range(len(records)))


def test_reasons_from_a_library_are_escaped(tmp_path, documents):
    document = json.loads(json.dumps(documents["jax"]))
    record = next(r for r in document["accuracy"] if r["outcome"] != "measured")
    record["reason"] = "no kernel <script>alert(1)</script> & more"
    (tmp_path / "jax.json").write_text(json.dumps(document))
    html = build(tmp_path).html
    assert "<script>alert(1)" not in html
    assert "no kernel &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_componentwise_beside_normwise(report, documents):
    html = section(report.html)
    table = html.split('<table class="list componentwise" data-loss='
                       '"binary_cross_entropy_with_logits">', 1)[1].split("</table>")[0]
    row = next(r for r in documents["torch"]["summary"]
               if r["api"] == "torch.nn.functional.binary_cross_entropy_with_logits"
               and r["category"] == "gradients" and r["dtype"] == "float16")
    cw = row["componentwise"]
    line = next(tr for tr in table.split("<tr>") if
                "<code>torch.nn.functional.binary_cross_entropy_with_logits</code>" in tr
                and "<td>gradients</td>" in tr)
    # per dtype: the normwise ratio, then the componentwise ulp with its zero count
    from reports.build import fmt
    assert f">{fmt(row['worst_bound_ratio'])}</td>" in line
    assert re.search(rf">{re.escape(fmt(cw['worst_ulp']))}[ <]", line), line
    if cw["zero"]:
        assert f"0&times;{cw['zero']}</i>" in line
    if cw["case"]:
        assert f'href="#finding=torch/{cw["case"]}"' in line
    # rows without a componentwise error (values) are not listed
    assert "<td>values</td>" not in html


def test_a_dtype_whose_row_has_no_componentwise_error_shows_a_dash(tmp_path, documents):
    # the main job's results: a binding's float16 gradient row has one, its bfloat16 row none
    # (every case there raised); the row is listed for the first and must render the second
    document = json.loads(json.dumps(documents["torch"]))
    rows = [r for r in document["summary"] if r.get("componentwise")]
    kept = rows[0]
    for row in document["summary"]:
        if (row["api"], row["category"]) == (kept["api"], kept["category"]) and row is not kept:
            row.pop("componentwise", None)
    (tmp_path / "torch.json").write_text(json.dumps(document))
    html = section(build(tmp_path).html)
    line = next(tr for tr in html.split("<tr>") if f"<code>{kept['api']}</code>" in tr
                and f"<td>{kept['category']}</td>" in tr)
    assert '<td class="num cw">-</td>' in line


def test_an_old_results_file_without_accuracy_still_renders(tmp_path, documents):
    document = json.loads(json.dumps(documents["torch"]))
    del document["accuracy"]
    for row in document["summary"]:
        row.pop("componentwise", None)
    for f in document["findings"]:
        if f.get("error"):
            f["error"].pop("componentwise", None)
    assert schema_problems(document) == []
    (tmp_path / "torch.json").write_text(json.dumps(document))
    report = build(tmp_path)
    html = section(report.html)
    assert "No accuracy measurements in these results" in html
    assert 'id="accuracy-data"' not in report.html
    assert report.accuracy.records == 0
    assert 'href="#accuracy"' in report.html  # the section is still there, saying so


def test_baseline_lists_the_changed_worst_cases(tmp_path, results_dir, documents):
    current = tmp_path / "current"
    current.mkdir()
    document = json.loads(json.dumps(documents["torch"]))
    records = document["accuracy"]
    worse = next(r for r in records if r["method"] == "exhaustive"
                 and isinstance(r["worst_ulp"], float))
    old_worst = worse["worst_ulp"]
    worse["worst_ulp"] = old_worst * 100
    better = next(r for r in records if r["method"] == "searched"
                  and isinstance(r["worst_ulp"], float) and r["worst_ulp"] > 0.5)
    better["worst_ulp"] = 0.5
    removed = records.pop(-1)
    tiny = next(r for r in records if r is not worse and r is not better
                and isinstance(r["worst_ulp"], float))
    tiny["worst_ulp"] *= 1 + 1e-9  # printing noise: no change
    (current / "torch.json").write_text(json.dumps(document))
    (current / "jax.json").write_text(json.dumps(documents["jax"]))

    changes = diff(load_results(current), load_results(results_dir)).accuracy
    kinds = [(c.kind, c.key[0], c.key[2], c.key[3], c.key[4], c.key[5]) for c in changes]
    assert kinds == [
        ("worse", worse["api"], worse["dtype"], worse["check"], worse["target"], "exhaustive"),
        ("removed", removed["api"], removed["dtype"], removed["check"], removed["target"],
         removed["method"]),
        ("better", better["api"], better["dtype"], better["check"], better["target"],
         "searched")]
    assert changes[0].what == f"{old_worst:.4g} ulp -> {old_worst * 100:.4g} ulp"
    assert changes[2].what.endswith("-> ≥0.5 ulp")

    report = build(current, baseline_dir=results_dir)
    page = report.html.split('<section id="diff">', 1)[1].split("</section>")[0]
    assert "Accuracy: worst errors that changed (3)" in page
    assert f"{old_worst:.4g} ulp -&gt; {old_worst * 100:.4g} ulp" in page
    assert '<span class="badge change-worse">worse</span>' in page
    printed = text(report.diff, current)
    assert f"{worse['api']}  {worse['dtype']} {worse['check']} target {worse['target']} " \
           f"exhaustive  {old_worst:.4g} ulp -> {old_worst * 100:.4g} ulp  (worse)" in printed


def test_figure_of_error_against_the_input(results_dir):
    results = load_results(results_dir)
    profiles = plots.accuracy_profiles(results.runs)
    # exhaustive element-wise sweeps only, targets 1 and 0 (not 0.5), bounded
    assert profiles
    assert len(profiles) <= plots.ACCURACY_ROWS
    assert {key[2] for key in profiles} == {"1", "0"}
    assert {key[0] for key in profiles} == {"binary_cross_entropy",
                                            "binary_cross_entropy_with_logits"}
    assert {d for key in profiles for d in profiles[key]} == {"float16", "bfloat16"}
    lines = profiles[("binary_cross_entropy_with_logits", "value", "0")]["float16"]
    assert "optax.sigmoid_binary_cross_entropy (jax)" in lines
    report = build(results_dir)
    image = re.search(r'<figure class="accuracy-plot"><img src="(data:image/png;base64,[^"]+)"',
                      report.html)
    assert image
    assert len(image.group(1)) < 400_000


def test_the_model_without_results_is_empty(tmp_path):
    results = load_results(tmp_path)
    accuracy = build_accuracy(results, build_model(results))
    assert accuracy.tables == []
    assert accuracy.records == 0


# --- in a browser (Chromium, as test_report_browser.py drives it) --------------------------------

@pytest.fixture(scope="module")
def browser_page(tmp_path_factory, results_dir):
    from test_report_browser import Chromium, find_browser

    binary = find_browser()
    if binary is None:
        pytest.skip("no Chromium to test the report in (see test_report_browser.py)")
    chromium = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        for domain in ("Page", "Runtime", "Log"):
            chromium.call(f"{domain}.enable")
        out = tmp_path_factory.mktemp("browser-report") / "index.html"
        out.write_text(build(results_dir).html, encoding="utf-8")
        chromium.call("Page.navigate", {"url": out.as_uri()})
        chromium.wait_event("Page.loadEventFired")
        chromium.evaluate("window.xentReport.ready")
        yield chromium
    finally:
        chromium.close()


def test_a_click_on_a_cell_shows_its_worst_input_and_reproducer(browser_page):
    page = browser_page
    assert page.errors() == []
    assert page.evaluate("document.getElementById('accuracy-body').open") is False
    index = page.evaluate("(() => { const c = document.querySelector('td.acc[data-acc] i.mk.z');"
                          " return c.closest('td').getAttribute('data-acc'); })()")
    page.evaluate(f"window.xentReport.showAccuracy(document.querySelector("
                  f"'td.acc[data-acc=\"{index}\"]'))")
    panel = "document.querySelector('td.acc.open').closest('.acc-loss')" \
            ".querySelector('.acc-detail')"
    text = page.wait_for(f"(() => {{ const p = {panel}; return !p.hidden && p.textContent; }})()")
    assert "Worst element" in text
    assert "Returned 0 (the largest exact value of" in text
    assert "Reproducer (the worst element alone)" in text
    assert page.evaluate(f"{panel}.querySelector('pre.reproducer-source').textContent"
                         ".includes('import torch')")
    assert page.evaluate("document.getElementById('accuracy-body').open") is True
    # a cell that was not measured: why, and no reproducer
    page.click("td.acc.acc-missing.o-harness-error")
    text = page.wait_for("(() => { const c = document.querySelector('td.acc.open');"
                         " return c.classList.contains('o-harness-error') &&"
                         " c.closest('.acc-loss').querySelector('.acc-detail').textContent; })()")
    assert "optax.softmax_cross_entropy_with_integer_label, which does not exist" in text
    assert "Reproducer" not in text
    assert page.errors() == []


def test_the_tables_scroll_inside_their_box_at_1280_px(browser_page):
    page = browser_page
    page.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000,
                                                      "deviceScaleFactor": 1, "mobile": False})
    try:
        page.evaluate("document.getElementById('accuracy-body').open = true")
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
        boxes = page.evaluate("Array.from(document.querySelectorAll('#accuracy .acc-scroll'))"
                              ".map(b => b.getBoundingClientRect().right)")
        assert boxes
        assert max(boxes) <= 1280
    finally:
        page.call("Emulation.clearDeviceMetricsOverride")

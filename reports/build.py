"""Render the report: results folder (and optionally a baseline folder) -> one HTML file.

The page is self-contained: the CSS and JavaScript of ``static/`` are inlined, the stability
figures are inline SVG or PNG data URIs, and what the page's script reads of the results files
(their environments, and their findings column by column, big arrays summarised: ``payload``)
travels gzip-compressed and base64-encoded, for the script to unpack (DecompressionStream) and
list a page of findings at a time, so 50 000 findings make neither a huge file nor 50 000 DOM
nodes. Everything a library wrote
(messages, names, reasons) is escaped: Jinja2 autoescapes the server-rendered parts, and the
script writes data with ``textContent`` only. Registry links become anchors only when they
are http(s) URLs.
"""

from __future__ import annotations

import base64
import gc
import gzip
import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import numpy as np

from reports import notices, plots, registry, summary
from reports.accuracy import Accuracy, build_accuracy
from reports.diff import Diff, diff
from reports.load import Results, load_results, number
from reports.model import SEVERITY, Model, build_model, categories
from reports.overview import Overview, build_overview
from reports.payload import page_data

PACKAGE = Path(__file__).parent
#: rows shown per group in the server-rendered tables; the findings list has them all
LONE_ROWS, DIFF_ROWS = 20, 200
#: inconsistent paths shown before the reader opens the rest (the unexplained and most frequent
#: come first)
INCONSISTENT_ROWS = 6


@dataclass
class Report:
    """What ``build`` made: the page and the facts a caller reports about it."""

    html: str
    results: Results
    model: Model
    overview: Overview
    diff: Diff | None
    seconds: float
    accuracy: Accuracy | None = None

    @property
    def readable(self) -> bool:
        return bool(self.results.runs)


def fmt(value, digits: int = 3) -> str:
    """A number for people: 0.5, 12.3, 3.1e+05; "nan", "inf" as they are."""
    if value is None:
        return "-"
    x = number(value)
    if math.isnan(x) or math.isinf(x):
        return str(value) if isinstance(value, str) else ("nan" if math.isnan(x) else
                                                          ("inf" if x > 0 else "-inf"))
    if x == 0:
        return "0"
    if abs(x) >= 1e4 or abs(x) < 1e-3:
        return f"{x:.{digits - 1}e}"
    return f"{x:.{digits}g}"


def short(value, items: int = 4) -> str:
    """A result for a table cell: a number, a few elements of an array, or an error's type."""
    if isinstance(value, dict):
        return str(value.get("error", value))
    if isinstance(value, str):
        return value
    flat = np.ravel(np.asarray(value, dtype=object))
    text = ", ".join(fmt(v) for v in flat[:items])
    if np.ndim(value) == 0:
        return text
    return f"[{text}{', ...' if flat.size > items else ''}]"


def safe_url(link: str) -> str | None:
    """``link`` if it is an http(s) URL (a registry link to docs or source), else None."""
    text = link.strip()
    return text if text.lower().startswith(("https://", "http://")) and " " not in text else None


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(PACKAGE / "templates"),
        autoescape=True,  # every string from a library is escaped
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # tojson keeps the order of the results (an entry's claim reads as the registry wrote it)
    env.policies["json.dumps_kwargs"] = {"sort_keys": False}
    env.filters["fmt"] = fmt
    env.filters["short"] = short
    env.globals["safe_url"] = safe_url
    return env


def pack(data: bytes) -> str:
    """gzip, then base64: how the page carries JSON (its script unpacks it with
    DecompressionStream). Runs in a thread: zlib releases the GIL while it compresses. (Level
    9 makes the main job's page 2% smaller, and the build of 50 000 findings a second
    slower.)"""
    return base64.b64encode(gzip.compress(data, compresslevel=6, mtime=0)).decode("ascii")


def page_facts(model: Model, marks: dict, overview: Overview) -> bytes:
    """What the page's script needs beyond the results files: the findings of the "only this
    library differs" view and the diff marks, by env and finding id; the overview's rows,
    columns and each cell's API x dtype breakdown."""
    lone: dict[str, list[str]] = {}
    for env, ident in sorted(model.lone_ids):
        lone.setdefault(env, []).append(ident)
    diff_marks: dict[str, dict[str, str]] = {}
    for (env, ident), mark in marks.items():
        diff_marks.setdefault(env, {})[ident] = mark
    facts = {"lone": lone, "diff": diff_marks, "severity": SEVERITY,
             "categories": categories(), "overview": overview.page_facts()}
    return json.dumps(facts, separators=(",", ":")).encode("utf-8")


def header(results: Results) -> dict:
    """When, which profiles and seeds: one value when every run agrees, else each."""
    envs = [run.environment for run in results.runs.values()]
    finished = [e["finished"] for e in envs if e["finished"]]
    return {
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
        "started": min((e["started"] for e in envs), default=None),
        "finished": max(finished, default=None),
        "profiles": sorted({e["hypothesis_profile"] for e in envs}),
        "seeds": sorted({str(e["seed"]) for e in envs}),
    }


@contextmanager
def collector_paused():
    """The cyclic garbage collector off for the build, as it was after. The results of 50 000
    findings are millions of lists and dicts, which hold no reference cycles, and each full
    collection, which the allocations of reading them trigger again and again, walks them all:
    a quarter of the CPU time of ``python -m reports`` at 50 000 findings (1.9 of 7.4 s), for
    nothing it can free. What the build drops is freed by reference counting; the few cycles
    it makes (figures, templates) wait for the next collection after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build(results_dir: Path, *, baseline_dir: Path | None = None,
          expected: tuple[str, ...] = ()) -> Report:
    with collector_paused():
        return _build(results_dir, baseline_dir, expected)


def _build(results_dir: Path, baseline_dir: Path | None, expected: tuple[str, ...]) -> Report:
    start = time.perf_counter()
    results = load_results(results_dir, expected)
    with ThreadPoolExecutor(max_workers=2) as pool:  # compress while the figures are drawn
        packed = pool.submit(lambda: pack(page_data(results.runs)))
        baseline = load_results(baseline_dir) if baseline_dir is not None else None
        model = build_model(results)
        overview = build_overview(results, model)
        accuracy = build_accuracy(results, model)
        accuracy_data = pool.submit(lambda: pack(accuracy.page_data())) \
            if accuracy.measures else None
        changes = diff(results, baseline) if baseline is not None else None
        libraries = summary.libraries(results, model)
        inconsistent = summary.inconsistent_paths(results)
        figures = {
            "stability": plots.stability_figure(results.runs, model.facts),
            "histogram": plots.histogram_figure(results.runs),
            "gradients": plots.gradient_figure(results.runs),
            "accuracy": plots.accuracy_figure(results.runs),
        }
        facts = pack(page_facts(model, changes.status() if changes else {}, overview))
        findings = packed.result()
    template = environment().get_template("index.html.j2")
    html = template.render(
        results=results,
        model=model,
        overview=overview,
        accuracy=accuracy,
        accuracy_data=accuracy_data.result() if accuracy_data else "",
        header=header(results),
        libraries=libraries,
        inconsistent=inconsistent,
        harness=notices.harness_failures(results),
        run_warnings=notices.warnings(results),
        groups=summary.GROUPS,
        registry=registry.by_library(results, model.facts),
        severity_of=summary.severity,
        categories=categories(),
        severity=SEVERITY,
        figures=figures,
        diff=changes,
        lone_rows=LONE_ROWS,
        inconsistent_rows_shown=INCONSISTENT_ROWS,
        diff_rows=DIFF_ROWS,
        findings=findings,
        facts=facts,
        css=(PACKAGE / "static" / "report.css").read_text(encoding="utf-8"),
        js=(PACKAGE / "static" / "report.js").read_text(encoding="utf-8"),
    )
    return Report(html, results, model, overview, changes, time.perf_counter() - start,
                  accuracy)


def write(report: Report, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(report.html, encoding="utf-8")
    tmp.replace(out)

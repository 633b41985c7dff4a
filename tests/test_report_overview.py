"""The overview of losses by library (``reports/overview.py``): a row per loss and check, a column
per library, each cell's counts those of the records it stands for. Rendered from synthetic
results; the real-browser checks (counts against the findings list, a click to a reproducer,
nothing wider than 1280 px) are in test_report_browser.py."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import pytest
from test_report import ENVS, Page, no_figures  # noqa: F401 (an autouse fixture: no figures)

from adapters import ADAPTERS, adapter_class
from adapters.keras.adapter import KerasAdapter
from reference.specs import LOSS_SPECS
from reports import synthetic as synthetic_results
from reports.build import build
from reports.model import worst
from reports.overview import LIBRARIES, LOSS_ROWS, Tally, library_of, mode_of, row_of


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """The report of synthetic results of ENVS (its results folder: ``results.directory``)."""
    directory = tmp_path_factory.mktemp("overview-results")
    synthetic_results.write(directory, ENVS)
    return build(directory)


def records(report) -> list[tuple[str, dict]]:
    """(env, finding) of every results file, as written."""
    return [(env, f) for env in ENVS for f in json.loads(
        (Path(report.results.directory) / f"{env}.json").read_text())["findings"]]


def cell_href(row: str, category: str, library: str, unit: str | None = None) -> str:
    """The href of an overview cell as the page writes it (Jinja's urlencode, then escaped)."""
    href = f"#overview?row={quote(row, safe='/')}&category={category}" \
           f"&library={quote(library, safe='/')}"
    if unit:
        href += f"&unit={quote(unit, safe='/')}"
    return html.escape(href)


def overview_cell(page_html: str, row: str, category: str, library: str,
                  unit: str | None = None) -> tuple[str, str, str]:
    """(the cell's class, its link's title, its text)."""
    found = re.search(r'<td class="cell ([^"]*)"(?: colspan="\d+")? data-listed="\d+"><a href="'
                      + re.escape(cell_href(row, category, library, unit))
                      + r'" title="([^"]*)">(.*?)</a></td>', page_html, re.S)
    assert found, (row, category, library, unit)
    return found.group(1), found.group(2), found.group(3)


# --- what the report assumes of the producers, held to them -------------------------------------

def test_every_oracle_loss_has_the_row_of_its_family_and_input():
    assert set(LOSS_ROWS) == set(LOSS_SPECS)
    for name, spec in LOSS_SPECS.items():
        row = LOSS_ROWS[name]
        assert row.startswith("binary ") == (spec.family == "binary"), name
        assert row.endswith(" on logits") == (spec.input_kind == "logits"), name


def test_a_compiled_twin_is_told_by_its_name():
    """The results name an API, not its mode: every binding's mode follows from its name."""
    adapters = [adapter_class(path)() for name, path in ADAPTERS.items() if name != "keras"]
    adapters += [KerasAdapter(backend) for backend in ("tensorflow", "jax", "torch", "numpy")]
    bindings = [b for adapter in adapters for b in adapter.bindings]
    assert any(b.mode != "eager" for b in bindings)
    for b in bindings:
        assert mode_of(b.api) == b.mode, b.api


# --- the matrix --------------------------------------------------------------------------------

def test_a_column_per_library_and_a_row_per_loss_and_check(report):
    page = Page(report.html)
    libraries = [a.get("title") for a in page.find("th", class_="library first")]
    backends = {f["backend"] for _, f in records(report)}
    columns = [c.library for c in report.overview.columns]
    assert len(libraries) == len(columns) == len(set(columns))
    assert set(columns) == {library_of(b) for b in backends}
    assert columns.index("PyTorch") < columns.index("JAX")  # the order LIBRARIES gives
    # Keras on jax and on tensorflow are one library in two units
    keras = next(c for c in report.overview.columns if c.library == "Keras 3")
    assert {(u.env, u.mode) for u in keras.units} == {("keras-jax", "eager"),
                                                       ("tensorflow", "eager")}
    assert [keras.label(u) for u in keras.units] == ["jax", "tf"]
    rows = [row for row, _ in report.overview.rows]
    assert rows == list(dict.fromkeys(row_of(f["loss"]) for _, f in sorted(
        records(report), key=lambda r: list(LOSS_ROWS).index(r[1]["loss"]))))
    body_rows = re.findall(r'<tr class="check-row" data-category="([^"]+)">', report.html)
    assert Counter(body_rows) == {c: len(rows) for c in report.overview.categories}


def test_each_cell_counts_the_records_it_stands_for(report):
    """Findings (explained or not), harness errors and the worst outcome of every library cell
    and every unit cell, counted here from the results files."""
    expected: dict[tuple, Counter] = {}
    outcomes: dict[tuple, list] = {}
    for env, f in records(report):
        if f["outcome"] == "match":
            continue
        library = LIBRARIES.get(f["backend"], f["backend"])
        unit = f"{f['backend']}|{env}|{mode_of(f['api'])}"
        for key in ((row_of(f["loss"]), f["category"], library, None),
                    (row_of(f["loss"]), f["category"], library, unit)):
            counts = expected.setdefault(key, Counter())
            counts["listed"] += 1
            if f["outcome"] == "harness-error":
                counts["harness"] += 1
                continue
            counts["findings"] += 1
            counts["unexplained"] += not f["deviation"] and f["outcome"] != "unsupported"
            outcomes.setdefault(key, []).append(f["outcome"])
    assert len(expected) > 40
    for (row, category, library, unit), counts in expected.items():
        cls, title, text = overview_cell(report.html, row, category, library, unit)
        listed = re.search(r'data-listed="(\d+)"><a href="' + re.escape(
            cell_href(row, category, library, unit)), report.html).group(1)
        assert int(listed) == counts["listed"]
        assert f"{counts['findings']} findings (" in title
        assert f"{counts['unexplained']} not)" in title
        if counts["findings"]:
            assert cls.split()[0] == f"o-{worst(outcomes[(row, category, library, unit)])}"
            assert text.startswith(f'<span class="n">{counts["findings"]}</span>')
        assert ("unregistered" in cls.split()) == bool(counts["unexplained"])
        assert (f"the harness failed on {counts['harness']} " in title) == bool(counts["harness"])


def test_empty_and_not_offered_cells(report):
    """A library without an API of the row's losses has an empty cell; one that has the loss
    but no case of the check, a dash."""
    assert report.overview.empty_share() > 0  # ONNX has no binary cross-entropy, say
    assert re.search(r'<td class="cell s-absent lib first"(?: colspan="\d+")?></td>', report.html)
    numpy = next(c for c in report.overview.columns if c.library == "NumPy")
    states = {report.overview.cell(row, "gradients", numpy).state for row, _ in
              report.overview.rows}
    assert states <= {"absent", "not-offered", "unsupported"}  # NumPy has no gradients


def test_the_cases_only_one_library_gets_wrong_are_marked(report):
    lone = sum(len(cases) for _, cases in report.model.lone)
    assert lone
    marked = sum(report.overview.cell(row, c, col).lone for row, _ in report.overview.rows
                 for c in report.overview.categories for col in report.overview.columns)
    assert marked == lone
    assert report.html.count('<i class="lone-mark">') >= 1


def test_a_tally_is_na_only_where_nothing_was_judged():
    assert Tally(unsupported=10, present=True).state == "unsupported"
    assert Tally(judged=1, unsupported=10, present=True).state == "tested"
    assert Tally(findings=1, unsupported=10, present=True).state == "tested"
    assert Tally(harness_errors=2, unsupported=10, present=True).state == "harness-error"
    assert Tally(present=True).state == "not-offered"
    assert Tally(over_budget=3, present=True).state == "not-offered"
    assert Tally().state == "absent"


def test_the_breakdown_travels_for_every_unit_cell(report):
    facts = report.overview.page_facts()
    for (row, category, unit), by_api in report.overview.breakdown.items():
        rows = facts["breakdown"][row][category][unit.key]
        assert [(r[0], r[1]) for r in rows] == sorted(by_api, key=lambda k: (
            k[0], ("float16", "bfloat16", "float32", "float64").index(k[1])))
        assert sum(r[3] for r in rows) == report.overview.unit_cell(row, category, unit).findings

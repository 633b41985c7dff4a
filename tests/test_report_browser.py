"""The report in a real browser: headless Chromium (Debian package ``chromium``) opens the page
from disk, and the test reads and clicks through it as a maintainer would: the first screen
(the summary per library, without scrolling), a count, then a reproducer; the stability plot's
axis; the registry, collapsed, and its search; the overview: each cell's count against the
findings list, a cell, its breakdown, a finding, then the copy button; nothing wider than
1280 px; a harness error and a failed claim in the drill-down; the upstream issue text, which
must equal the terminal's (``python -m reports issue``). Skipped, with the reason, where no
Chromium is installed.

The browser is driven over the Chrome DevTools Protocol on a pipe (``--remote-debugging-pipe``:
NUL-separated JSON on file descriptors 3 and 4), which needs nothing beyond the standard library:
no WebSocket client, no Playwright or Selenium (both download browsers of their own).

Screenshots of the first screen and of the opened finding are kept in ``reports/artifacts/``
(``first-screen.png``, ``report.png``).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import io
import json
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import unquote as decode

import pytest
from test_report_issue import ERRORS, NUMBERS

from reports import __main__ as cli
from reports import synthetic as synthetic_results
from reports.build import build, write
from reports.issue import NOT_AN_ISSUE, markdown
from reports.load import load_results
from reports.payload import page_record

ARTIFACTS = Path(__file__).resolve().parent.parent / "reports" / "artifacts"
CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_browser() -> str | None:
    configured = os.environ.get("XENT_CHROMIUM")
    if configured:
        return configured
    return next((path for name in CANDIDATES if (path := shutil.which(name))), None)


class BrowserError(Exception):
    pass


class Chromium:
    """A headless Chromium and one page of it, driven over CDP on a pipe."""

    def __init__(self, binary: str, profile: Path, width: int = 1400, height: int = 1000):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def child_fds():  # the protocol's fixed descriptors: 3 reads commands, 4 writes replies
            high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (to_browser_r, from_browser_w)]
            os.dup2(high[0], 3)
            os.dup2(high[1], 4)

        args = [binary, "--headless", "--remote-debugging-pipe", "--disable-gpu",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--mute-audio", f"--user-data-dir={profile}", f"--window-size={width},{height}",
                "about:blank"]
        if os.geteuid() == 0:
            args.insert(1, "--no-sandbox")  # Chromium refuses to sandbox itself as root
        self.process = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, pass_fds=(3, 4),
                                        preexec_fn=child_fds)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._next_id = 0
        self._replies: dict[int, dict] = {}
        self._inbox: queue.Queue = queue.Queue()
        self.events: list[dict] = []
        threading.Thread(target=self._read, daemon=True).start()
        self.session = self._attach()

    def _read(self) -> None:
        buffer = b""
        while True:
            try:
                chunk = os.read(self._from_browser, 1 << 16)
            except OSError:
                chunk = b""
            if not chunk:
                self._inbox.put(None)
                return
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._inbox.put(json.loads(message))

    def call(self, method: str, params: dict | None = None, *, session: bool = True,
             timeout: float = 20.0) -> dict:
        self._next_id += 1
        ident = self._next_id
        message = {"id": ident, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while ident not in self._replies:
            self._pump(deadline, f"no reply to {method}")
        reply = self._replies.pop(ident)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _pump(self, deadline: float, what: str) -> None:
        try:
            message = self._inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise BrowserError(f"timed out: {what}") from None
        if message is None:
            raise BrowserError(f"the browser exited ({what})")
        if "id" in message:
            self._replies[message["id"]] = message
        else:
            self.events.append(message)

    def wait_event(self, method: str, timeout: float = 20.0) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event["method"] == method:
                    self.events.remove(event)
                    return event
            seen = len(self.events)
            self._pump(deadline, f"no {method} event")

    def _attach(self) -> str:
        targets = self.call("Target.getTargets", session=False)["targetInfos"]
        page = next(t for t in targets if t["type"] == "page")
        return self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True},
                         session=False)["sessionId"]

    def evaluate(self, expression: str, *, gesture: bool = False):
        result = self.call("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                                "returnByValue": True, "userGesture": gesture})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise BrowserError(f"timed out waiting for {expression}")

    def click(self, selector: str) -> None:
        """A real mouse click (a user gesture) in the middle of the element."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return {x: r.left + r.width / 2, y: r.top + r.height / 2}; })()")
        if box is None:
            raise BrowserError(f"nothing matches {selector}")
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box["x"], "y": box["y"],
                                                   "button": "left", "clickCount": 1})

    def errors(self) -> list[str]:
        """Console errors and uncaught exceptions so far."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.exceptionThrown":
                found.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
                found.append(" ".join(str(a.get("value", a.get("description")))
                                      for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                found.append(params["entry"]["text"])
        return found

    def close(self) -> None:
        try:
            self.call("Browser.close", session=False, timeout=5)
        except BrowserError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    binary = find_browser()
    if binary is None:
        pytest.skip("no Chromium to test the report in: install the Debian package chromium "
                    "(.ci/run does), or point XENT_CHROMIUM at a Chromium binary")
    chromium = Chromium(binary, tmp_path_factory.mktemp("chromium-profile"))
    try:
        for domain in ("Page", "Runtime", "Log"):
            chromium.call(f"{domain}.enable")
        yield chromium
    finally:
        chromium.close()


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("browser-results")
    synthetic_results.write(directory)
    return directory


@pytest.fixture(scope="module")
def page(browser, results_dir, tmp_path_factory):
    """The report of synthetic results, opened from disk (file://), its findings unpacked."""
    out = tmp_path_factory.mktemp("browser-report") / "index.html"
    write(build(results_dir), out)
    browser.call("Page.navigate", {"url": out.as_uri()})
    browser.wait_event("Page.loadEventFired")
    browser.evaluate("window.xentReport.ready")
    assert browser.evaluate("document.body.dataset.ready") == "1"
    return browser


def test_opens_without_console_errors(page):
    assert page.errors() == []
    status = page.evaluate("document.getElementById('findings-status').textContent")
    assert status.startswith("Showing 1\u201320 of ")


def test_the_first_screen_holds_the_per_library_summary(page):
    """At the top of the page, without scrolling: every library's counts by kind and the
    start of its most consequential issues; the run metadata is further down."""
    page.evaluate("window.scrollTo(0, 0); true")
    screen = page.evaluate("window.innerHeight")
    table = page.evaluate("(() => { const r = document.querySelector('table.summary')"
                          ".getBoundingClientRect(); return {top: r.top, bottom: r.bottom}; })()")
    assert 0 < table["top"]
    assert table["bottom"] <= screen
    libraries = page.evaluate("[...document.querySelectorAll('table.summary tbody tr')]"
                              ".map(r => r.dataset.library)")
    backends = {f["backend"] for d in synthetic_results.documents().values()
                for f in d["findings"]}
    assert set(libraries) == backends
    headings = page.evaluate("[...document.querySelectorAll('table.summary thead th')]"
                             ".map(h => h.textContent.trim())")
    for kind in ("bug", "precision", "documented convention", "accepts invalid input",
                 "inconsistent paths", "unsupported", "not in the registry"):
        assert kind in headings
    first_issue = page.evaluate("document.querySelector('.library-card li.issue')"
                                ".getBoundingClientRect().top")
    assert first_issue < screen
    assert page.evaluate("document.getElementById('runs').getBoundingClientRect().top") > screen
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = page.call("Page.captureScreenshot", {"format": "png"})["data"]
    (ARTIFACTS / "first-screen.png").write_bytes(base64.b64decode(shot))


def test_a_summary_count_lists_those_findings_and_an_issue_opens_its_reproducer(page):
    link = "table.summary tr[data-library='optax'] td[data-group='bug'] a"
    count = int(page.evaluate(f"document.querySelector({json.dumps(link)}).textContent"))
    page.click(link)
    page.wait_for("location.hash.includes('group=bug')")
    shown = page.evaluate("window.xentReport.state.shown.map(f => [f.backend, f.group])")
    assert len(shown) == count  # the page's kinds are the summary's (summary.group_of)
    assert set(map(tuple, shown)) == {("optax", "bug")}

    page.evaluate("window.scrollTo(0, 0); true")
    issue = "table.summary ~ .libraries .library-card a.reproducer-link"
    wanted = page.evaluate(f"document.querySelector({json.dumps(issue)}).getAttribute('href')")
    page.click(issue)  # one click from the first screen
    reproducer = page.wait_for("document.querySelector('tr.details pre.reproducer-source')"
                               " && document.querySelector('tr.details pre.reproducer-source')"
                               ".textContent")
    opened = page.evaluate("document.querySelector('tr.details .detail-grid').dataset.finding")
    assert wanted.endswith("/" + opened)
    assert "print(result)" in reproducer
    assert page.errors() == []


def test_the_stability_plot_ticks_are_the_swept_values(page):
    """The x tick labels of the plot (inline SVG, text as text) are the values the sweeps'
    case names carry: logit magnitudes 1 to 4.49e307, probabilities 1e-1 to 1e-300."""
    ticks = page.evaluate("[...document.querySelectorAll('figure.stability-plot svg "
                          "g[id^=\"xtick\"] text')].map(t => t.textContent.trim())")
    swept = set()
    for document in synthetic_results.documents().values():
        for f in document["findings"]:
            if f["category"] == "stability" and not f["case"].startswith("classes-"):
                value = re.fullmatch(r".+?-(\d+(?:\.\d+)?(?:e[-+]?\d+)?)", f["case"])[1]
                swept.add(re.sub(r"e\+?(-?)0*(\d)", r"e\1\2", value))  # 1e+04 reads 1e4
    assert set(ticks) == swept
    assert {"1", "1e4", "1.64e4", "4.49e307", "1e-1", "1e-300"} <= swept
    labels = page.evaluate("document.querySelector('figure.stability-plot svg').textContent")
    assert "largest |logit|" in labels
    assert "torch (torch)" in labels  # the legend names each backend and env


def test_the_registry_is_collapsed_and_its_search_filters_it(page):
    closed = page.evaluate("[...document.querySelectorAll('details.registry-library')]"
                           ".map(d => d.open)")
    assert closed
    assert not any(closed)
    # collapsed: no entry is visible, each library is one line tall
    assert page.evaluate("[...document.querySelectorAll('tr.registry-entry')]"
                         ".filter(r => r.checkVisibility()).length") == 0
    heights = page.evaluate("[...document.querySelectorAll('details.registry-library')]"
                            ".map(d => d.getBoundingClientRect().height)")
    assert max(heights) < 40
    page.evaluate("document.querySelector('#registry-search input').scrollIntoView(); true")
    page.click("#registry-search input")
    page.call("Input.insertText", {"text": "clip-epsilon"})
    visible = page.wait_for(
        "(() => { const rows = [...document.querySelectorAll('tr.registry-entry')]"
        ".filter(r => r.checkVisibility()); return rows.length && rows.map("
        "r => r.cells[0].textContent.trim()); })()")
    assert visible == ["keras-clip-epsilon"]
    opened = page.evaluate("[...document.querySelectorAll('details.registry-library')]"
                           ".filter(d => d.open && !d.hidden).map(d => d.dataset.library)")
    assert opened == ["keras"]
    assert page.evaluate("document.getElementById('registry-status').textContent") \
        .startswith("1 of ")
    page.evaluate("(() => { const q = document.querySelector('#registry-search input');"
                  " q.value = ''; q.dispatchEvent(new Event('input')); })(); true")
    assert not any(page.evaluate("[...document.querySelectorAll('details.registry-library')]"
                                 ".map(d => d.open || d.hidden)"))
    assert page.errors() == []


def test_overview_is_visible(page):
    visible = page.evaluate(
        "(() => { const t = document.querySelector('table.overview');"
        " t.scrollIntoView(); const r = t.getBoundingClientRect();"
        " const cell = document.querySelector('td.cell.lib.o-deviates a');"
        " const c = cell.getBoundingClientRect();"
        " const hit = document.elementFromPoint(c.left + c.width / 2, c.top + c.height / 2);"
        " return r.width > 300 && r.height > 300 && getComputedStyle(t).visibility === 'visible'"
        "   && (hit === cell || cell.contains(hit)); })()")
    assert visible


def test_every_overview_cell_counts_what_its_findings_list_shows(page):
    """Each cell, a library's or (split) a backend's: its count of records is the number the
    findings list shows once filtered to the cell, by the link its breakdown offers."""
    counted = page.evaluate(
        "(() => { const out = [];"
        " for (const a of document.querySelectorAll('td.cell[data-listed] a')) {"
        "   window.xentReport.showCell(new URLSearchParams(a.getAttribute('href').slice(10)));"
        "   const link = document.querySelector('#overview-detail a.cell-findings')"
        "     .getAttribute('href');"
        "   window.xentReport.applyParams(new URLSearchParams(link.slice(10)));"
        "   out.push([a.getAttribute('href'), Number(a.parentElement.dataset.listed),"
        "             window.xentReport.state.shown.length]); }"
        " return out; })()")
    assert len(counted) > 40
    assert [(href, listed) for href, listed, _ in counted] == \
        [(href, shown) for href, _, shown in counted]
    assert sum(listed for href, listed, _ in counted if "&unit=" not in href) == page.evaluate(
        "window.xentReport.state.data.findings.filter(f => f.outcome !== 'match').length")
    page.click("#reset-filters")


def test_overview_cell_then_breakdown_then_finding_shows_its_reproducer(page):
    """Three clicks from the overview to a reproducer: the cell, its findings, one of them."""
    cell = "td.cell.lib.o-nonfinite a"
    params = page.evaluate(f"Object.fromEntries(new URLSearchParams(document.querySelector("
                           f"{json.dumps(cell)}).getAttribute('href').slice(10)))")
    page.click(cell)
    page.wait_for("!document.getElementById('overview-detail').hidden")
    heading = page.evaluate("document.querySelector('#overview-detail h3').textContent")
    assert heading == f"{params['library']} \u00b7 {params['row']} \u00b7 {params['category']}"
    apis = page.evaluate("[...document.querySelectorAll('#overview-detail tbody th code')]"
                         ".map(c => c.textContent)")
    assert apis
    page.click("#overview-detail a.cell-findings")
    page.wait_for("location.hash.startsWith('#findings?')")
    form = page.evaluate(
        "(() => { const f = document.getElementById('filters').elements;"
        " return {library: f.library.value, row: f.row.value, category: f.category.value}; })()")
    assert form == {k: params[k] for k in ("library", "row", "category")}
    rows = page.evaluate("window.xentReport.state.shown.map(f => [f.library, f.row, f.api])")
    assert rows
    assert all(r[:2] == [params["library"], params["row"]] and r[2] in apis for r in rows)

    page.click("#findings-body tr.row")
    reproducer = page.wait_for("document.querySelector('tr.details pre.reproducer-source')"
                               " && document.querySelector('tr.details pre.reproducer-source')"
                               ".textContent")
    opened = page.evaluate("document.querySelector('tr.details .detail-grid').dataset.finding")
    expected = page.evaluate(
        f"window.xentReport.state.data.findings.find(f => f.id === {json.dumps(opened)})"
        ".reproducer")
    assert reproducer == expected
    assert "print(result)" in reproducer
    assert page.evaluate("document.querySelector('tr.details pre.observed').textContent")
    assert page.errors() == []


def test_nothing_is_wider_than_a_1280_px_screen(page):
    """The page, the overview (split or not) and the inconsistent-paths table, at 1280 px; and
    the page, until the reader opens something, a few screens high."""
    page.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 1000,
                                                      "deviceScaleFactor": 1, "mobile": False})
    try:
        assert page.evaluate("document.body.scrollHeight / innerHeight") <= 8
        for split in (False, True):
            page.evaluate(f"(() => {{ const box = document.getElementById('overview-toggles')"
                          f".elements.split; if (box.checked !== {json.dumps(split)}) box.click();"
                          f" }})(); true")
            wide = page.evaluate(
                "(() => { const out = [];"
                " if (document.documentElement.scrollWidth > innerWidth)"
                "   out.push('page ' + document.documentElement.scrollWidth);"
                " for (const t of document.querySelectorAll('table.overview, table.inconsistent,"
                "   table.summary, table.findings'))"
                "   if (t.getBoundingClientRect().right > innerWidth) out.push(t.className);"
                " return out; })()")
            assert wide == [], split
        assert page.evaluate("document.getElementById('overview-table').classList"
                             ".contains('split')")
    finally:
        page.evaluate("(() => { const box = document.getElementById('overview-toggles')"
                      ".elements.split; if (box.checked) box.click(); })(); true")
        page.call("Emulation.clearDeviceMetricsOverride")


def test_copy_button_puts_the_reproducer_on_the_clipboard(page):
    if not page.evaluate("!!document.querySelector('tr.details')"):
        page.click("#findings-body tr.row")
    expected = page.evaluate("document.querySelector('tr.details pre.reproducer-source')"
                             ".textContent")
    page.call("Browser.grantPermissions", {"permissions": ["clipboardReadWrite",
                                                           "clipboardSanitizedWrite"]},
              session=False)
    page.click("tr.details button.copy")
    via = page.wait_for("document.querySelector('tr.details button.copy')"
                        ".getAttribute('data-copied-via')")
    assert via in ("clipboard", "execCommand")
    assert page.evaluate("navigator.clipboard.readText()", gesture=True) == expected
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("document.querySelector('tr.row.open').scrollIntoView({block: 'start'})")
    shot = page.call("Page.captureScreenshot", {"format": "png"})["data"]
    (ARTIFACTS / "report.png").write_bytes(base64.b64decode(shot))
    assert page.errors() == []


def test_copy_falls_back_to_exec_command(page):
    """Where the Clipboard API is missing or refused (file:// pages in some browsers)."""
    page.evaluate("window.__clipboard = navigator.clipboard;"
                  " Object.defineProperty(navigator, 'clipboard', {value: undefined,"
                  " configurable: true}); true")
    try:
        page.evaluate("window.__clipboard.writeText('something else')", gesture=True)
        page.click("tr.details button.copy")
        via = page.wait_for("document.querySelector('tr.details button.copy')"
                            ".getAttribute('data-copied-via') === 'execCommand'")
        assert via
        expected = page.evaluate("document.querySelector('tr.details pre.reproducer-source')"
                                 ".textContent")
        assert page.evaluate("window.__clipboard.readText()", gesture=True) == expected
    finally:
        page.evaluate("delete navigator.clipboard; true")
    assert page.errors() == []


def test_findings_sort_filter_and_open_by_link(page):
    page.click("#reset-filters")
    page.click("th[data-sort='ratio']")  # the worst first
    ratios = page.evaluate("window.xentReport.state.shown.map("
                           "f => f.error ? String(f.error.bound_ratio) : 'nan')")
    values = [float(r) for r in ratios]
    finite = [v for v in values if v == v]
    assert finite == sorted(finite, reverse=True)
    assert values.index(finite[-1]) < len(values) - 1 or len(finite) == len(values)

    page.evaluate("(() => { const s = document.getElementById('filters').elements.outcome;"
                  " s.value = 'crash'; s.dispatchEvent(new Event('change', {bubbles: true}));"
                  " })()")
    outcomes = page.evaluate("[...document.querySelectorAll('#findings-body tr.row')]"
                             ".map(r => r.cells[6].textContent)")
    assert outcomes
    assert set(outcomes) == {"crash"}

    target = page.evaluate("window.xentReport.state.data.findings.find("
                           "f => f.env === 'jax' && f.outcome === 'accepts_invalid')")
    page.evaluate(f"location.hash = '#finding=jax/{target['id']}'; true")
    page.wait_for(f"!!document.querySelector('tr.row.open[data-id=\"{target['id']}\"]')")
    assert page.evaluate("document.querySelector('tr.details pre.expected').textContent") \
        .startswith("invalid input")
    assert page.errors() == []


def open_finding(page, env: str, ident: str) -> None:
    page.evaluate(f"location.hash = {json.dumps(f'#finding={env}/{ident}')}; true")
    page.wait_for(f"!!document.querySelector('tr.row.open[data-id={json.dumps(ident)}]')"
                  " && !!document.querySelector('tr.details')")


def test_a_harness_error_opens_with_its_cause_and_no_upstream_issue(page):
    target = page.evaluate("window.xentReport.state.data.findings.find("
                           "f => f.env === 'jax' && f.outcome === 'harness-error')")
    open_finding(page, "jax", target["id"])
    observed = page.evaluate("document.querySelector('tr.details pre.observed').textContent")
    assert observed.endswith("Cause (the harness's, not the library's): "
                             + target["observed"]["cause"])
    grid = page.evaluate("document.querySelector('tr.details .detail-grid').textContent")
    assert "A harness error: the harness failed on this case (" + target["observed"]["cause"] \
        + "), so the library got no verdict." in grid
    assert "Not in the deviation registry" not in grid
    assert page.evaluate("document.querySelector('tr.details .upstream-issue')") is None
    assert page.evaluate("document.querySelector('tr.row.open').cells[9].textContent") == \
        "harness-error"
    assert page.errors() == []


def test_an_api_the_harness_failed_on_lists_only_harness_errors(page):
    """In the breakdown of jax's integer-label gradients, the API the harness failed on every
    time: nothing judged, its records all harness errors."""
    page.evaluate("window.xentReport.showCell(new URLSearchParams('row=cross-entropy on logits"
                  "&category=gradients&library=JAX')); true")
    link = "#overview-detail a[href*='softmax_cross_entropy_with_integer_labels']"
    assert page.evaluate(f"document.querySelector({json.dumps(link)}).textContent") \
        .startswith("0/0 ")
    page.click(link)
    page.wait_for("location.hash.startsWith('#findings?')")
    shown = page.evaluate("window.xentReport.state.shown.map(f => f.outcome)")
    assert shown
    assert set(shown) == {"harness-error"}


def test_a_failed_claim_shows_on_its_finding(page):
    target = page.evaluate("window.xentReport.state.data.findings.find("
                           "f => f.env === 'torch' && f.failed_claims)")
    open_finding(page, "torch", target["id"])
    claims = page.evaluate("[...document.querySelectorAll('tr.details p.failed-claim')]"
                           ".map(p => p.textContent)")
    assert claims == [f"Entry {c['id']} selected this finding, but its claim did not hold: "
                      f"{c['why']}" for c in target["failed_claims"]]
    assert page.errors() == []


def test_every_upstream_issue_text_is_the_terminals(page, results_dir):
    """The page's script writes, for every finding, the Markdown that reports/issue.py writes
    (every outcome, equivalence pairs, big arrays, failed claims, registered or not); none for
    a match or a harness error."""
    texts = page.evaluate(
        "(() => { const x = window.xentReport, d = x.state.data; return d.findings.map("
        "f => [f.env, f.id, x.issueMarkdown(f, f.env, d.environments[f.env],"
        " d.deviations[f.env])]); })()")
    expected = {}
    for env, run in load_results(results_dir).runs.items():
        for record in run.document["findings"]:
            expected[(env, record["id"])] = None if record["outcome"] in NOT_AN_ISSUE else \
                markdown(page_record(record, run.path), env, run.environment, run.deviations)
    assert len(texts) == len(expected)
    assert [(env, ident) for env, ident, text in texts if text != expected[(env, ident)]] == []
    assert sum(1 for _, _, text in texts if text) > 500


def test_copy_as_an_upstream_issue_gives_the_terminals_text(page, results_dir):
    target = page.evaluate("window.xentReport.state.data.findings.find("
                           "f => f.env === 'torch' && f.deviation === 'torch-bce-log-clamp')")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["issue", target["id"], "--results", str(results_dir)]) == 0
    terminal = out.getvalue()
    assert "## Mechanism" in terminal
    open_finding(page, "torch", target["id"])
    shown = page.evaluate("document.querySelector('tr.details pre.upstream-issue-source')"
                          ".textContent")
    assert shown == terminal
    page.call("Browser.grantPermissions", {"permissions": ["clipboardReadWrite",
                                                           "clipboardSanitizedWrite"]},
              session=False)
    page.click("tr.details .upstream-issue button.copy")
    page.wait_for("document.querySelector('tr.details .upstream-issue button.copy')"
                  ".getAttribute('data-copied-via')")
    assert page.evaluate("navigator.clipboard.readText()", gesture=True) == terminal
    assert page.errors() == []


def test_issue_numbers_are_written_alike(page):
    """The page's number writing, on the table the Python side is tested with."""
    values = json.dumps([v for v, _ in NUMBERS])
    assert page.evaluate(f"{values}.map(v => window.xentReport.pyNumber(v))") == \
        [text for _, text in NUMBERS]
    values = json.dumps([v for v, _ in ERRORS])
    assert page.evaluate(f"{values}.map(v => window.xentReport.sig(v))") == \
        [text for _, text in ERRORS]


def test_a_bug_not_reported_upstream_is_one_click_from_its_issue_text(page):
    link = "p.unreported a.issue-link"
    ident = page.evaluate(f"document.querySelector({json.dumps(link)}).getAttribute('href')"
                          ".split('/').slice(1).join('/')")
    page.click(link)
    text = page.wait_for("document.querySelector('tr.details .upstream-issue details[open]')"
                         " && document.querySelector('tr.details pre.upstream-issue-source')"
                         ".textContent")
    opened = page.evaluate("document.querySelector('tr.details .detail-grid').dataset.finding")
    assert opened == decode(ident)
    expected = page.evaluate(
        f"(() => {{ const f = window.xentReport.state.data.findings.find(f => f.id === "
        f"{json.dumps(opened)}); return window.xentReport.issueMarkdown(f, f.env,"
        f" window.xentReport.state.data.environments[f.env],"
        f" window.xentReport.state.data.deviations[f.env]); }})()")
    assert text == expected
    assert page.errors() == []


def test_an_issues_entry_opens_in_the_registry(page):
    """The summary names registry entries; the reason in full is the registry's,
    one click away."""
    page.evaluate("window.scrollTo(0, 0); true")
    link = "#summary a.registry-entry-link"
    entry = page.evaluate(f"document.querySelector({json.dumps(link)}).textContent")
    page.click(link)
    page.wait_for("location.hash.startsWith('#registry?q=')")
    visible = page.wait_for(
        "(() => { const rows = [...document.querySelectorAll('tr.registry-entry')]"
        ".filter(r => r.checkVisibility()); return rows.length && rows.map("
        "r => r.cells[0].querySelector('code').textContent); })()")
    assert entry in visible
    assert page.errors() == []


def test_the_script_reads_each_envs_registry_entries_from_the_registry(page, results_dir):
    """The page holds each entry once, in the registry section; the drill-down and the issue
    text read an env's entries from there, as its results file has them."""
    read = page.evaluate("window.xentReport.state.data.deviations")
    for env, run in load_results(results_dir).runs.items():
        assert read.get(env, {}) == {
            ident: {k: entry[k] for k in ("kind", "reason", "link", "actual") if k in entry}
            for ident, entry in run.deviations.items()}, env

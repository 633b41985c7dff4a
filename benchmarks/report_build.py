"""Time to build the HTML report from 50 000 findings, and the size of the page.

Data (seeded): synthetic results of every env (``reports/synthetic.py``, the same
generator as the report's tests) padded to about 50 000 findings in all (5 000 with --small),
written to a temporary folder; about 1.3 KB of JSON per finding (inputs, expected, observed,
reproducer), plus the ``classes-32000`` findings that keep their 2 x 32 000 logits (about
11 MiB in all), which the page summarises (``reports/payload.py``) as it does for a real run.

Subject:  ``python -m reports --results DIR --out FILE`` in a fresh interpreter, as tox runs it:
          start-up, imports, reading and validating every file, the matrix, the figures, the
          page. Timed ``repeat`` times after one warm-up run (which fills the OS file cache and
          matplotlib's font cache).
Targets:  median wall time <= 10 s; page size <= 25 MiB (a file that can still be attached
          to an issue; the findings travel gzip-compressed).
Also, where the results folder (``reports/results``, or $XENT_RESULTS_DIR) holds results
files, as it does when the main job runs this after its suites: the page of those results,
built the same way, its size (target: at most 4 MB with the main job's 12 envs, issue 18)
and its build time (wall and CPU).
Also measured, for information: the CPU time of the command (user + system; the page's data
is compressed in a second thread while the figures are drawn, so it can exceed the wall time),
which is what to compare on a busy machine; the same build in this process (no start-up, no
imports); the load average, since the machines are shared.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import BenchmarkUnavailable, Metric, print_table, write_results

FINDINGS, SMALL_FINDINGS = 50_000, 5_000
MAX_SECONDS = 10.0
MAX_MIB = 25.0
#: the page of the main job's results (12 envs), in MB of 10**6 bytes
MAX_MAIN_JOB_MB = 4.0


def load_report():
    """Import the builder and the generator lazily: the bench env may lack the report's
    dependencies."""
    try:
        from reports import synthetic as synthetic_results
        from reports.build import build
    except ModuleNotFoundError as exc:
        raise BenchmarkUnavailable(
            f"the report cannot be imported ({exc}); it needs the dependency group 'report' "
            "(jinja2, matplotlib, jsonschema)") from exc
    return synthetic_results, build


def run_cli(results: Path, out: Path) -> tuple[float, float]:
    """Wall and CPU seconds (user + system, of every thread) of one ``python -m reports`` in a
    fresh interpreter. CPU time hardly depends on what else the machine runs; wall time does."""
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
    env.pop("XENT_EXPECTED_ENVS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "reports", "--results", str(results), "--out",
                    str(out)], check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main_job_page(repeat: int) -> tuple[list[Metric], dict | None]:
    """The page of the results folder's files (the main job's, after its suites): its size
    and ``python -m reports`` wall and CPU time (medians of up to 3 runs after a warm-up);
    nothing where the folder holds no results file."""
    from conformance.results import RESULTS_DIR

    paths = sorted(p for p in Path(RESULTS_DIR).glob("*.json") if not p.name.startswith("."))
    if not paths:
        print(f"no results files in {RESULTS_DIR}: the page of the main job's results is not "
              "measured")
        return [], None
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        out = Path(tmp) / "index.html"
        run_cli(Path(RESULTS_DIR), out)  # warm-up
        wall, cpu = zip(*(run_cli(Path(RESULTS_DIR), out) for _ in range(min(repeat, 3))),
                        strict=True)
        size = out.stat().st_size
    envs, input_bytes = len(paths), sum(p.stat().st_size for p in paths)
    print(f"the main job's results: {envs} files in {RESULTS_DIR}, "
          f"{input_bytes / 2**20:.1f} MiB of JSON")
    metrics = [Metric(f"page of the results in {RESULTS_DIR} ({envs} envs)", size / 1e6, "MB",
                      MAX_MAIN_JOB_MB),
               Metric(f"python -m reports on them, median of {len(wall)}",
                      statistics.median(wall), "s"),
               Metric("python -m reports on them, CPU time, median", statistics.median(cpu),
                      "s")]
    return metrics, {"files": envs, "input_bytes": input_bytes, "page_bytes": size,
                     "cli_wall": wall, "cli_cpu": cpu}


def run(small: bool = False, repeat: int = 5) -> list[Metric]:
    synthetic_results, build = load_report()
    target = SMALL_FINDINGS if small else FINDINGS
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        results, out = Path(tmp) / "results", Path(tmp) / "index.html"
        paths = synthetic_results.write(results, findings=target)
        count = sum(len(json.loads(p.read_bytes())["findings"]) for p in paths)
        input_bytes = sum(p.stat().st_size for p in paths)
        print(f"{count} findings in {len(paths)} files, {input_bytes / 2**20:.1f} MiB of JSON; "
              f"{repeat} timed runs after 1 warm-up", flush=True)

        run_cli(results, out)  # warm-up
        wall, cpu = zip(*(run_cli(results, out) for _ in range(repeat)), strict=True)
        size = out.stat().st_size
        in_process = []
        for _ in range(min(repeat, 3)):
            start = time.perf_counter()
            build(results)
            in_process.append(time.perf_counter() - start)

    real, real_numbers = main_job_page(repeat)
    metrics = [
        Metric(f"python -m reports, {count} findings, median", statistics.median(wall), "s",
               MAX_SECONDS),
        Metric("python -m reports, min", min(wall), "s"),
        Metric("python -m reports, CPU time, median", statistics.median(cpu), "s"),
        Metric("build in process, median", statistics.median(in_process), "s"),
        Metric("page size", size / 2**20, "MiB", MAX_MIB),
        Metric("page size per finding", size / count, "bytes"),
        *real,
    ]
    print_table(f"report_build: python -m reports on {count} findings", metrics)
    path = write_results(
        "report_build",
        {
            "parameters": {"findings": count, "files": len(paths), "input_bytes": input_bytes,
                           "small": small, "warmup": 1, "repeat": repeat},
            "timings_s": {"cli_wall": wall, "cli_cpu": cpu, "in_process": in_process},
            "load_average": os.getloadavg(),
            "page_bytes": size,
            "main_job_results": real_numbers,
        },
        metrics,
    )
    print(f"wrote {path}")
    return metrics

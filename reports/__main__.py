"""python -m reports: build the HTML conformance report from the results of conformance runs.

    python -m reports [--results DIR] [--baseline DIR] [--out FILE] [--expected-envs a,b,...]

Reads every ``<env>.json`` in the results folder (default: reports/results, or
$XENT_RESULTS_DIR) and writes one self-contained HTML page (default: reports/index.html).
With ``--baseline OLD_DIR`` (the results folder of an earlier run) the page opens with the
findings that appeared, disappeared and changed since, and the same list is printed on stdout.
Expected envs (``--expected-envs`` or $XENT_EXPECTED_ENVS, comma-separated) that have no
usable results file are listed in the report as missing, with the reason when it is known.

A results file that is corrupt, truncated or not in the results format is named, with its
problem, on stderr and in the report; the other files still render.

Exit status: 0 when the report was written from at least one results file (whatever the
findings and however many other files were bad); 1 when no results file could be read (the
report is still written, saying why); 2 for a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from conformance.results import RESULTS_DIR
from reports.build import build, write
from reports.diff import text


def expected_envs(value: str | None) -> tuple[str, ...]:
    return tuple(e.strip() for e in (value or "").split(",") if e.strip())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reports", description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="\n\n".join(__doc__.split("\n\n")[2:]))
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, metavar="DIR",
                        help=f"folder of <env>.json results (default {RESULTS_DIR})")
    parser.add_argument("--baseline", type=Path, metavar="DIR",
                        help="results folder of an earlier run: show (and print) the findings that "
                             "appeared, disappeared and changed since")
    parser.add_argument("--out", type=Path, default=Path("reports/index.html"), metavar="FILE",
                        help="the HTML file to write (default reports/index.html)")
    parser.add_argument("--expected-envs", default=os.environ.get("XENT_EXPECTED_ENVS", ""),
                        metavar="ENVS",
                        help="comma-separated envs that should have results "
                             "(default $XENT_EXPECTED_ENVS)")
    args = parser.parse_args(argv)

    report = build(args.results, baseline_dir=args.baseline,
                   expected=expected_envs(args.expected_envs))
    write(report, args.out)
    problems = list(report.results.problems)
    if report.diff is not None:
        problems += [f"baseline {p}" for p in report.diff.baseline.problems]
    for problem in problems:
        print(f"reports: error: {problem}", file=sys.stderr)
    for env, why in report.results.missing.items():
        print(f"reports: missing env {env}: {why}", file=sys.stderr)
    if report.diff is not None:
        print(text(report.diff, args.results), end="")
    findings = sum(t["findings"] for t in report.model.totals.values())
    print(f"wrote {args.out}: {len(report.results.runs)} envs, {findings} findings, "
          f"{len(problems)} unreadable files, {len(report.html) / 2**20:.1f} MiB, "
          f"{report.seconds:.1f} s")
    if not report.readable:
        print("reports: error: no results file could be read", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

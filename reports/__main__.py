"""python -m reports: build the HTML conformance report from the results of conformance runs.

    python -m reports [--results DIR] [--baseline DIR] [--out FILE] [--expected-envs a,b,...]
                      [--strict]
    python -m reports issue FINDING_ID [--env ENV] [--results DIR]

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
report is still written, saying why), and, with --strict, also when a results file (or a
baseline file) is unreadable or an expected env is missing; 2 for a usage error.

``python -m reports issue FINDING_ID`` prints one finding as a ready-to-file upstream issue
(Markdown: title, versions, reproducer, what it returned against the oracle, the mechanism
where the registry knows it), the text the page's "copy as an upstream issue" gives. The
same finding id is in every env that ran the same case (the Keras envs): ``--env`` picks one.
Exit status 1 when the id is in no env, or in several and --env does not pick one.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys
from pathlib import Path

from conformance.results import RESULTS_DIR
from reports import same
from reports.build import build, write
from reports.diff import text
from reports.issue import NotAnIssue, markdown
from reports.load import load_results
from reports.payload import page_record


def expected_envs(value: str | None) -> tuple[str, ...]:
    return tuple(e.strip() for e in (value or "").split(",") if e.strip())


def _parser(prog: str, description: int, epilog: slice) -> argparse.ArgumentParser:
    """A parser whose help is paragraphs of this module's docstring."""
    parts = __doc__.split("\n\n")
    return argparse.ArgumentParser(
        prog=prog, description=parts[description],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog="\n\n".join(parts[epilog]))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["issue"]:
        return issue_main(argv[1:])
    if argv[:1] == ["same"]:
        return same_main(argv[1:])
    parser = _parser("python -m reports", 0, slice(2, None))
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
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a results file is unreadable or an expected env is "
                             "missing (without it: exit 0 when at least one file was read)")
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
    if args.strict and (problems or report.results.missing):
        print(f"reports: error (--strict): {len(problems)} unreadable results files, "
              f"{len(report.results.missing)} missing envs", file=sys.stderr)
        return 1
    return 0


def issue_main(argv: list[str]) -> int:
    """``python -m reports issue``: print one finding as an upstream issue."""
    parser = _parser("python -m reports issue", 5, slice(6, None))
    parser.add_argument("finding", metavar="FINDING_ID",
                        help="the finding's id (the findings list and the results files show it)")
    parser.add_argument("--env", help="the env whose finding it is, where several envs hold it")
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, metavar="DIR",
                        help=f"folder of <env>.json results (default {RESULTS_DIR})")
    args = parser.parse_args(argv)

    results = load_results(args.results)
    for problem in results.problems:
        print(f"reports: error: {problem}", file=sys.stderr)
    if args.env is not None and args.env not in results.runs:
        print(f"reports: error: no results of env {args.env} in {args.results} (envs read: "
              f"{', '.join(results.runs) or 'none'})", file=sys.stderr)
        return 1
    runs = {env: run for env, run in results.runs.items() if args.env in (None, env)}
    holders = {env: record for env, run in runs.items() for record in run.document["findings"]
               if record["id"] == args.finding}
    if not holders:
        print(f"reports: error: no finding {args.finding} in {args.results} (envs read: "
              f"{', '.join(runs) or 'none'}); the page's findings list and the results files "
              "give the ids", file=sys.stderr)
        return 1
    if len(holders) > 1:
        print(f"reports: error: finding {args.finding} is in several envs: "
              f"{', '.join(holders)}; name one with --env ENV", file=sys.stderr)
        return 1
    (env, record), = holders.items()
    run = results.runs[env]
    try:
        print(markdown(page_record(record, run.path), env, run.environment, run.deviations),
              end="")
    except NotAnIssue as exc:
        print(f"reports: error: {exc}; nothing to file upstream", file=sys.stderr)
        return 1
    return 0


def same_main(argv: list[str]) -> int:
    """``python -m reports same OLD_DIR NEW_DIR``: are two runs the same (``reports.same``)?"""
    parser = argparse.ArgumentParser(prog="python -m reports same",
                                     description=same.__doc__.split("\n\n")[0])
    parser.add_argument("old", type=Path, metavar="OLD_DIR", help="results folder of one run")
    parser.add_argument("new", type=Path, metavar="NEW_DIR", help="results folder of the other")
    args = parser.parse_args(argv)
    found = same.differences(args.old, args.new)
    for line in found:
        print(line)
    print(f"{len(found)} differences between {args.old} and {args.new}")
    return 1 if found else 0


if __name__ == "__main__":
    # One page (or one issue's text), then the process ends: the cyclic collector stays off.
    # ``build`` pauses it anyway, and the first collection after would walk every object the
    # build made (0.3 s at 50 000 findings) for the few cycles of the figures.
    gc.disable()
    sys.exit(main())


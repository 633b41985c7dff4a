"""Run every benchmark in this package (or the ones named) and print a summary.

Exit status: 0 when every benchmark ran, whether or not its targets were met;
2 when a benchmark could not run (e.g. the oracle is missing).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import benchmarks


def benchmark_names() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_")
    )


def main(argv: list[str] | None = None) -> int:
    available = benchmark_names()
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"one of {available}; default all")
    parser.add_argument("--small", action="store_true", help="small inputs, for a quick check")
    parser.add_argument(
        "--repeat", type=int, default=5, metavar="N", help="timed runs of each subject (default 5)"
    )
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    unknown = sorted(set(args.names) - set(available))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; available: {available}")

    summary = []
    for name in args.names or available:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"== {name}", flush=True)
        try:
            metrics = module.run(small=args.small, repeat=args.repeat)
        except benchmarks.BenchmarkUnavailable as exc:
            print(f"{name}: CANNOT RUN: {exc}", file=sys.stderr)
            summary.append((name, "CANNOT RUN"))
            continue
        missed = [m.name for m in metrics if m.met is False]
        targets = [m for m in metrics if m.target is not None]
        if missed:
            summary.append((name, f"MISSED {len(missed)} of {len(targets)} targets: {missed}"))
        else:
            summary.append((name, f"met all {len(targets)} targets"))

    print("\n== summary")
    for name, verdict in summary:
        print(f"  {name}: {verdict}")
    return 2 if any(verdict == "CANNOT RUN" for _, verdict in summary) else 0


if __name__ == "__main__":
    sys.exit(main())

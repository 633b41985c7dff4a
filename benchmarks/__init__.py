"""Speed and accuracy measurements of the oracle and of a suite run.

Every module here whose name does not start with ``_`` is a benchmark: it has
``run(small: bool, repeat: int) -> list[Metric]``, prints its own table and writes its numbers
to ``benchmarks/results/<module>.json``. ``python -m benchmarks`` runs them all.

A missed target is reported, not raised: the machines are shared and timings are noisy.
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

RESULTS_DIR = Path(__file__).parent / "results"


class BenchmarkUnavailable(Exception):
    """What a benchmark measures is not there (yet), so it cannot run."""


@dataclass(frozen=True)
class Metric:
    name: str
    value: float
    unit: str
    target: float | None = None  # an upper bound; None means for information only

    @property
    def met(self) -> bool | None:
        return None if self.target is None else self.value <= self.target


def print_table(title: str, metrics: list[Metric]) -> None:
    rows = [("metric", "value", "target", "met")]
    for m in metrics:
        target = "-" if m.target is None else f"<= {m.target:g}"
        met = {None: "-", True: "yes", False: "MISSED"}[m.met]
        rows.append((m.name, f"{m.value:.4g} {m.unit}", target, met))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    print(title)
    for i, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print("  " + "  ".join("-" * w for w in widths))


def environment() -> dict:
    import numpy
    import scipy

    return {
        "python": sys.version.split()[0],
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "platform": platform.platform(),
        "processor": platform.machine(),
    }


def write_results(name: str, payload: dict, metrics: list[Metric]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    payload = {
        "benchmark": name,
        "environment": environment(),
        **payload,
        "metrics": [{**asdict(m), "met": m.met} for m in metrics],
    }
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path

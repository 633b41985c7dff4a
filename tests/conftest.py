"""Hypothesis profiles and the ulp-error collector of the project's own tests.

Profiles (select with HYPOTHESIS_PROFILE=..., or the hypothesis plugin's --hypothesis-profile,
which wins over the environment variable):

- ``ci`` (default): derandomized, so every run tests the same examples; sized so that the whole
  suite stays within a few minutes on two cores.
- ``dev``: random examples, more of them; failures are saved in the local example database.
- ``thorough``: many examples, for an occasional long run.
"""

from __future__ import annotations

import json
import math
import os

import pytest
from hypothesis import HealthCheck, settings

# Accuracy tests draw large arrays now and then (up to 50 000 classes) and evaluate an mpmath
# twin for every example, so per-example time checks would only produce noise.
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "ci", derandomize=True, database=None, deadline=None, max_examples=200, print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "dev", deadline=None, max_examples=300, print_blob=True, suppress_health_check=_SLOW_IS_FINE,
)
settings.register_profile(
    "thorough", deadline=None, max_examples=3000, print_blob=True,
    suppress_health_check=_SLOW_IS_FINE,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_configure(config):
    """In a backend env, an adapter the env requires that does not import stops the run once,
    with the reason (rather than failing every test of it)."""
    from _tested import REQUIRED, unavailable

    missing = [f"{name} is required in this env but {unavailable(name)}"
               for name in sorted(REQUIRED) if unavailable(name) is not None]
    if missing:
        raise pytest.UsageError("; ".join(missing))


# --- worst ulp error vs mpmath ----------------------------------------------------------------

# Element errors are counted in these bins (upper edges, in ulp); the last bin is "more".
_BIN_EDGES = (0.0, 0.5, 1.0, 2.0)
_BIN_LABELS = ("0", "<=0.5", "<=1", "<=2", ">2")


class UlpRecord:
    """The worst ulp error seen per (function, check), with its bound, the number of examples
    and a histogram of the element errors. One instance per test process."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict] = {}

    def add(self, function: str, check: str, errors, bound: float) -> None:
        row = self.rows.setdefault(
            (function, check),
            {"worst": 0.0, "bound": bound, "examples": 0, "bins": [0] * len(_BIN_LABELS)},
        )
        row["examples"] += 1
        for error in errors:
            row["worst"] = max(row["worst"], error)
            row["bins"][_bin(error)] += 1

    def merge(self, rows: list) -> None:
        """Fold in the rows of another process (a pytest-xdist worker)."""
        for function, check, other in rows:
            row = self.rows.setdefault((function, check), dict(other, examples=0,
                                                               worst=0.0,
                                                               bins=[0] * len(_BIN_LABELS)))
            row["worst"] = max(row["worst"], other["worst"])
            row["examples"] += other["examples"]
            row["bins"] = [a + b for a, b in zip(row["bins"], other["bins"], strict=True)]

    def serialise(self) -> str:
        return json.dumps([[f, c, row] for (f, c), row in sorted(self.rows.items())])

    def lines(self) -> list[str]:
        header = ("function", "check", "worst ulp", "bound", "examples",
                  *(f"{label} ulp" for label in _BIN_LABELS))
        table = [header]
        for (function, check), row in sorted(self.rows.items()):
            table.append((function, check, f"{row['worst']:.3g}", f"{row['bound']:g}",
                          str(row["examples"]), *(str(n) for n in row["bins"])))
        widths = [max(len(r[i]) for r in table) for i in range(len(header))]
        return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
                for r in table]


def _bin(error: float) -> int:
    if math.isnan(error):
        return len(_BIN_EDGES)
    for i, edge in enumerate(_BIN_EDGES):
        if error <= edge:
            return i
    return len(_BIN_EDGES)


ULP_RECORD = UlpRecord()


@pytest.fixture(scope="session")
def ulp_record() -> UlpRecord:
    """The process's collector: ``ulp_record.add(function, check, element_errors, bound)``."""
    return ULP_RECORD


def pytest_terminal_summary(terminalreporter):
    if ULP_RECORD.rows:
        terminalreporter.write_sep("=", "worst ulp error vs mpmath (element errors per bin)")
        for line in ULP_RECORD.lines():
            terminalreporter.write_line(line)


# Under pytest-xdist each worker has its own collector; workers hand theirs to the controller
# (workeroutput), which prints the merged table. Without xdist these two hooks never run, and
# the table is printed by the single process. The accuracy tests need nothing else from xdist:
# they may run in one process or spread over workers.


def pytest_sessionfinish(session):
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["ulp_record"] = ULP_RECORD.serialise()


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    data = getattr(node, "workeroutput", {}).get("ulp_record")
    if data:
        ULP_RECORD.merge(json.loads(data))

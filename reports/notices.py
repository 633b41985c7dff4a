"""What a reader must know before the findings, per run: the cases the harness failed on, and
the run's warnings.

A *harness error* is a case the harness (the adapter, its worker process, the machine) failed
on: the library was never judged on it, so it is no finding of the library, no match, and
nothing the registry explains. Each carries a *cause*, a sentence naming the part that failed
(``observed["cause"]``); the page names the causes of each env, the most frequent first.

*Warnings* are the run's own (``warnings`` in the results file): a registry written for another
version of the library than the one installed, a library without a registry file.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from conformance.results import Finding
from reports.load import Results
from reports.model import harness_errors, is_harness_error

#: causes named per env; the others are counted
MAX_CAUSES = 5


@dataclass
class HarnessFailures:
    """The cases of one env the harness failed on, and why."""

    env: str
    cases: int
    causes: list[tuple[str, int]]  # (cause, records with it), the most frequent first

    @property
    def shown(self) -> list[tuple[str, int]]:
        return self.causes[:MAX_CAUSES]

    @property
    def more(self) -> int:
        """Causes not named."""
        return max(0, len(self.causes) - MAX_CAUSES)


def cause(f: Finding) -> str:
    """Where the harness failed on ``f``; a file without the cause gives the exception."""
    observed = f.observed if isinstance(f.observed, dict) else {}
    if observed.get("cause"):
        return observed["cause"]
    if observed.get("error"):
        return f"{observed['error']}: {observed.get('message', '')} (cause not recorded)"
    return "cause not recorded"


def harness_failures(results: Results) -> list[HarnessFailures]:
    """Per env with any, the cases the harness failed on and their causes."""
    found = []
    for env, run in results.runs.items():
        cases = harness_errors(run)
        if cases:
            causes = Counter(cause(f) for f in run.findings if is_harness_error(f))
            found.append(HarnessFailures(env, cases, causes.most_common()))
    return found


def warnings(results: Results) -> list[tuple[str, str]]:
    """(env, warning) of every run, in the runs' order."""
    return [(env, text) for env, run in results.runs.items()
            for text in run.document.get("warnings", [])]

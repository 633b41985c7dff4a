"""The answer first: per library (backend), how its findings differ from exact mathematics and
from the other libraries, grouped by kind, with its most consequential issues.

Each finding falls in one group, the first that applies:

- ``inconsistent-paths``: an equivalence finding (two paths of one library disagree);
- ``unexplained``: no registry entry explains it (it fails the run);
- otherwise the kind of its registry entry: ``bug``, ``out-of-contract`` (accepts invalid
  input, or answers outside the API's contract), ``precision``, ``documented-semantics``,
  ``unsupported``; an outcome ``unsupported`` without an entry is ``unsupported`` too.

An *issue* is what a maintainer fixes once: a registry entry (all its findings, every env and
dtype), or, for a finding no entry explains, its API and case. Issues rank by group (``GROUPS``
order: the unexplained and bugs first), then by their worst error as a multiple of the allowed
bound (not finite: infinite), then by their number of findings.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from conformance.results import Finding
from reports.load import Results, number
from reports.model import SEVERITY, Model, is_finding

#: group -> label, from the most to the least consequential
GROUPS = {
    "unexplained": "not in the registry",
    "bug": "bug",
    "out-of-contract": "accepts invalid input",
    "inconsistent-paths": "inconsistent paths",
    "precision": "precision",
    "documented-semantics": "documented convention",
    "unsupported": "unsupported",
}
#: issues listed per library on the first screen
TOP_ISSUES = 3


def group_of(f: Finding, deviations: dict) -> str:
    """The group of a differing finding (see the module docstring)."""
    if f.category == "equivalence":
        return "inconsistent-paths"
    entry = deviations.get(f.deviation) if f.deviation else None
    if entry is not None:
        return entry["kind"]
    if f.outcome == "unsupported":
        return "unsupported"
    return "unexplained"


def severity(f: Finding) -> float:
    """The error as a multiple of the allowed bound; a result that is not finite, an exception
    where a value was due, or a value where an exception was due: infinite."""
    if f.error:
        ratio = number(f.error["bound_ratio"])
        return math.inf if math.isnan(ratio) else ratio
    return math.inf if f.outcome in ("nonfinite", "accepts_invalid", "crash", "timeout") \
        else 0.0


@dataclass
class Issue:
    """One registry entry (or one unexplained API and case) of a library, and its findings."""

    group: str
    deviation: str | None
    reason: str
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (env, finding)
    upstream: dict | None = None  # where the entry says the defect stands upstream

    @property
    def unreported(self) -> bool:
        """A bug whose entry found no report upstream (the report lists these first)."""
        return self.group == "bug" and (self.upstream or {}).get("status") == "none found"

    @property
    def worst(self) -> tuple[str, Finding]:
        """The finding to show: the largest error, then the most severe outcome."""
        return max(self.findings,
                   key=lambda ef: (severity(ef[1]), -SEVERITY.index(ef[1].outcome)))

    @property
    def envs(self) -> list[str]:
        return sorted({env for env, _ in self.findings})

    @property
    def dtypes(self) -> list[str]:
        return sorted({f.dtype for _, f in self.findings})

    def rank(self) -> tuple:
        return (list(GROUPS).index(self.group), -severity(self.worst[1]), -len(self.findings),
                self.deviation or "")


@dataclass
class Library:
    """What differs in one library (backend), over every env it ran in."""

    backend: str
    envs: list[str]
    counts: dict[str, int]  # group -> findings
    alone: int  # cases where only this library differs (model.lone)
    issues: list[Issue]  # ranked, all of them

    @property
    def unreported(self) -> list[Issue]:
        """Its bugs that no upstream report was found for, ranked."""
        return [issue for issue in self.issues if issue.unreported]

    @property
    def bugs_upstream(self) -> dict[str, int]:
        """Its bugs (registry entries) by where they stand upstream ("not stated" where the
        results carry no status)."""
        counts: dict[str, int] = defaultdict(int)
        for issue in self.issues:
            if issue.group == "bug" and issue.deviation:
                counts[(issue.upstream or {}).get("status", "not stated")] += 1
        return dict(counts)

    @property
    def findings(self) -> int:
        return sum(self.counts.values())

    @property
    def top(self) -> list[Issue]:
        return self.issues[:TOP_ISSUES]


def libraries(results: Results, model: Model) -> list[Library]:
    """Every library with a record, the ones with the most consequential issues first."""
    envs: dict[str, set] = defaultdict(set)
    counts: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(GROUPS, 0))
    issues: dict[str, dict[tuple, Issue]] = defaultdict(dict)
    for env, run in results.runs.items():
        deviations = run.deviations
        for f in run.findings:
            envs[f.backend].add(env)
            if not is_finding(f):
                continue
            group = group_of(f, deviations)
            counts[f.backend][group] += 1
            upstream = None
            if f.deviation and f.deviation in deviations:
                key = ("entry", f.deviation, group)
                reason = deviations[f.deviation]["reason"]
                upstream = deviations[f.deviation].get("upstream")
            else:
                key = ("case", f.api, f.case or f.id, group)
                reason = ""
            issue = issues[f.backend].get(key)
            if issue is None:
                issue = issues[f.backend][key] = Issue(group, f.deviation, reason,
                                                       upstream=upstream)
            issue.findings.append((env, f))
    alone: dict[str, int] = defaultdict(int)
    for (_env, backend), cases in model.lone:
        alone[backend] += len(cases)
    found = [Library(backend, sorted(envs[backend]), counts[backend], alone[backend],
                     sorted(issues[backend].values(), key=Issue.rank))
             for backend in envs]
    return sorted(found, key=lambda lib: (lib.issues[0].rank()[:2] if lib.issues else (99, 0),
                                          -lib.findings, lib.backend))


@dataclass
class InconsistentPaths:
    """Two paths of one library that disagree on the same case: the APIs, what each returned
    and what the oracle says for each, and how often (every dtype, env and case alike)."""

    backend: str
    apis: tuple[str, str]
    deviation: str | None
    reason: str
    findings: list[tuple[str, Finding]] = field(default_factory=list)  # (env, finding)

    @property
    def worst(self) -> tuple[str, Finding]:
        return max(self.findings, key=lambda ef: severity(ef[1]))

    @property
    def paths(self) -> list[dict]:
        return self.worst[1].paths or []


def inconsistent_paths(results: Results) -> list[InconsistentPaths]:
    """The equivalence findings, one entry per library, pair of APIs and registry entry (the
    unexplained first, then the most findings)."""
    found: dict[tuple, InconsistentPaths] = {}
    for env, run in results.runs.items():
        for f in run.findings:
            if f.category != "equivalence" or not is_finding(f):
                continue
            apis = tuple(sorted(p["api"] for p in f.paths)) if f.paths else (f.api, "")
            key = (f.backend, apis, f.deviation)
            entry = found.get(key)
            if entry is None:
                reason = (run.deviations.get(f.deviation) or {}).get("reason", "")
                entry = found[key] = InconsistentPaths(f.backend, apis, f.deviation, reason)
            entry.findings.append((env, f))
    return sorted(found.values(), key=lambda e: (e.deviation is not None, -len(e.findings),
                                                 e.backend, e.apis))

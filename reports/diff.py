"""The difference between two runs, by finding id (stable for the same seed): which findings
appeared (new), which disappeared (fixed, or no longer differ), and which changed (outcome,
registry entry, observed exception, or the error by more than a rounding of the printout).
The page shows it as a section; ``text`` writes it for a terminal:

    python -m reports --results NEW_DIR --baseline OLD_DIR     (the page, and the text on stdout)

Only envs present in both runs are compared: a finding of an env that the current run lacks is
not "fixed", it was not looked for. Records that match the oracle (stability sweeps record every
point) count as absent; cases the harness failed on are followed like findings, so that a
finding that became a harness error is a change (its outcome), not a fix.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

from conformance.results import Finding
from reports.accuracy import key_of
from reports.load import Results, number
from reports.model import HARNESS_ERROR, is_finding

#: relative change of the error below which two runs count as equal (printing, summation order)
ERROR_TOLERANCE = 1e-6


@dataclass
class Change:
    env: str
    before: Finding | None
    after: Finding | None
    what: list[str] = field(default_factory=list)

    @property
    def finding(self) -> Finding:
        return self.after or self.before


@dataclass
class AccuracyChange:
    """One accuracy record (env, api, mode, dtype, check, target, method) whose worst error or
    outcome differs between the runs, or that only one run has."""

    env: str
    key: tuple  # accuracy.key_of: (api, mode, dtype, check, target, method)
    before: dict | None
    after: dict | None

    @property
    def record(self) -> dict:
        return self.after or self.before

    @property
    def kind(self) -> str:
        """"new", "removed", "worse", "better", or "changed" (the outcome, not the error)."""
        if self.before is None:
            return "new"
        if self.after is None:
            return "removed"
        a, b = _worst(self.before), _worst(self.after)
        if math.isnan(a) or math.isnan(b):
            return "changed"
        return "worse" if b > a else "better" if b < a else "changed"

    @property
    def what(self) -> str:
        """old -> new, as the table and the text write it."""
        return f"{_shown(self.before)} -> {_shown(self.after)}"


def _worst(record: dict) -> float:
    """A record's worst error in ulps; nan when it was not measured."""
    return number(record.get("worst_ulp")) if record["outcome"] == "measured" else math.nan


def _shown(record: dict | None) -> str:
    if record is None:
        return "(none)"
    if record["outcome"] != "measured":
        return record["outcome"]
    value = number(record.get("worst_ulp"))
    text = "nan" if math.isnan(value) else "inf" if math.isinf(value) else f"{value:.4g}"
    return ("" if record["method"] == "exhaustive" else "\u2265") + text + " ulp"


def accuracy_changes(current: Results, baseline: Results, envs: list[str]) -> list[AccuracyChange]:
    """The accuracy records whose worst error (beyond ``ERROR_TOLERANCE``) or outcome changed,
    and those only one run has, in the envs both runs have: the worse first, then new, removed,
    changed and better."""
    found = []
    for env in envs:
        before = {key_of(r): r for r in baseline.runs[env].document.get("accuracy") or ()}
        after = {key_of(r): r for r in current.runs[env].document.get("accuracy") or ()}
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if old is not None and new is not None:
                a, b = _worst(old), _worst(new)
                same_error = (math.isnan(a) and math.isnan(b)) or a == b or (
                    abs(a - b) <= ERROR_TOLERANCE * max(abs(a), abs(b)))
                if old["outcome"] == new["outcome"] and same_error:
                    continue
            found.append(AccuracyChange(env, key, old, new))
    order = ("worse", "new", "removed", "changed", "better")
    return sorted(found, key=lambda c: (order.index(c.kind), c.env, c.key))


@dataclass
class Diff:
    baseline: Results
    new: list[Change]
    fixed: list[Change]
    changed: list[Change]
    only_current: list[str]  # envs the baseline does not have
    only_baseline: list[str]  # envs the current run does not have
    versions: list[tuple[str, str, str, str]]  # (env, library, before, after)
    accuracy: list[AccuracyChange] = field(default_factory=list)

    @property
    def kinds(self) -> tuple[tuple[str, str, list[Change]], ...]:
        """(kind, heading, changes), in the order the page and the text list them."""
        return (("new", "Appeared", self.new), ("fixed", "Disappeared", self.fixed),
                ("changed", "Changed", self.changed))

    def by_backend(self) -> dict[str, dict[str, int]]:
        """backend -> {"new": n, "fixed": n, "changed": n}, the backends in name order."""
        counts: dict[str, dict[str, int]] = defaultdict(lambda: {"new": 0, "fixed": 0,
                                                                 "changed": 0})
        for kind, _, changes in self.kinds:
            for c in changes:
                counts[c.finding.backend][kind] += 1
        return dict(sorted(counts.items()))

    def status(self) -> dict[tuple[str, str], str]:
        """(env, id) -> "new" or "changed", for the findings list of the current run."""
        marks = {(c.env, c.after.id): "new" for c in self.new}
        marks.update({(c.env, c.after.id): "changed" for c in self.changed})
        return marks


def followed(f: Finding) -> bool:
    """A record the diff follows: a finding, or a case the harness failed on (a finding that
    became a harness error changed; it did not disappear)."""
    return is_finding(f) or f.outcome == HARNESS_ERROR


def _error_ulp(f: Finding) -> float:
    return number(f.error["ulp"]) if f.error else math.nan


def _observed_error(f: Finding) -> str | None:
    """The exception type the library raised (observed is {"error": type, "message": text})."""
    return f.observed["error"] if isinstance(f.observed, dict) else None


def changes(before: Finding, after: Finding) -> list[str]:
    """What differs between two records of one finding, as short phrases."""
    what = []
    if before.outcome != after.outcome:
        what.append(f"outcome {before.outcome} -> {after.outcome}")
    if before.deviation != after.deviation:
        what.append(f"registry {before.deviation or 'none'} -> {after.deviation or 'none'}")
    if _observed_error(before) != _observed_error(after):
        what.append(f"raises {_observed_error(before) or 'nothing'} -> "
                    f"{_observed_error(after) or 'nothing'}")
    a, b = _error_ulp(before), _error_ulp(after)
    if not (math.isnan(a) and math.isnan(b)) and not (
            a == b or abs(a - b) <= ERROR_TOLERANCE * max(abs(a), abs(b))):
        what.append(f"error {a:.4g} -> {b:.4g} ulp")
    return what


def diff(current: Results, baseline: Results) -> Diff:
    common = [env for env in current.runs if env in baseline.runs]
    new, fixed, changed = [], [], []
    for env in common:
        before = {f.id: f for f in baseline.runs[env].findings if followed(f)}
        after = {f.id: f for f in current.runs[env].findings if followed(f)}
        for ident, f in after.items():
            if ident not in before:
                new.append(Change(env, None, f))
            else:
                what = changes(before[ident], f)
                if what:
                    changed.append(Change(env, before[ident], f, what))
        fixed.extend(Change(env, f, None) for ident, f in before.items() if ident not in after)
    versions = []
    for env in common:
        old = baseline.runs[env].environment["libraries"]
        now = current.runs[env].environment["libraries"]
        for library in sorted(set(old) | set(now)):
            if old.get(library) != now.get(library):
                versions.append((env, library, old.get(library, "-"), now.get(library, "-")))
    return Diff(baseline, new, fixed, changed,
                [e for e in current.runs if e not in baseline.runs],
                [e for e in baseline.runs if e not in current.runs], versions,
                accuracy_changes(current, baseline, common))


def _line(c: Change) -> str:
    f = c.finding
    what = "; ".join(c.what) if c.what else f.outcome
    return f"  {c.env:<12} {f.api}  {f.case or f.id}  {f.category} {f.dtype}  {what}  [{f.id}]"


def text(d: Diff, current_dir) -> str:
    """The diff for a terminal: the envs compared, versions, counts per backend, then every
    finding that appeared, disappeared or changed, one line each."""
    lines = [f"changes from {d.baseline.directory} to {current_dir}: {len(d.new)} appeared, "
             f"{len(d.fixed)} disappeared, {len(d.changed)} changed (by finding id)"]
    if d.only_current:
        lines.append(f"not in the baseline (not compared): {', '.join(d.only_current)}")
    if d.only_baseline:
        lines.append(f"only in the baseline (not compared): {', '.join(d.only_baseline)}")
    lines += [f"version {env}: {library} {old} -> {new}"
              for env, library, old, new in d.versions]
    for backend, counts in d.by_backend().items():
        lines.append(f"{backend}: " + ", ".join(f"{counts[kind]} {heading.lower()}"
                                                for kind, heading, _ in d.kinds))
    for _, heading, changes in d.kinds:
        if changes:
            lines.append(f"{heading} ({len(changes)}):")
            lines += [_line(c) for c in changes]
    if d.accuracy:
        lines.append(f"Accuracy: worst errors that changed ({len(d.accuracy)}):")
        for c in d.accuracy:
            api, mode, dtype, check, target, method = c.key
            mode = "" if mode == "eager" else f" [{mode}]"
            lines.append(f"  {c.env:<12} {api}{mode}  {dtype} {check} target {target} "
                         f"{method}  {c.what}  ({c.kind})")
    return "\n".join(lines) + "\n"

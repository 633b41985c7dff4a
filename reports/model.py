"""What the report shows, computed from the runs: each API's backend and loss, each env's totals,
and the cases where only one library differs from the oracle while its peers agree (the
overview of losses by library is ``reports.overview``'s).

Vocabulary: an *env* is one results file (a tox env, e.g. ``keras-jax``); a *backend* is the
library an API belongs to (``keras``); a *unit* is (env, backend), the thing that can be "the
only one that differs" (Keras on JAX, not Keras everywhere).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from functools import cache

from conformance.results import Finding, schema
from reports.load import Results, Run

#: outcomes from the worst to the best; a cell is coloured by the worst of its findings
SEVERITY = ("crash", "timeout", "nonfinite", "accepts_invalid", "deviates", "status",
            "raises", "unsupported", "match")
#: the outcome of a case the harness (the adapter, its worker, the machine) failed on: not a
#: verdict about the library, so in no count of its findings and never explained
HARNESS_ERROR = "harness-error"


@cache
def categories() -> tuple[str, ...]:
    """The categories in the schema's order (the schema is the one place they are listed)."""
    return tuple(schema()["$defs"]["category"]["enum"])


def worst(outcomes) -> str:
    """The most severe of ``outcomes`` ("match" for none)."""
    ranks = [SEVERITY.index(o) for o in outcomes if o in SEVERITY]
    return SEVERITY[min(ranks)] if ranks else "match"


def is_finding(f: Finding) -> bool:
    """A record of the library differing from the oracle: not a match (stability sweeps also
    record their matches), not a harness error (the harness failed, the library was not
    judged)."""
    return f.outcome not in ("match", HARNESS_ERROR)


def is_harness_error(f: Finding) -> bool:
    return f.outcome == HARNESS_ERROR


@dataclass
class LoneCase:
    """A case that one unit gets wrong while every other unit that ran it agrees."""

    env: str
    backend: str
    loss: str
    case: str
    check: str
    dtype: str
    findings: list[Finding]
    peers: list[str]  # the agreeing units, as "backend (env)"

    @property
    def outcome(self) -> str:
        return worst(f.outcome for f in self.findings)

    @property
    def category(self) -> str:
        return self.findings[0].category


@dataclass
class Model:
    envs: list[str]
    lone: list[tuple[tuple[str, str], list[LoneCase]]]  # (env, backend) -> its lone cases
    lone_ids: set[tuple[str, str]]  # (env, finding id) of every lone finding
    totals: dict[str, dict]  # env -> counts for the header
    facts: dict[str, tuple[str, str]]  # api -> (backend, loss)


def api_facts(runs: dict[str, Run]) -> dict[str, tuple[str, str]]:
    """api -> (backend, loss), from the findings: the results are all the report reads. An
    API that only summary rows name (no case of it was kept) shows "?" and "(loss not
    recorded)"; the suite keeps every named case, so a real run names every API it tested."""
    facts: dict[str, list] = {}
    for run in runs.values():
        for f in run.findings:
            entry = facts.setdefault(f.api, ["", ""])
            entry[0] = entry[0] or f.backend
            entry[1] = entry[1] or f.loss or ""
        for row in run.summary:
            facts.setdefault(row["api"], ["", ""])
    return {api: (backend or "?", loss or "(loss not recorded)")
            for api, (backend, loss) in facts.items()}


def _case_key(f: Finding, loss: str) -> tuple:
    """Findings with equal keys are the same case in different libraries. Without a case name,
    the finding id stands in, which only matches the same API in another env."""
    return (loss, f.case or f"id:{f.id}", f.check, f.wrt, f.dtype, None if f.case else f.api)


def lone_cases(runs: dict[str, Run], facts: dict[str, tuple[str, str]]) -> list[LoneCase]:
    """Cases where exactly one unit differs and at least one other unit ran the case and agrees.

    A unit ran a case and agrees when it recorded the case as a match (stability sweeps do; so
    may named cases). The results count other matches only in the summary, so a unit with no
    record of the case also agrees when its summary shows cases of the same loss, category and
    dtype, but only for a case that at least two APIs recorded: that is a shared, named case,
    which every API of the loss runs, not one API's hypothesis draw.
    """
    ran: dict[tuple, set] = defaultdict(set)  # (loss, category, dtype) -> units
    for env, run in runs.items():
        for row in run.summary:
            if row["matches"] + row["findings"]:  # judged, not only unsupported or failed
                backend, loss = facts[row["api"]]
                ran[(loss, row["category"], row["dtype"])].add((env, backend))
    differing: dict[tuple, dict] = defaultdict(lambda: defaultdict(list))
    seen: dict[tuple, set] = defaultdict(set)  # key -> units with a record of it
    apis: dict[str, set] = defaultdict(set)  # case name -> APIs with a record of it
    categories_of: dict[tuple, str] = {}
    for env, run in runs.items():
        for f in run.findings:
            if is_harness_error(f):  # the harness failed: the unit neither agrees nor differs
                continue
            loss = facts[f.api][1]
            key = _case_key(f, loss)
            unit = (env, f.backend)
            seen[key].add(unit)
            apis[key[1]].add(f.api)
            categories_of[key] = f.category
            if is_finding(f) and f.outcome != "unsupported":
                differing[key][unit].append(f)
    lone = []
    for key, units in differing.items():
        if len(units) != 1:
            continue
        (unit, found), = units.items()
        loss, case, check, _wrt, dtype, _api = key
        peers = set(seen[key])
        if len(apis[case]) >= 2:
            peers |= ran[(loss, categories_of[key], dtype)]
        peers.discard(unit)
        if not peers:
            continue
        lone.append(LoneCase(unit[0], unit[1], loss, case, check, dtype, found,
                             sorted(f"{b} ({e})" for e, b in peers)))
    return lone


def harness_errors(run: Run) -> int:
    """Cases of ``run`` the harness failed on: as its summary counts them, or as many as it
    keeps records of, whichever is more."""
    counted = sum(row.get("harness_errors", 0) for row in run.summary)
    return max(counted, sum(1 for f in run.findings if is_harness_error(f)))


def build_model(results: Results) -> Model:
    runs = results.runs
    envs = list(runs)
    facts = api_facts(runs)
    lone = lone_cases(runs, facts)
    grouped: dict[tuple[str, str], list[LoneCase]] = defaultdict(list)
    for case in lone:
        grouped[(case.env, case.backend)].append(case)
    for cases in grouped.values():
        cases.sort(key=lambda c: (SEVERITY.index(c.outcome), c.category, c.case, c.dtype))
    lone_groups = sorted(grouped.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    lone_ids = {(c.env, f.id) for c in lone for f in c.findings}

    totals = {}
    for env, run in runs.items():
        differing = [f for f in run.findings if is_finding(f)]
        totals[env] = {
            "cases": sum(r["cases"] for r in run.summary),
            "findings": len(differing),
            "unregistered": sum(1 for f in differing
                                if f.deviation is None and f.outcome != "unsupported"),
            "records": len(run.findings),
            "harness_errors": harness_errors(run),
        }
    return Model(envs, lone_groups, lone_ids, totals, facts)

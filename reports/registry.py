"""The deviation registry as the report lists it: by library, each entry once with the envs
whose runs carry it (the Keras entries come with four envs), its matches, staleness and failed
claims per env.

An entry is *stale* in a run where its match selected no finding at all; its *claim failed*
where its match selected findings but what it claims the library does (``actual``) did not
hold on some of them, which it then left unexplained (``failed_claims`` of the results file:
the findings selected, those it failed on, and why, on the first of them).

The page's script reads each env's entries from these rows (its drill-down and the upstream
issue text name an entry's kind, reason, link and claim), so the page holds each entry once.

An entry's library is the backend of its APIs as the findings name them (``Model.facts``); an
entry whose APIs no finding names is listed under the env whose file carries it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field

from reports.load import Results


@dataclass
class Entry:
    ident: str
    entry: dict  # kind, apis, reason, link (and actual) as the results file has it
    matches: dict[str, int | None] = field(default_factory=dict)  # env -> matches (None: unknown)
    stale: list[str] = field(default_factory=list)  # envs where it matched nothing
    #: env -> {"selected", "failed", "why"} where its claim failed
    failed: dict[str, dict] = field(default_factory=dict)

    @property
    def envs(self) -> list[str]:
        return list(self.matches)


@dataclass
class LibraryRegistry:
    library: str
    entries: list[Entry]

    @property
    def stale(self) -> int:
        return sum(1 for e in self.entries if e.stale)

    @property
    def failed_claims(self) -> int:
        return sum(1 for e in self.entries if e.failed)


def _key(ident: str, entry: dict) -> tuple:
    """One row per entry: the same id with the same content (its claim included) in several
    envs is one entry."""
    return (ident, entry["kind"], entry["reason"], entry["link"], tuple(entry["apis"]),
            json.dumps(entry.get("actual"), sort_keys=True))


def _add(row: Entry, env: str, matches: int | None, stale: bool, failed: dict | None) -> None:
    """What ``env``'s run says of the entry ``row``."""
    row.matches[env] = matches
    if stale:
        row.stale.append(env)
    if failed:
        row.failed[env] = failed


def by_library(results: Results, facts: dict[str, tuple[str, str]]) -> list[LibraryRegistry]:
    rows: dict[str, dict[tuple, Entry]] = defaultdict(dict)
    for env, run in results.runs.items():
        stale = set(run.document["stale_deviations"])
        failed = run.document.get("failed_claims", {})
        for ident, entry in run.deviations.items():
            backends = sorted({facts[a][0] for a in entry["apis"] if a in facts} - {"?"})
            library = backends[0] if backends else f"(env {env})"
            row = rows[library].setdefault(_key(ident, entry), Entry(ident, entry))
            _add(row, env, entry.get("matches"), ident in stale, failed.get(ident))
        for ident in sorted((stale | set(failed)) - set(run.deviations)):  # not in the file
            row = rows[f"(env {env})"].setdefault((ident,), Entry(ident, {}))
            _add(row, env, None, ident in stale, failed.get(ident))
    return [LibraryRegistry(library, sorted(entries.values(), key=lambda e: e.ident))
            for library, entries in sorted(rows.items())]

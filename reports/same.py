"""Are two runs the same run? For a change that must not change behaviour (a refactoring):

    python -m reports same OLD_DIR NEW_DIR

compares, env by env, every finding record (by id: its outcome and its registry entry), every
summary row (by API, category and dtype: cases judged, matches, findings, registered, not run)
and every row of the accuracy tables (by API, mode, dtype, check, target and method: whether it
was measured, and over how many inputs), and prints each difference, one line each; exit
status 1 when there is any, 0 when the two runs are the same. Unlike the page's diff
(``--baseline``), a match that appeared or went away, and an env that one run lacks, are
differences too. Errors, observed values and worst-case errors are not compared: they are the
libraries' numbers, and the same calls give the same ones.
"""

from __future__ import annotations

from pathlib import Path

from reports.accuracy import key_of
from reports.load import load_results

#: the counts of a summary row that say what was judged
ROW_COUNTS = ("cases", "matches", "findings", "registered", "unsupported", "over_budget",
              "harness_errors")


def differences(old_dir: Path, new_dir: Path) -> list[str]:
    """Every difference between the runs in the two folders, one sentence each."""
    old, new = load_results(old_dir), load_results(new_dir)
    found = [f"{where}: {problem}" for where, results in (("old", old), ("new", new))
             for problem in results.problems]
    for env in sorted(set(old.runs) | set(new.runs)):
        if env not in new.runs or env not in old.runs:
            found.append(f"{env}: only in the {'old' if env in old.runs else 'new'} run")
            continue
        found += [f"{env}: {line}" for line in _findings(old.runs[env], new.runs[env])]
        found += [f"{env}: {line}" for line in _rows(old.runs[env], new.runs[env])]
        found += [f"{env}: {line}" for line in _accuracy(old.runs[env], new.runs[env])]
    return found


def _findings(old, new) -> list[str]:
    before = {f.id: f for f in old.findings}
    after = {f.id: f for f in new.findings}
    lines = []
    for ident in sorted(set(before) | set(after)):
        a, b = before.get(ident), after.get(ident)
        if a is None or b is None:
            f = a or b
            lines.append(f"finding {ident} ({f.api}, {f.case}, {f.dtype}, {f.check}) only in "
                         f"the {'old' if b is None else 'new'} run")
        elif (a.outcome, a.deviation) != (b.outcome, b.deviation):
            lines.append(f"finding {ident} ({a.api}, {a.case}, {a.dtype}, {a.check}): "
                         f"{a.outcome} / {a.deviation} became {b.outcome} / {b.deviation}")
    return lines


def _rows(old, new) -> list[str]:
    def rows(run):
        return {(r["api"], r["category"], r["dtype"]): r for r in run.summary}

    before, after = rows(old), rows(new)
    lines = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key, {}), after.get(key, {})
        changed = {name: (a.get(name, 0), b.get(name, 0)) for name in ROW_COUNTS
                   if a.get(name, 0) != b.get(name, 0)}
        if changed:
            lines.append(f"summary {' / '.join(key)}: " + ", ".join(
                f"{name} {x} -> {y}" for name, (x, y) in changed.items()))
    return lines


def _accuracy(old, new) -> list[str]:
    def rows(run):
        return {key_of(r): r for r in run.document.get("accuracy") or ()}

    before, after = rows(old), rows(new)
    lines = []
    for key in sorted(set(before) | set(after)):
        a, b = before.get(key), after.get(key)
        what = f"accuracy {' / '.join(key)}"
        if a is None or b is None:
            lines.append(f"{what} only in the {'old' if b is None else 'new'} run")
        elif (a["outcome"], a["inputs"]) != (b["outcome"], b["inputs"]):
            lines.append(f"{what}: {a['outcome']} over {a['inputs']} inputs became "
                         f"{b['outcome']} over {b['inputs']}")
    return lines

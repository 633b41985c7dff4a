"""Record what the suite observed, and turn the journals of a run into the results file.

During a run each process journals (``conformance.results.Journal``):

- ``environment``: library versions, platform, seed, profile (once, by the controller);
- ``warning``: what a reader of the run must know (a registry written for another version);
- ``unavailable``: an adapter that could not run here, and why;
- ``tally``: one line per case (api, category, dtype, outcome, registered, errors, and the
  case's id), from which the summary is computed;
- ``finding``: the full record of every case that did not match (and of stability sweep
  points, which the report plots), with its reproducer;
- ``accuracy``: one measurement of the accuracy tables (``conformance.accuracy``).

``merge`` reads the journals and writes ``reports/results/<env>.json`` atomically, then removes
the journals. A case is counted once however often it ran: hypothesis runs a failing example
again to report it, and both runs journal it under the same id.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from conformance import results
from conformance.judge import Verdict, ulp_errors

_BIN_EDGES = [0.5 * 2.0**k for k in range(0, 22)]  # 0.5, 1, 2, ..., 2**20
_LARGE_MATCH = 10_000  # input elements above which a match keeps only its worst element


def ulp_bin(ulps: float) -> str:
    if math.isnan(ulps):
        return "nonfinite"
    if ulps == 0:
        return "0"
    for edge in _BIN_EDGES:
        if ulps <= edge:
            return f"<={edge:g}" if edge < 2**10 else f"<=2^{int(math.log2(edge))}"
    return ">2^20"


def finding_id(api: str, category: str, check: str, wrt, dtype: str, case_name: str,
               case) -> str:
    """Stable across runs with the same seed: a digest of what was asked, not of the answer."""
    digest = hashlib.sha256()
    for part in (api, category, check, str(wrt), dtype, case_name, case.loss,
                 json.dumps(results.encode(dict(case.options)), sort_keys=True)):
        digest.update(part.encode() + b"\0")
    for name in sorted(case.inputs):
        array = np.ascontiguousarray(case.inputs[name])
        digest.update(name.encode() + str(array.dtype).encode() + str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()[:16]


class Recorder:
    def __init__(self, env: str, worker: str, directory: Path = results.RESULTS_DIR):
        self.env = env
        self.journal = results.Journal(env, worker, directory)

    def environment(self, record: dict) -> None:
        self.journal.append("environment", record)

    def unavailable(self, adapter: str, reason: str) -> None:
        self.journal.append("unavailable", {"adapter": adapter, "reason": reason})

    def warning(self, text: str) -> None:
        self.journal.append("warning", {"text": text})

    def unsupported(self, api: str, category: str, dtype: str, key: str | None = None) -> None:
        """A case the API cannot express; ``key`` names it (a finding id), else every call
        for this API, category and dtype is one case (a dtype the API does not offer)."""
        self._not_run(api, category, dtype, "unsupported", key)

    def over_budget(self, api: str, category: str, dtype: str, key: str | None = None) -> None:
        """A drawn case not run on a compiled binding, past the ci profile's compile budget
        (``conformance.budget``): counted, so a summary row says what its cases leave out."""
        self._not_run(api, category, dtype, "over_budget", key)

    def _not_run(self, api: str, category: str, dtype: str, outcome: str,
                 key: str | None) -> None:
        self.journal.append("tally", {"api": api, "category": category, "dtype": dtype,
                                      "outcome": outcome, "registered": False,
                                      "ulps": [], "bound_ratio": None,
                                      "id": key or f"{api}|{category}|{dtype}|{outcome}"})

    def accuracy(self, record: dict) -> None:
        """One row of the accuracy tables: a measurement, not a verdict."""
        self.journal.append("accuracy", record)

    def count(self, api: str, category: str, dtype: str, verdict: Verdict, key: str) -> None:
        """A judged case counted in its summary row but not kept as a finding (a match whose
        record would tell a reader nothing: two paths with the same status)."""
        self.journal.append("tally", {"api": api, "category": category, "dtype": dtype,
                                      "outcome": verdict.outcome, "registered": False,
                                      "ulps": [], "bound_ratio": None, "id": key})

    def record(self, *, binding, observation, case, case_name: str, category: str,
               check: str, verdict: Verdict, deviation, magnitude: float | None = None,
               paths: list | None = None, failed_claims: list | None = None) -> None:
        errors = ulp_errors(verdict, case.dtype)
        ratio = (verdict.error or {}).get("bound_ratio")
        elements = (verdict.error or {}).get("componentwise")
        ident = finding_id(binding.api, category, check, observation.wrt, case.dtype,
                           case_name, case)
        self.journal.append("tally", {
            "api": binding.api, "category": category, "dtype": case.dtype,
            "outcome": verdict.outcome, "registered": deviation is not None,
            "ulps": [float(e) for e in errors], "bound_ratio": ratio, "id": ident,
            **({"componentwise": elements} if elements else {}),
        })
        lost_elements = bool(elements and (elements["zero"] or elements["sign"]))
        if verdict.outcome == "match" and magnitude is None and case_name.startswith("draw:") \
                and not lost_elements:
            return  # drawn matches are counted only (but one with an element that came back 0
            # or with the wrong sign is kept, to show its input); named cases are kept, so the
            # report can tell which libraries agree on the same inputs
        inputs, expected, observed = observation.fed or dict(case.inputs), verdict.expected, \
            verdict.observed
        reproducer = observation.reproducer
        size = sum(np.size(v) for v in inputs.values())
        if verdict.outcome == "match" and size > _LARGE_MATCH:
            # a match of a large case is kept for the curves and the agreement view only: its
            # worst element, not megabytes of literals nobody needs to reproduce
            index = tuple((verdict.error or {}).get("index") or ())
            inputs = {}
            expected, observed = (np.asarray(expected)[index] if np.ndim(expected) else expected,
                                  np.asarray(observed)[index] if np.ndim(observed) else observed)
            reproducer = f"# a match over {size} input elements: inputs not kept\n"
        finding = results.Finding(
            id=ident,
            case=case_name,
            backend=observation.library,
            backend_version=observation.version,
            api=binding.api,
            loss=binding.loss,
            category=category,
            check=check,
            wrt=observation.wrt,
            dtype=case.dtype,
            options={**dict(case.options), **dict(binding.fixed_options)},
            inputs=inputs,
            expected=expected,
            observed=observed,
            outcome=verdict.outcome,
            error=verdict.error,
            deviation=None if deviation is None else deviation.id,
            reproducer=reproducer,
            magnitude=magnitude,
            paths=paths,
            failed_claims=failed_claims or None,
        )
        self.journal.append("finding", finding.to_json())

    def close(self) -> None:
        self.journal.close()


def merge(env: str, registries: dict, directory: Path = results.RESULTS_DIR) -> dict:
    """Build the results document of ``env`` from its journals (see the module docstring),
    write it, and remove the journals."""
    records = results.read_journals(env, directory)
    environment = next((r for r in records if r["kind"] == "environment"), None) or {
        "started": results.now(), "libraries": {}, "python": "", "platform": "",
        "seed": "", "hypothesis_profile": ""}
    environment = {k: v for k, v in environment.items() if k != "kind"}
    environment["finished"] = results.now()
    unavailable = {r["adapter"]: r["reason"] for r in records if r["kind"] == "unavailable"}
    warnings = list(dict.fromkeys(r["text"] for r in records if r["kind"] == "warning"))
    # a case journalled twice (hypothesis runs a failing example again) is counted once: the
    # last record of each id stands
    findings = list({r["id"]: results.Finding.from_json(
        {k: v for k, v in r.items() if k != "kind"}) for r in records
        if r["kind"] == "finding"}.values())
    tallies = list({r.get("id") or id(r): r for r in records if r["kind"] == "tally"}.values())
    accuracy = [{k: v for k, v in r.items() if k != "kind"} for r in records
                if r["kind"] == "accuracy"]
    deviations, stale, failed_claims = _registry_verdicts(registries, findings)
    document = {
        "schema_version": results.SCHEMA_VERSION,
        "env": env,
        "environment": results.encode(environment),
        "unavailable": unavailable,
        "summary": _summary(tallies),
        "findings": [f.to_json() for f in findings],
        "deviations": deviations,
        "stale_deviations": stale,
        "failed_claims": failed_claims,
        "warnings": warnings,
    }
    if accuracy:
        document["accuracy"] = sorted(accuracy, key=_accuracy_order)
    results.validate(document)
    results.write_atomically(directory / f"{env}.json", document)
    results.remove_journals(env, directory)
    return document


def _registry_verdicts(registries: dict, findings: list) -> tuple[dict, list, dict]:
    """Each registry entry as the results describe it (with the findings it explained), the
    stale entries (their match selected no finding), and the entries whose failing claim
    mattered: {id: {"selected", "failed", "why"}} for an entry that explained nothing its match
    selected, or whose claim failed on a finding no entry explained. (An entry whose claim
    fails on a finding a later entry explains is a registry written in layers: not listed.)"""
    explained, selected, failed = Counter(), Counter(), Counter()
    why: dict[str, str] = {}
    left_unexplained: set[str] = set()
    for f in findings:
        if f.deviation:
            explained[f.deviation] += 1
            selected[f.deviation] += 1
        for claim in f.failed_claims or ():
            selected[claim["id"]] += 1
            failed[claim["id"]] += 1
            why.setdefault(claim["id"], claim["why"])
            if f.deviation is None:
                left_unexplained.add(claim["id"])
    deviations, stale = {}, []
    for registry in registries.values():
        for entry in registry.entries:
            entry.matches = explained[entry.id]
            deviations[entry.id] = results.encode(entry.describe())
            if not selected[entry.id]:
                stale.append(entry.id)
    failed_claims = {ident: {"selected": selected[ident], "failed": count, "why": why[ident]}
                     for ident, count in failed.items()
                     if not explained[ident] or ident in left_unexplained}
    return deviations, stale, failed_claims


def _accuracy_order(record: dict) -> tuple:
    return (record["loss"], record["api"], record["method"], record["dtype"], record["check"],
            record["target"])


def _summary(tallies) -> list[dict]:
    rows: dict[tuple, dict] = {}
    for t in tallies:
        key = (t["api"], t["category"], t["dtype"])
        row = rows.setdefault(key, {
            "api": key[0], "category": key[1], "dtype": key[2], "cases": 0, "matches": 0,
            "findings": 0, "registered": 0, "unsupported": 0, "over_budget": 0,
            "harness_errors": 0, "worst_ulp": 0.0,
            "worst_bound_ratio": 0.0, "ulp_histogram": defaultdict(int)})
        if t["outcome"] in ("unsupported", "over_budget"):
            row[t["outcome"]] += 1
            continue
        if t["outcome"] == "harness-error":  # no verdict: not a case judged
            row["harness_errors"] += 1
            continue
        row["cases"] += 1
        if t["outcome"] == "match":
            row["matches"] += 1
        else:
            row["findings"] += 1
            row["registered"] += bool(t["registered"])
        for u in t["ulps"]:
            u = float(u)
            row["ulp_histogram"][ulp_bin(u)] += 1
            row["worst_ulp"] = max(row["worst_ulp"], u) if not math.isnan(u) else math.inf
        if t.get("componentwise"):
            _add_componentwise(row, t["componentwise"], t["id"])
        ratio = t["bound_ratio"]
        if ratio is not None:
            ratio = float(ratio)
            row["worst_bound_ratio"] = (max(row["worst_bound_ratio"], ratio)
                                        if not math.isnan(ratio) else math.inf)
        elif t["outcome"] not in ("match",):
            row["worst_bound_ratio"] = math.inf
    return [results.encode({**row, "ulp_histogram": dict(row["ulp_histogram"])})
            for row in rows.values()]


def _add_componentwise(row: dict, elements: dict, case: str) -> None:
    """Fold one derivative case's componentwise record into its summary row."""
    totals = row.setdefault("componentwise", {"worst_ulp": 0.0, "case": None, "zero": 0,
                                              "sign": 0})
    totals["zero"] += elements["zero"]
    totals["sign"] += elements["sign"]
    ulps = float(elements["ulp"])
    if ulps > totals["worst_ulp"] or totals["case"] is None:
        totals["worst_ulp"], totals["case"] = max(ulps, totals["worst_ulp"]), case

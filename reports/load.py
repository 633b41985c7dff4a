"""Reading results files: every file that can be read is used, every one that cannot is a
``Problem`` naming the file and what is wrong with it, and nothing here raises for bad input.

A results file is ``<env>.json`` in the results folder (``conformance/results.schema.json``).
Files and folders whose names start with "." (the suite's journals, temporary files) are not
results; a journal folder ``.journal-<env>`` without its ``<env>.json`` says that the run of
``env`` died before it wrote its results, and the report says so.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from conformance import results as results_format
from conformance.results import SCHEMA_VERSION, Finding

#: schema problems listed per file; the rest are counted
MAX_SCHEMA_PROBLEMS = 3


@dataclass
class Run:
    """One results file that was read and is valid; ``findings`` are its findings as
    ``Finding`` records."""

    path: Path
    document: dict
    findings: list[Finding] = field(init=False, repr=False)

    def __post_init__(self):
        # the document is valid (read_run checks it first), so every record is a finding
        self.findings = [Finding.from_json(f) for f in self.document["findings"]]

    @property
    def env(self) -> str:
        return self.document["env"]

    @property
    def environment(self) -> dict:
        return self.document["environment"]

    @property
    def summary(self) -> list[dict]:
        return self.document["summary"]

    @property
    def deviations(self) -> dict[str, dict]:
        return self.document["deviations"]


@dataclass(frozen=True)
class Problem:
    """A results file that could not be used, and why."""

    path: Path
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass
class Results:
    """What a results folder holds: the runs by env, the problems, and the envs that are
    missing (env -> why), in the order the report shows them."""

    directory: Path
    runs: dict[str, Run] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    missing: dict[str, str] = field(default_factory=dict)


class ResultsError(Exception):
    """A results file is unreadable or invalid; the message says why (without the path)."""


def _reject_constant(name: str):
    raise ResultsError(
        f"holds the non-standard JSON constant {name}; results write non-finite numbers as the "
        'strings "nan", "inf" and "-inf"'
    )


def _validator():
    return results_format.validator()


def _where(path) -> str:
    """A JSON path as a reader writes it: findings[17].error.ulp."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the top level"


def schema_problems(document) -> list[str]:
    """What is wrong with ``document`` against the results schema; empty when it is valid."""
    if isinstance(document, dict) and document.get("schema_version", SCHEMA_VERSION) \
            != SCHEMA_VERSION:
        return [f"schema_version is {document['schema_version']!r}; this report reads version "
                f"{SCHEMA_VERSION}"]
    validator = _validator()
    if validator.is_valid(document):
        return []
    problems = []
    for error in validator.iter_errors(document):
        message = error.message
        if len(message) > 300:
            message = message[:300] + "..."
        where = getattr(error, "instance_path", None) or getattr(error, "absolute_path", ())
        problems.append(f"at {_where(where)}: {message}")
    return problems


def read_run(path: Path) -> Run:
    """The run in ``path``; raises ResultsError saying what is wrong with the file."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ResultsError(f"cannot be read: {exc.strerror or exc}") from exc
    if not data.strip():
        raise ResultsError("is empty (the run wrote nothing; did it die at the start?)")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsError(f"is not UTF-8 text (byte {exc.start}): corrupt?") from exc
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        # the end of the text, or a string that runs to it (a JSON string holds no newline)
        if exc.pos >= len(text.rstrip()) or (exc.msg.startswith("Unterminated string")
                                             and "\n" not in text[exc.pos:].rstrip()):
            raise ResultsError(f"ends early, at line {exc.lineno} column {exc.colno}: the file "
                               f"is truncated ({exc.msg})") from exc
        raise ResultsError(f"is not valid JSON: {exc.msg} at line {exc.lineno} column "
                           f"{exc.colno}") from exc
    if not isinstance(document, dict):
        raise ResultsError(f"holds a JSON {type(document).__name__}, not a results object")
    problems = schema_problems(document)
    if problems:
        shown = "; ".join(problems[:MAX_SCHEMA_PROBLEMS])
        more = len(problems) - MAX_SCHEMA_PROBLEMS
        raise ResultsError("does not match the results schema: " + shown
                           + (f" (and {more} more)" if more > 0 else ""))
    return Run(path, document)


def _journal_records(folder: Path) -> int:
    count = 0
    for journal in folder.glob("*.jsonl"):
        try:
            with journal.open("rb") as f:
                count += sum(1 for _ in f)
        except OSError:
            continue
    return count


def load_results(directory: Path, expected: tuple[str, ...] = ()) -> Results:
    """Read every ``*.json`` in ``directory``; ``expected`` envs without a usable file are
    listed as missing, with the reason when one is known."""
    directory = Path(directory)
    results = Results(directory)
    if not directory.is_dir():
        results.problems.append(Problem(directory, "the results folder does not exist (no "
                                                   "conformance run has written results here)"))
        paths = []
    else:
        paths = sorted(p for p in directory.glob("*.json") if not p.name.startswith("."))
    unreadable: dict[str, Path] = {}
    for path in paths:
        try:
            run = read_run(path)
        except ResultsError as exc:
            results.problems.append(Problem(path, str(exc)))
            unreadable[path.stem] = path
            continue
        if run.env in results.runs:
            other = results.runs[run.env].path.name
            results.problems.append(Problem(path, f"env {run.env!r} is also the env of {other}, "
                                                  "which is shown; this file is not"))
            continue
        results.runs[run.env] = run
    journals = {p.name.removeprefix(".journal-"): p for p in directory.glob(".journal-*")
                if p.is_dir()} if directory.is_dir() else {}
    for env in (*expected, *sorted(journals)):
        if env in results.runs or env in results.missing:
            continue
        if env in unreadable:
            results.missing[env] = f"{unreadable[env].name} could not be read (see the errors)"
        elif env in journals:
            results.missing[env] = (f"no {env}.json, but a journal with "
                                    f"{_journal_records(journals[env])} records: the run died "
                                    "before it wrote its results")
        else:
            results.missing[env] = f"no {env}.json: the env did not run, or failed before the " \
                                   "suite started"
    return results


def number(value) -> float:
    """A results number as a float: "nan", "inf" and "-inf" included; None (no error) is nan."""
    if value is None:
        return math.nan
    return float(value)

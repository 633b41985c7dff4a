"""The results format: reports/results/<env>.json (schema: results.schema.json beside this file).

Writing is crash-safe. Every finding and every summary update is appended, as one JSON line,
to a journal of the process that made it (pytest-xdist workers each have their own), flushed
at once; the results file itself is only ever replaced whole (write, fsync, rename). A run that
dies leaves its journals, and ``merge`` turns whatever they hold into a valid results file.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import numpy as np

SCHEMA_PATH = Path(__file__).with_name("results.schema.json")
SCHEMA_VERSION = 1
RESULTS_DIR = Path(os.environ.get("XENT_RESULTS_DIR", "reports/results"))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def encode(value):
    """JSON-ready: arrays to nested lists, non-finite floats to "nan", "inf", "-inf"."""
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    if isinstance(value, np.ndarray):
        return encode(value.tolist())
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


def decode_number(value) -> float:
    """The inverse of ``encode`` for one number."""
    return float(value)  # float("nan"), float("inf") and float("-inf") read the strings


@cache
def schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


@cache
def validator():
    """A compiled validator of the schema: jsonschema-rs (about 1000x faster on 50 000
    findings) when installed, else the pure-Python jsonschema. Both read the same file."""
    try:
        import jsonschema_rs
    except ImportError:
        import jsonschema

        return jsonschema.Draft202012Validator(schema(),
                                               format_checker=jsonschema.FormatChecker())
    return jsonschema_rs.validator_for(schema(), validate_formats=True)


def validate(document: dict) -> None:
    """Raise ValueError naming the first problems if ``document`` is not a valid results file."""
    if validator().is_valid(document):
        return
    problems = [error.message[:300] for error, _ in zip(validator().iter_errors(document),
                                                        range(5), strict=False)]
    raise ValueError("results do not match the schema: " + "; ".join(problems))


def write_atomically(path: Path, document: dict) -> None:
    """Replace ``path`` by ``document`` in one step: readers see the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp", delete=False) as tmp:
        json.dump(document, tmp, indent=1, allow_nan=False)
        tmp.flush()
        os.fsync(tmp.fileno())
    os.replace(tmp.name, path)


class Journal:
    """Append-only record of one process: one JSON object per line, flushed as written."""

    def __init__(self, env: str, worker: str, directory: Path = RESULTS_DIR):
        self.path = directory / f".journal-{env}" / f"{worker}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, kind: str, record: dict) -> None:
        line = json.dumps({"kind": kind, **encode(record)}, allow_nan=False)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def read_journals(env: str, directory: Path = RESULTS_DIR) -> list[dict]:
    """Every record of every journal of ``env``; a torn last line (a crash mid-write) is skipped."""
    records = []
    for path in sorted((directory / f".journal-{env}").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records

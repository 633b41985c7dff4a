"""The results format: reports/results/<env>.json (schema: results.schema.json beside this file).

Writing is crash-safe. Every finding and every summary update is appended, as one JSON line,
to a journal of the process that made it (pytest-xdist workers each have their own), flushed
at once; the results file itself is only ever replaced whole (write, fsync, rename). A run that
dies leaves its journals, and ``merge`` turns whatever they hold into a valid results file.

A finding is a ``Finding``, which writes and reads its record (``to_json``, ``from_json``);
the report reads results files through this module alone.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

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


@dataclass(frozen=True, kw_only=True)
class Finding:
    """One record of a results file's ``findings``: a case that did not match the oracle, or one
    kept although it matched (a named case, so the report can tell which libraries agree on the
    same inputs; a stability sweep point, which the report plots).

    The value fields (``options``, ``inputs``, ``expected``, ``observed``, ``error``,
    ``magnitude``) hold results numbers: as recorded (arrays, numpy scalars, non-finite floats)
    or as read from a file (nested lists, with "nan", "inf" and "-inf" as strings);
    ``to_json`` writes either the same way. The schema (results.schema.json) states the allowed
    values; the fields are in the order a results file lists them.
    """

    #: stable id of (api, category, check, wrt, dtype, case, inputs): the same in every run
    #: with the same seed (``conformance.recorder.finding_id``)
    id: str
    #: the case's name: a named case ("log-of-zero", "reduction-mean"), or "draw:..." for a
    #: hypothesis draw; None (not written) in files that do not name their cases
    case: str | None = None
    #: the library the API belongs to ("torch", "keras") and its version
    backend: str
    backend_version: str
    #: the public API called, as a user writes it ("torch.nn.functional.cross_entropy")
    api: str
    #: the oracle loss the API computes; None (not written) where not recorded
    loss: str | None = None
    #: values, gradients, derivatives, reductions, stability, edge_cases or equivalence
    category: str
    #: "value", "gradient", "jvp" (forward mode) or "hvp" (Hessian-vector product)
    check: str
    #: for a derivative: "input" or "target"; None for a value
    wrt: str | None = None
    #: the dtype under test: float16, bfloat16, float32 or float64
    dtype: str
    #: the oracle keywords of the case, the binding's fixed options included
    options: Mapping[str, Any]
    #: name -> what the library was fed (input, target, weight, ...); empty for a match over
    #: more than 10 000 input elements, which keeps only its worst element
    inputs: Mapping[str, Any]
    #: the oracle's value, or "invalid" where it rejects the inputs; in the equivalence
    #: category the other path's result, which may be {"error": type, "message": text}
    expected: Any
    #: the library's value, or {"error": type, "message": text} (Timeout, Crash included)
    observed: Any
    #: match, deviates, nonfinite, raises, accepts_invalid, status (one path raises where its
    #: pair returns, ``conformance.status``), unsupported, crash or timeout; or
    #: harness-error, where the harness (not the library) failed: never a match, never explained
    outcome: str
    #: for a numeric comparison, {"abs", "rel", "ulp", "bound", "bound_ratio", "index"}: the
    #: worst element's error (ulp in units of the dtype's ulp at the expected value), the
    #: allowed bound in ulps, ulp / bound (above 1 is a difference) and the element's index;
    #: else None
    error: Mapping[str, Any] | None
    #: id of the registry entry that explains the difference, or None
    deviation: str | None
    #: Python source that repeats the call
    reproducer: str
    #: stability sweeps only: the swept magnitude (largest |logit|, or the distance of p from 0
    #: or 1); None (not written) elsewhere
    magnitude: float | None = None
    #: equivalence only: both paths, each as {"api", "options", "observed", "oracle"} (what it
    #: returned or raised, and what the oracle says for its own case); None (not written)
    #: elsewhere
    paths: list | None = None
    #: an unexplained finding only: the registry entries whose match selected it but whose
    #: claim did not hold on it, each as {"id", "why"}; None (not written) elsewhere
    failed_claims: list | None = None

    def to_json(self) -> dict:
        """The record as a results file holds it (``encode``d). ``case``, ``loss``,
        ``magnitude`` and ``paths`` are left out when None, as the schema allows; ``wrt`` is
        always written."""
        record = {name: getattr(self, name) for name in _FINDING_FIELDS}
        for name in _OMITTED_WHEN_NONE:
            if record[name] is None:
                del record[name]
        return encode(record)

    @classmethod
    def from_json(cls, record: Mapping) -> Finding:
        """The finding a results file's record describes; the values are kept as read.

        Raises ValueError naming the record and its missing or unknown fields. The values are
        not checked: that is the schema's job (``validate``), done once per file.
        """
        if not isinstance(record, Mapping):
            raise ValueError(f"a finding is a JSON object, not {type(record).__name__}")
        keys = record.keys()
        if not (_REQUIRED_FINDING_FIELDS <= keys and keys <= _FINDING_FIELD_SET):
            problems = [f"{what} {', '.join(sorted(names))}" for what, names in
                        (("missing", _REQUIRED_FINDING_FIELDS - keys),
                         ("unknown field", keys - _FINDING_FIELD_SET)) if names]
            raise ValueError(f"finding {record.get('id', '(no id)')!r} does not fit the results "
                             f"format: {'; '.join(problems)}")
        # the report reads 50 000 of these: filling the instance's dict at once is 5x faster
        # than the frozen __init__ (one object.__setattr__ per field); absent optional fields
        # read their class default, None
        finding = object.__new__(cls)
        finding.__dict__.update(record)
        return finding


_FINDING_FIELDS = tuple(f.name for f in fields(Finding))  # in the order files list them
_FINDING_FIELD_SET = frozenset(_FINDING_FIELDS)
#: optional fields the recorder leaves out when they have no value (it always writes wrt)
_OMITTED_WHEN_NONE = ("case", "loss", "magnitude", "paths", "failed_claims")
_REQUIRED_FINDING_FIELDS = _FINDING_FIELD_SET - {*_OMITTED_WHEN_NONE, "wrt"}


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
    """Replace ``path`` by ``document`` in one step: readers see the old file or the new one.
    The file gets the mode any new file gets here (0644 under the usual umask), not the
    0600 of the temporary file it was written as."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".tmp", delete=False) as tmp:
        json.dump(document, tmp, indent=1, allow_nan=False)
        tmp.flush()
        os.fsync(tmp.fileno())
        os.fchmod(tmp.fileno(), 0o666 & ~_umask())
    os.replace(tmp.name, path)


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it
    os.umask(mask)
    return mask


class Journal:
    """Append-only record of one process: one JSON object per line, flushed as written."""

    def __init__(self, env: str, worker: str, directory: Path = RESULTS_DIR):
        self.path = journal_directory(env, directory) / f"{worker}.jsonl"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")

    def append(self, kind: str, record: dict) -> None:
        line = json.dumps({"kind": kind, **encode(record)}, allow_nan=False)
        self._file.write(line + "\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def journal_directory(env: str, directory: Path = RESULTS_DIR) -> Path:
    return directory / f".journal-{env}"


def remove_journals(env: str, directory: Path = RESULTS_DIR) -> None:
    """Remove the journals of ``env``: once its results file is written they hold nothing
    more (a folder left behind tells the report that a run died before it wrote its file)."""
    shutil.rmtree(journal_directory(env, directory), ignore_errors=True)


def read_journals(env: str, directory: Path = RESULTS_DIR) -> list[dict]:
    """Every record of every journal of ``env``; a torn last line (a crash mid-write) is skipped."""
    records = []
    for path in sorted(journal_directory(env, directory).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return records

"""What the page carries of the results files: their environments and findings, with every
array too big to read in a page (the 2 x 32 000 logits of the ``classes-32000`` case) replaced
by a summary, and the reproducers of those findings rewritten to load the array from the
results file instead of spelling it out.

Arrays of at most ``MAX_ELEMENTS`` elements stay as they are. A big array in the page is

    {"array": {"shape": [2, 32000], "size": 64000, "min": -13.1, "max": 14.2,
               "nonfinite": 0, "first": [0.0037, 0.896, ...], "file": "keras-torch.json"}}

(``min`` and ``max`` over the finite elements; ``first``: the first ``FIRST`` elements in row-major
order), which the page's script shows as a summary. The results don't yet carry a seeded generator
for such inputs, so the reproducer reads the array from the results file, which holds it in full.
"""

from __future__ import annotations

import json
import math
import re
from functools import cache
from pathlib import Path

import numpy as np

from conformance.results import schema
from reports.load import Run

#: arrays with more elements than this are summarised in the page (a 64 x 64 array stays)
MAX_ELEMENTS = 4096
#: elements of a big array shown in its summary
FIRST = 8
_BRACKET = re.compile(r"[\[\]]")
#: the fields of a finding that hold arrays (``inputs`` holds one per name)
VALUE_FIELDS = ("expected", "observed")


def size(value) -> int:
    """Elements of a nested list, from its first elements (numpy arrays are never ragged);
    0 for a number, a string or an error object."""
    if not isinstance(value, list):
        return 0
    count = 1
    while isinstance(value, list):
        count *= len(value)
        if not value:
            break
        value = value[0]
    return count


def shape(value) -> list[int]:
    dims = []
    while isinstance(value, list):
        dims.append(len(value))
        if not value:
            break
        value = value[0]
    return dims


def summary(value: list, file: str) -> dict:
    """The stand-in of a big array in the page (see the module docstring)."""
    # float() reads the results' "nan", "inf" and "-inf" strings too
    array = np.array(value, dtype=np.float64)
    finite = array[np.isfinite(array)]
    first = [float(v) if math.isfinite(v) else str(v) for v in array.ravel()[:FIRST]]
    return {"array": {
        "shape": list(array.shape), "size": int(array.size),
        "min": float(finite.min()) if finite.size else None,
        "max": float(finite.max()) if finite.size else None,
        "nonfinite": int(array.size - finite.size), "first": first, "file": file,
    }}


def is_big(record: dict) -> bool:
    return (any(size(v) > MAX_ELEMENTS for v in record["inputs"].values())
            or any(size(record[name]) > MAX_ELEMENTS for name in VALUE_FIELDS))


def _literal_span(line: str) -> tuple[int, int] | None:
    """Where the outermost list literal of ``name = lib.tensor([[...]], ...)`` starts and ends
    (the adapters write each input as one such line; brackets never occur inside numbers)."""
    depth = 0
    start = None
    for bracket in _BRACKET.finditer(line):  # a regex scan: the line can be 1 MB long
        if bracket.group() == "[":
            start = bracket.start() if start is None else start
            depth += 1
        else:
            depth -= 1
            if depth == 0:
                return start, bracket.end()
    return None


def _loader(path: Path, finding_id: str, names: list[str]) -> list[str]:
    described = ", ".join(names)
    return [
        f"# The page leaves out the big array{'s' if len(names) > 1 else ''} {described}: this "
        f"reads {'them' if len(names) > 1 else 'it'} from the results file",
        f"# (finding {finding_id}; change RESULTS if the file has moved).",
        "import json",
        f"RESULTS = {str(path)!r}",
        "def numbers(v):  # the results write non-finite numbers as \"nan\", \"inf\", \"-inf\"",
        "    return [numbers(x) for x in v] if isinstance(v, list) else "
        "float(v) if isinstance(v, str) else v",
        "with open(RESULTS, encoding='utf-8') as file:",
        f"    recorded = next(r for r in json.load(file)['findings'] if r['id'] == "
        f"{finding_id!r})['inputs']",
    ]


def reproducer(source: str, big: list[str], path: Path, finding_id: str) -> str:
    """``source`` with the literal of each input in ``big`` replaced by its value as read from
    the results file, wherever it is written (a reproducer running two paths writes it once
    per path). A line that does not have the expected form keeps its literal: a long
    reproducer is better than a wrong one."""
    lines = source.splitlines()
    replaced = []
    for k, line in enumerate(lines):
        match = re.match(r"(\w+) = ", line)
        if not match or match.group(1) not in big:
            continue
        span = _literal_span(line)
        if span is None or span[1] - span[0] < 2 * MAX_ELEMENTS:  # not the big literal
            continue
        name = match.group(1)
        lines[k] = f"{line[:span[0]]}numbers(recorded[{name!r}]){line[span[1]:]}"
        if name not in replaced:
            replaced.append(name)
    if not replaced:
        return source
    # after the environment lines (os.environ must be set before a library is imported)
    head = 0
    while head < len(lines) and (lines[head] == "import os" or lines[head].startswith("os.")):
        head += 1
    lines[head:head] = _loader(path, finding_id, replaced)
    return "\n".join(lines) + "\n"


def slim(record: dict, path: Path) -> dict:
    """A copy of the finding ``record`` with its big arrays summarised."""
    slimmed = dict(record)
    inputs = record["inputs"]
    big_inputs = [name for name, v in inputs.items() if size(v) > MAX_ELEMENTS]
    slimmed["inputs"] = {name: summary(v, path.name) if name in big_inputs else v
                         for name, v in inputs.items()}
    for name in VALUE_FIELDS:
        if size(record[name]) > MAX_ELEMENTS:
            slimmed[name] = summary(record[name], path.name)
    if big_inputs:
        slimmed["reproducer"] = reproducer(record["reproducer"], big_inputs, path, record["id"])
    return slimmed


def page_record(record: dict, path: Path) -> dict:
    """The finding ``record`` of the results file ``path`` as the page carries it: big arrays
    summarised. The terminal's issue text (``python -m reports issue``) is made from it too, so
    that it equals the page's."""
    return slim(record, path) if is_big(record) else record


def _allows_null(prop: dict) -> bool:
    types = prop.get("type", [])
    return None in prop.get("enum", []) or "null" in (types if isinstance(types, list)
                                                      else [types])


@cache
def finding_fields() -> tuple[str, ...]:
    return tuple(schema()["$defs"]["finding"]["properties"])


@cache
def optional_fields() -> tuple[str, ...]:
    """The fields a finding may leave out and never writes as null (the schema says so), so
    that a null in their column means "left out". (``wrt`` may be left out or null, which
    mean the same: its column keeps the null.)"""
    finding = schema()["$defs"]["finding"]
    return tuple(k for k, prop in finding["properties"].items()
                 if k not in finding["required"] and not _allows_null(prop))


def table(records: list[dict]) -> dict:
    """``records`` column by column: the fields in the schema's order, a list of values per
    field, a field a record leaves out null in its column (``optional_fields``). Side by side,
    the reproducers, ids and values of one kind compress better: a quarter fewer bytes than
    the same records one after the other."""
    present = set().union(*records)
    fields = [k for k in finding_fields() if k in present]
    fields += sorted(present - set(fields))  # a field the schema does not name: kept too
    # a row per record, transposed: map and zip do the 20 lookups a record in C (a comprehension
    # per field took twice the time at 50 000 findings)
    columns = zip(*[tuple(map(record.get, fields)) for record in records], strict=True)
    return {"count": len(records), "optional": list(optional_fields()),
            "columns": dict(zip(fields, map(list, columns), strict=True))}


def page_data(runs: dict[str, Run]) -> bytes:
    """The JSON the page's script reads: each env's environment (the issue text names its
    versions), and the findings of every env (``page_record``) in one ``table`` with an
    ``env`` column. The records come env by env, except that the records of one finding id
    (the same case of the same API: the Keras envs run the same cases) follow the first of
    them: side by side, their nearly equal reproducers and values compress to a quarter fewer
    bytes than env by env. What the page renders on the server stays out: the summary rows,
    and the registry entries, which the script reads from the registry section's rows."""
    by_id: dict[str, list[tuple[str, dict]]] = {}  # in the order of each id's first record
    for env, run in runs.items():
        for record in run.document["findings"]:
            by_id.setdefault(record["id"], []).append((env, record))
    found = [item for records in by_id.values() for item in records]
    findings = table([page_record(record, runs[env].path) for env, record in found])
    findings["columns"]["env"] = [env for env, _ in found]
    document = {"environments": {env: run.environment for env, run in runs.items()},
                "findings": findings}
    return json.dumps(document, separators=(",", ":"), allow_nan=False, ensure_ascii=False,
                      check_circular=False).encode("utf-8")

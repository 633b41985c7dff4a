"""The supported-API table, generated from the declarations (never typed by hand).

``python -m adapters`` prints it; ``python -m adapters --write README.md`` replaces the table
between the markers in the README, and a test fails when the README is out of date.
"""

from __future__ import annotations

import re

from adapters import ADAPTERS, load_adapter
from adapters.core import DTYPES

START, END = "<!-- supported-apis:start -->", "<!-- supported-apis:end -->"
_SHORT_DTYPES = {"float16": "f16", "bfloat16": "bf16", "float32": "f32", "float64": "f64"}


def table() -> str:
    rows = [
        "| API | env | oracle loss | targets | options | reductions | dtypes | gradients |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name in ADAPTERS:
        for b in load_adapter(name).bindings:
            targets = "probabilities" if b.loss.startswith("binary") else ", ".join(b.targets)
            options = ", ".join(sorted({*b.options, *b.operand_options})) or "-"
            fixed = ", ".join(f"{k}={v!r}" for k, v in b.fixed_options.items())
            if fixed:
                options += f" (always {fixed})"
            dtypes = " ".join(_SHORT_DTYPES[d] for d in DTYPES if d in b.dtypes)
            rows.append(
                f"| `{b.api}` | {name} | `{b.loss}` | {targets} | {options} | "
                f"{', '.join(b.reductions) or '-'} | {dtypes} | "
                f"{', '.join(b.gradients) or '-'} |"
            )
    return "\n".join(rows)


def replace_in(text: str) -> str:
    """``text`` with the table between the markers brought up to date."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"the markers {START} ... {END} are missing")
    return pattern.sub(lambda _: f"{START}\n{table()}\n{END}", text)

"""Registry entries as TOML text, for the tests that write a registry file
(``conformance.deviations``): one ``[[deviation]]`` table from keyword arguments."""

from __future__ import annotations

import json
from collections.abc import Sequence

#: where a bug of the tests' fake libraries stands upstream (a bug must say)
NOT_REPORTED = '{ status = "none found", checked = "2026-12-07" }'


def deviation(*, id: str, apis: Sequence[str], kind: str, reason: str, actual: str,
              match: str | None = None, link: str = "https://example.org",
              upstream: str | None = None) -> str:
    """The entry's TOML text; ``match``, ``actual`` and ``upstream`` are TOML inline tables
    written as text (no ``match`` line where it is None; ``upstream`` of a bug
    ``NOT_REPORTED`` unless given). Laid out as the tests' entries were written by hand:
    a newline first, then each line indented by four spaces (the registry writers dedent it;
    test_preflight's parametrize ids show it as it is). Entries join with ``+``."""
    lines = [
        "[[deviation]]",
        f"id = {_string(id)}",
        f"apis = {json.dumps(list(apis), ensure_ascii=False)}",
        f"kind = {_string(kind)}",
        *([] if upstream is None and kind != "bug"
          else [f"upstream = {upstream or NOT_REPORTED}"]),
        f"reason = {_string(reason)}",
        f"link = {_string(link)}",
        *([] if match is None else [f"match = {match}"]),
        f"actual = {actual}",
    ]
    return "".join(f"\n    {line}" for line in lines) + "\n    "


def _string(text: str) -> str:
    """A TOML basic string (a JSON string is one)."""
    return json.dumps(text, ensure_ascii=False)

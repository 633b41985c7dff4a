"""Which adapters a test run covers.

In a backend env, tox names its adapters (``XENT_REQUIRE_ADAPTERS``): the run covers exactly
those, and they must import (``tests/conftest.py`` stops the run once, with the reason, when
one does not). Elsewhere (the ``tests`` env, a developer's venv) it covers every adapter whose
library imports here. Tests parametrised by adapter or binding are generated for these only,
so a run does not list thousands of skipped tests of libraries it does not check.
"""

from __future__ import annotations

import os
from functools import cache

from adapters import ADAPTERS, load_adapter

#: the adapters the env requires, from tox; empty outside a backend env
REQUIRED = frozenset(a for a in os.environ.get("XENT_REQUIRE_ADAPTERS", "").split(",") if a)


@cache
def unavailable(name: str) -> str | None:
    """Why the adapter ``name`` cannot run here ("unavailable: ..."), or None."""
    return load_adapter(name).unavailable()


@cache
def tested() -> tuple[str, ...]:
    """The adapters this run covers, in ``ADAPTERS`` order."""
    if REQUIRED:
        return tuple(name for name in ADAPTERS if name in REQUIRED)
    return tuple(name for name in ADAPTERS if unavailable(name) is None)

"""The same draws however and wherever the suite runs.

The ``ci`` profile is derandomised: hypothesis seeds each test from a digest of the test, so a
run draws the cases of the last run. Two things hypothesis mixes in would make that depend on
how the suite was started, and on code that has nothing to do with the cases:

- the test's node id, which names the test file relative to pytest's root folder
  (``conformance/test_values.py`` in a checkout and under ``python -m conformance``, a longer
  path under ``pytest --pyargs conformance``): ``canonical_id`` is the id as a checkout names
  it, which the suite's conftest gives hypothesis in its place;
- the literal constants of every "local" module loaded (not under site-packages, not a test
  file), which hypothesis draws now and then instead of a random value: a checkout's
  ``adapters/`` and ``conformance/`` and a user's own adapter module count, an installed
  suite's do not, and editing any number anywhere in them changes the draws.
  ``without_local_constants`` switches the second off, so the cases come from the strategies
  alone. It replaces a private function of hypothesis (checked with hypothesis 6.155); where
  that function is gone it does nothing, and the draws are as hypothesis makes them.
"""

from __future__ import annotations

from pathlib import Path

#: the folder above the suite's package: a checkout's root, or site-packages
ROOT = Path(__file__).resolve().parent.parent


def canonical_id(path, nodeid: str) -> str:
    """The node id of the test in file ``path`` as a checkout's run writes it:
    ``conformance/<file>::<test>[<params>]``."""
    path = Path(str(path)).resolve()
    relative = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    return "::".join([relative.as_posix(), *nodeid.split("::")[1:]])


def without_local_constants() -> bool:
    """Keep hypothesis from drawing the constants of local modules; True when it took."""
    try:
        from hypothesis.internal.conjecture import providers
    except ImportError:  # pragma: no cover - another hypothesis layout
        return False
    if not (hasattr(providers, "_get_local_constants") and hasattr(providers, "Constants")):
        return False  # pragma: no cover - a hypothesis without the feature, or renamed
    empty = providers.Constants()
    providers._get_local_constants = lambda: empty
    cache = getattr(providers, "CONSTANTS_CACHE", None)
    if cache is not None and hasattr(cache, "cache"):
        cache.cache.clear()  # constants of modules scanned before
    return True

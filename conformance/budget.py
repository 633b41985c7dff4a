"""What the compiled twins meet in the ``ci`` profile, the one the tests run under a 3-minute
budget per env.

A compiled twin (``Binding.compiled``) compiles once per rank, dtype, option set, reduction and
gradient it meets: about 1 s per Inductor forward graph and 2 s with its backward on a quiet
2-core machine with an empty cache, against milliseconds for an eager call, and the ci suite
meets some 500 such signatures per framework. So in the ci profile a compiled twin meets

- drawn cases of at most ``COMPILED_CI_DRAWS`` shapes and option sets in each drawn test: the
  first ones drawn; a later draw of the same shapes and options, which compiles nothing new,
  is checked too;
- the reductions category in float64 only, the dtype of its named equivalence cases with the
  eager twin, so those compiles are shared;

and its edge cases and stability sweeps in full. Every other profile runs all its cases.
"""

from __future__ import annotations

import collections

from hypothesis import settings

from conformance.cases import COMPARED_REDUCTION_DTYPES

COMPILED_CI_DRAWS = 1
_DRAWN: dict[tuple, set[str]] = collections.defaultdict(set)


def ci_profile() -> bool:
    """The ``ci`` profile is in force: read when asked, since ``--hypothesis-profile`` loads a
    profile after the suite's modules are imported."""
    return settings.get_current_profile_name() == "ci"


def reduction_dtypes(binding, dtypes: tuple[str, ...]) -> tuple[str, ...]:
    """The dtypes of the reductions category (``dtypes``) that ``binding`` meets."""
    return COMPARED_REDUCTION_DTYPES if ci_profile() and binding.compiled else dtypes


def past_draw_budget(scope: tuple, case_name: str, *bindings) -> bool:
    """True for a drawn case (named "draw:...") that a test would call a compiled binding on
    past its ``COMPILED_CI_DRAWS`` in the ci profile. ``scope`` tells the test from the
    others; counted per process, as pytest-xdist runs each parametrised test in one worker."""
    if not (case_name.startswith("draw:") and any(b.compiled for b in bindings)
            and ci_profile()):
        return False
    seen = _DRAWN[scope]
    if case_name not in seen:
        if len(seen) >= COMPILED_CI_DRAWS:
            return True
        seen.add(case_name)
    return False

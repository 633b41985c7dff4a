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

The derivatives category (a jvp, an hvp and the reverse gradient for their status, per case)
would double a ci suite's time, so in the ``ci`` profile every binding meets

- drawn cases: the first ``DERIVATIVE_CI_DRAWS`` of each (binding, dtype);
- each named stability case in one of its binding's dtypes, chosen by the case's name (so every
  dtype meets about a quarter of the sweep, the same quarter in every run);
- the edge cases in full;

except a compiled twin, which meets its drawn cases only: each jvp and hvp of a compiled call
compiles (or, for torch, fails to trace) anew, and torch's twins alone took half the category's
time.
"""

from __future__ import annotations

import collections
import zlib

from hypothesis import settings

from conformance.cases import COMPARED_REDUCTION_DTYPES

COMPILED_CI_DRAWS = 1
DERIVATIVE_CI_DRAWS = 1
#: how many of a binding's dtypes meet a named stability case's derivatives in the ci profile
DERIVATIVE_CI_DTYPES = 1
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


def derivatives_of_named_cases(binding) -> bool:
    """Whether ``binding`` meets the derivatives category's named cases: not a compiled twin in
    the ci profile."""
    return not (ci_profile() and binding.compiled)


def derivative_dtypes(binding, case_name: str) -> tuple[str, ...]:
    """The dtypes in which a named stability case's derivatives run for ``binding``: all of
    them, or in the ci profile ``DERIVATIVE_CI_DTYPES`` chosen by the case's name (none for
    a compiled twin: ``derivatives_of_named_cases``)."""
    dtypes = tuple(binding.dtypes)
    if not derivatives_of_named_cases(binding):
        return ()
    if not ci_profile() or len(dtypes) <= DERIVATIVE_CI_DTYPES:
        return dtypes
    start = zlib.crc32(case_name.encode()) % len(dtypes)  # stable across processes and runs
    step = max(len(dtypes) // DERIVATIVE_CI_DTYPES, 1)
    return tuple(dtypes[(start + k * step) % len(dtypes)] for k in range(DERIVATIVE_CI_DTYPES))


def past_derivative_draws(binding, dtype: str, case_name: str) -> bool:
    """True for a drawn case past the derivatives category's ``DERIVATIVE_CI_DRAWS`` of
    (binding, dtype) in the ci profile (counted per process, as ``past_draw_budget``)."""
    if not ci_profile():
        return False
    seen = _DRAWN[("derivatives", binding.api, dtype)]
    if case_name not in seen:
        if len(seen) >= DERIVATIVE_CI_DRAWS:
            return True
        seen.add(case_name)
    return False

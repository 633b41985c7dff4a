"""equivalence: paths of one library that should agree do agree, on the suite's own cases.

The pairs, and how each is judged, explained and recorded, are ``conformance.equivalence``'s.
Each pair meets the cases the other categories run, not one fixed input:

- ``reductions``: every named reduction case (each reduction, class and sample weights,
  ignore_index, empty batches), in float64;
- ``stability``: the magnitude sweeps of the loss, in every dtype (not the 32 000 classes: a
  size, which the stability category measures);
- ``draws``: regular cases drawn with every option both sides offer, in any dtype both offer.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.binding import Case
from conformance._params import BINDINGS, describe
from conformance.cases import (
    COMPARED_REDUCTION_DTYPES,
    reduction_cases,
    regular_cases,
    stability_cases,
)
from conformance.conftest import available

# the tests call the machinery by the names it had when it lived here: hypothesis seeds each
# test from its source text, so that text stays as it was, and with it the cases drawn
from conformance.equivalence import compare as _compare
from conformance.equivalence import drawing as _drawing
from conformance.equivalence import pairs
from conformance.equivalence import restated as _restated
from conformance.recorder import finding_id
from reference.specs import DTYPES

#: the reduction cases test what a reduction and its options mean, the same in any dtype
REDUCTION_DTYPES = COMPARED_REDUCTION_DTYPES

PAIRS = [pytest.param(*pair, id=ident) for ident, pair in pairs(BINDINGS)]


def _named(loss: str, source: str) -> Iterator[tuple[str, Case]]:
    """(name, case) of the named cases of ``source`` ("reductions" or "stability")."""
    if source == "reductions":
        for dtype in REDUCTION_DTYPES:
            for named in reduction_cases(loss):
                yield named.name, dataclasses.replace(named.case, dtype=dtype)
    else:
        for dtype in DTYPES:
            for named in stability_cases(loss, dtype):
                if named.name.startswith("classes-"):
                    continue  # a size, not a magnitude: the stability category has it
                yield named.name, named.case


@pytest.mark.parametrize("source", ["reductions", "stability"])
@pytest.mark.parametrize(("name1", "first", "name2", "second"), PAIRS)
def test_equivalence_named(suite, name1, first, name2, second, source):
    paths = (available(suite, name1)[1], available(suite, name2)[1])
    compared = set()
    for case_name, case in _named(first.loss, source):
        restated = _restated(first, second, case)
        if restated is None:
            continue
        # the digest of what each side is asked (inputs, options, dtype)
        key = tuple(finding_id("", "", "", None, c.dtype, "", c) for c in restated)
        if key in compared:
            continue  # restated into a case already compared (a reduction both lack)
        compared.add(key)
        _compare(suite, paths, (first, second), restated, case_name, source)
    suite.assert_explained()


@pytest.mark.parametrize(("name1", "first", "name2", "second"), PAIRS)
@given(data=st.data())
def test_equivalence_draws(suite, name1, first, name2, second, data):
    paths = (available(suite, name1)[1], available(suite, name2)[1])
    dtypes = [d for d in DTYPES if d in first.dtypes and d in second.dtypes]
    if not dtypes:
        return
    # the dtype is drawn with the case: every dtype over a run's draws, at a quarter of the
    # cost of drawing each dtype's own (a JAX path compiles every new shape it meets)
    dtype = data.draw(st.sampled_from(dtypes), label="dtype")
    case = data.draw(regular_cases(_drawing(first, second), dtype), label="case")
    restated = _restated(first, second, case)
    if restated is not None:
        _compare(suite, paths, (first, second), restated, describe(case), "values")
    suite.assert_explained()


if not PAIRS:  # no two paths to compare in this run: no tests, rather than skipped ones
    test_equivalence_named.__test__ = test_equivalence_draws.__test__ = False

"""Test parameters generated from the adapters' declarations (no library is imported).

The named cases are parameters of their own, with the case's name in the test id, so
``pytest conformance -k log-of-zero`` selects that case on every API.
"""

from adapters import load_adapter
from conformance import selection
from conformance.budget import reduction_dtypes
from conformance.cases import REDUCTION_DTYPES, edge_cases, reduction_cases, stability_cases
from reference.specs import DTYPES

_CHOSEN = selection.current()
# the env's own adapters (or exactly the one XENT_ADAPTER names) whose library imports here
BINDINGS = [(name, b) for name in _CHOSEN.collected()
            for b in load_adapter(_CHOSEN.paths[name]).bindings]
IDS = [f"{name}:{b.api}" for name, b in BINDINGS]
BINDING_DTYPES = [(name, b, dtype) for name, b in BINDINGS for dtype in DTYPES]
BINDING_DTYPE_IDS = [f"{name}:{b.api}:{dtype}" for name, b, dtype in BINDING_DTYPES]


def _named(cases_of, dtypes=(None,)):
    """(adapter name, binding, dtype, case name) for every named case of every binding, with
    ids ``adapter:api[:dtype]:case``; ``dtypes``, or a function of the binding giving them."""
    params, ids = [], []
    for name, binding in BINDINGS:
        for dtype in dtypes(binding) if callable(dtypes) else dtypes:
            for named in cases_of(binding.loss, dtype):
                params.append((name, binding, dtype, named.name))
                ids.append(":".join(filter(None, (name, binding.api, dtype, named.name))))
    return params, ids


EDGE_CASES, EDGE_CASE_IDS = _named(lambda loss, _: edge_cases(loss))
STABILITY_CASES, STABILITY_CASE_IDS = _named(stability_cases, DTYPES)
REDUCTION_CASES, REDUCTION_CASE_IDS = _named(lambda loss, _: reduction_cases(loss),
                                             lambda b: reduction_dtypes(b, REDUCTION_DTYPES))


def describe(case) -> str:
    """A short, stable name for a drawn case: loss, shapes and options."""
    shapes = ",".join(f"{k}{list(getattr(v, 'shape', ()))}" for k, v in sorted(case.inputs.items()))
    options = ",".join(f"{k}={v}" for k, v in sorted(case.options.items()))
    return f"draw:{case.loss}:{shapes}:{options}"


def _accuracy_params():
    from conformance import exhaustive, worst_case

    swept = [(name, b, dtype) for name, b in BINDINGS if exhaustive.applies(b)
             for dtype in exhaustive.DTYPES]
    searched = [(name, b, dtype, kind) for name, b in BINDINGS
                for dtype in worst_case.dtypes(b) for kind in worst_case.target_kinds(b)]
    return (swept, [":".join((name, b.api, dtype)) for name, b, dtype in swept],
            searched, [":".join((p[0], p[1].api, *p[2:])) for p in searched])


SWEPT, SWEPT_IDS, SEARCHED, SEARCHED_IDS = _accuracy_params()

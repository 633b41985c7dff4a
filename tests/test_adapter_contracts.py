"""Adapter contracts: every declaration is true, and nothing that works is left undeclared.

For each binding, a regular example case is run for every dtype, reduction, target kind,
option, rank and gradient. A declared capability must *work*: no exception, and a result that
agrees with the oracle (evaluated on exactly the numbers the library was fed) to a tolerance
that only a broken call misses. An undeclared capability must not work: it raises, or its
result disagrees. This is a capability check, not an accuracy check; the conformance suite
measures accuracy.

The bindings are those of the adapters the run covers (``tests/_tested.py``): in a backend env
its own, which must import; elsewhere those whose library imports.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest
from _examples import OPTION_VALUES, regular_case
from _tested import REQUIRED, tested

import reference
from adapters import load_adapter
from adapters.binding import DTYPES, Binding, Case, Observation

#: generous: a wrong formula, axis or reduction misses it by far more
TOLERANCE = {"float16": 3e-2, "bfloat16": 1e-1, "float32": 1e-4, "float64": 1e-4}
ORACLE_REDUCTIONS = ("none", "sum", "mean", "sum_over_batch_size")

_adapters: dict[str, object] = {}


def _adapter(name: str):
    if name not in _adapters:
        _adapters[name] = load_adapter(name)
    adapter = _adapters[name]
    reason = adapter.unavailable()
    if reason:
        if name in REQUIRED:
            pytest.fail(f"{name} is required in this environment but {reason}")
        pytest.skip(f"{name} {reason}")
    return adapter


# The compiled twins' declarations are their eager twins' (tests/adapters/test_compiled.py
# checks that, and calls each twin and runs its reproducers): here each would compile a graph
# per test for what the eager twin already shows.
BINDINGS = [(name, b) for name in tested() for b in load_adapter(name).bindings
            if not b.compiled]
IDS = [f"{name}:{b.api}" for name, b in BINDINGS]


def _example(binding: Binding, **overrides) -> Case:
    """The binding's most ordinary case, with ``overrides`` applied."""
    settings = {
        "rank": 2 if 2 in binding.ranks else binding.ranks[0],
        "target_kind": binding.targets[0],
        "reduction": next(r for r in ("mean", "sum_over_batch_size", "sum", "none")
                          if r in binding.reductions) if binding.reductions else "mean",
        "dtype": "float64" if "float64" in binding.dtypes else binding.dtypes[0],
    }
    settings.update(overrides)
    settings["options"] = {**dict.fromkeys(binding.required), **settings.get("options", {})}
    return regular_case(binding.loss, **settings)


def _oracle(binding: Binding, case: Case, fed: dict, wrt: str | None):
    arrays = {name: fed.get(name, value) for name, value in case.inputs.items()}
    kwargs = {**arrays, **case.options, **binding.fixed_options}
    if wrt is None:
        return getattr(reference, case.loss)(**kwargs)
    return reference.grad(case.loss, wrt=wrt, **kwargs)


def _agrees(observed, expected, dtype: str) -> bool:
    observed, expected = np.asarray(observed, float), np.asarray(expected, float)
    if observed.shape != expected.shape or not np.all(np.isfinite(observed)):
        return False
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.allclose(observed, expected, rtol=TOLERANCE[dtype],
                            atol=TOLERANCE[dtype] * scale))


def _works(binding: Binding, case: Case, observation: Observation) -> tuple[bool, str]:
    """Whether the call worked, and a sentence saying what happened."""
    if observation.error is not None:
        return False, f"raised {observation.error[0]}: {observation.error[1][:200]}"
    wrt = observation.wrt
    try:
        expected = _oracle(binding, case, observation.fed, wrt)
    except reference.OracleInputError as exc:
        return False, f"the oracle rejects the case: {exc}"
    observed = observation.value if wrt is None else observation.gradient
    if _agrees(observed, expected, case.dtype):
        return True, "agrees with the oracle"
    return False, (f"returned {np.asarray(observed).tolist()}, "
                   f"oracle {np.asarray(expected).tolist()}")


def _check(adapter, binding: Binding, case: Case, declared: bool, what: str,
           check: str = "value", wrt: str = "input"):
    observation = adapter.evaluate(binding, case, check, wrt)
    works, how = _works(binding, case, observation)
    if declared and not works:
        pytest.fail(f"{binding.api} declares {what} but it {how}\n{observation.reproducer}")
    if works and not declared:
        pytest.fail(f"{binding.api} works with {what} ({how}) but does not declare it\n"
                    f"{observation.reproducer}")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes(name, binding, dtype):
    adapter = _adapter(name)
    _check(adapter, binding, _example(binding, dtype=dtype), dtype in binding.dtypes,
           f"dtype {dtype}")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_reductions(name, binding):
    adapter = _adapter(name)
    for reduction in binding.reductions:
        _check(adapter, binding, _example(binding, reduction=reduction), True,
               f"reduction={reduction!r}")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_target_kinds(name, binding):
    if binding.loss not in ("cross_entropy", "nll_loss", "categorical_cross_entropy"):
        pytest.skip("element-wise loss: targets are always probabilities")
    adapter = _adapter(name)
    for kind in ("indices", "probabilities"):
        if kind == "probabilities" and binding.loss == "nll_loss":
            continue  # the oracle itself has no probability targets for nll_loss
        _check(adapter, binding, _example(binding, target_kind=kind), kind in binding.targets,
               f"{kind} targets")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_options(name, binding):
    adapter = _adapter(name)
    for option in binding.options:
        if option not in OPTION_VALUES:
            continue  # structural options (axis, ...) are exercised through ranks
        if option == "ignore_index" and "indices" not in binding.targets:
            continue
        kind = "indices" if option == "ignore_index" else binding.targets[0]
        case = _example(binding, target_kind=kind, options={option: None})
        _check(adapter, binding, case, True, f"option {option}")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_ranks(name, binding):
    adapter = _adapter(name)
    element_wise = binding.loss.startswith("binary")
    # unreduced, so that a loss that drops or misplaces an axis shows in the result's shape
    reduction = "none" if "none" in binding.reductions else None
    for rank in range(0 if element_wise else 1, 5):
        case = _example(binding, rank=rank, **({"reduction": reduction} if reduction else {}))
        _check(adapter, binding, case, rank in binding.ranks, f"input rank {rank}")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("wrt", ["input", "target"])
def test_gradients(name, binding, wrt):
    adapter = _adapter(name)
    kind = "probabilities" if "probabilities" in binding.targets else binding.targets[0]
    if wrt == "target" and kind == "indices":
        pytest.skip("class-index targets have no gradient")
    case = _example(binding, target_kind=kind)
    _check(adapter, binding, case, wrt in binding.gradients, f"gradients with respect to {wrt}",
           check="gradient", wrt=wrt)


def _printed(reproducer: str, environment: dict) -> object:
    run = subprocess.run([sys.executable, "-c", reproducer], capture_output=True, text=True,
                         timeout=300, env={**os.environ, **environment})
    assert run.returncode == 0, f"reproducer failed:\n{reproducer}\n{run.stderr[-2000:]}"
    return eval(run.stdout.strip().splitlines()[-1], {"nan": math.nan, "inf": math.inf})


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_reproducers_reproduce(name, binding):
    """A sample: the value and (where offered) the input gradient of the ordinary case."""
    adapter = _adapter(name)
    case = _example(binding)
    checks = [("value", None)] + ([("gradient", "input")] if "input" in binding.gradients else [])
    for check, wrt in checks:
        observation = adapter.evaluate(binding, case, check, wrt or "input")
        assert observation.error is None, observation.error
        observed = observation.value if wrt is None else observation.gradient
        printed = np.asarray(_printed(observation.reproducer, adapter.environment), float)
        np.testing.assert_array_equal(
            printed, observed,
            err_msg=f"{binding.api}: the reproducer printed something else\n"
                    f"{observation.reproducer}")

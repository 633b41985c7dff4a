"""Adapter contracts: every declaration is true, and nothing that works is left undeclared.

For each binding, a regular example case is run for every dtype, reduction, target kind,
option, rank and gradient. A declared capability must *work*: no exception, and a result that
agrees with the oracle (evaluated on exactly the numbers the library was fed) to the capability
bound of ``tests/_examples.py``, which only a broken call misses. An undeclared capability must
not work: it raises, or its result disagrees. This is a capability check, not an accuracy
check; the agreement test (``tests/adapters/test_agreement.py``) and the conformance suite
measure accuracy, with the error model. An adapter whose library is missing says so, and why.

The bindings are those of the adapters the run covers (``tests/_tested.py``): in a backend env
its own, which must import; elsewhere those whose library imports.
"""

from __future__ import annotations

import _tested
import numpy as np
import pytest
from _examples import OPTION_VALUES, ordinary_case, works_as_declared

import reference
from adapters import ADAPTERS, load_adapter
from adapters.binding import DTYPES, Binding, Case, Observation

_adapters: dict[str, object] = {}


def _adapter(name: str):
    if name not in _adapters:
        _adapters[name] = load_adapter(name)
    adapter = _adapters[name]
    reason = adapter.unavailable()
    if reason:
        if name in _tested.REQUIRED:
            pytest.fail(f"{name} is required in this environment but {reason}")
        pytest.skip(f"{name} {reason}")
    return adapter


# The compiled twins' declarations are their eager twins' (tests/adapters/test_compiled.py
# checks that, and calls each twin and runs its reproducers): here each would compile a graph
# per test for what the eager twin already shows.
BINDINGS = [(name, b) for name in _tested.tested() for b in load_adapter(name).bindings
            if not b.compiled]
IDS = [f"{name}:{b.api}" for name, b in BINDINGS]


def _oracle(binding: Binding, case: Case, fed: dict, wrt: str | None):
    arrays = {name: fed.get(name, value) for name, value in case.inputs.items()}
    kwargs = {**arrays, **case.options, **binding.fixed_options}
    if wrt is None:
        return getattr(reference, case.loss)(**kwargs)
    return reference.grad(case.loss, wrt=wrt, **kwargs)


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
    if works_as_declared(observed, expected, case.dtype):
        return True, "agrees with the oracle"
    return False, (f"returned {np.asarray(observed).tolist()}, "
                   f"oracle {np.asarray(expected).tolist()}")


def _check_each(name: str, binding: Binding, capabilities, check: str = "value",
                wrt: str = "input") -> None:
    """Each (what, case, declared) of ``capabilities``: declared, it works; else it does not."""
    adapter = _adapter(name)
    for what, case, declared in capabilities:
        observation = adapter.evaluate(binding, case, check, wrt)
        works, how = _works(binding, case, observation)
        if declared and not works:
            pytest.fail(f"{binding.api} declares {what} but it {how}\n"
                        f"{observation.reproducer}")
        if works and not declared:
            pytest.fail(f"{binding.api} works with {what} ({how}) but does not declare it\n"
                        f"{observation.reproducer}")


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_dtypes(name, binding, dtype):
    _check_each(name, binding, [(f"dtype {dtype}", ordinary_case(binding, dtype=dtype),
                                 dtype in binding.dtypes)])


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_reductions(name, binding):
    _check_each(name, binding, [(f"reduction={r!r}", ordinary_case(binding, reduction=r), True)
                                for r in binding.reductions])


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_target_kinds(name, binding):
    if binding.loss not in ("cross_entropy", "nll_loss", "categorical_cross_entropy"):
        pytest.skip("element-wise loss: targets are always probabilities")
    # (the oracle itself has no probability targets for nll_loss)
    kinds = ("indices",) if binding.loss == "nll_loss" else ("indices", "probabilities")
    _check_each(name, binding, [(f"{kind} targets", ordinary_case(binding, target_kind=kind),
                                 kind in binding.targets) for kind in kinds])


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_options(name, binding):
    # structural options (axis, ...) are exercised through ranks
    options = [o for o in binding.options if o in OPTION_VALUES
               and (o != "ignore_index" or "indices" in binding.targets)]
    _check_each(name, binding, [
        (f"option {option}", ordinary_case(
            binding, target_kind="indices" if option == "ignore_index" else binding.targets[0],
            options={option: None}), True) for option in options])


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_ranks(name, binding):
    element_wise = binding.loss.startswith("binary")
    # unreduced, so that a loss that drops or misplaces an axis shows in the result's shape;
    # the classes of every categorical loss on axis 1, as these checks have always placed them
    reduction = {"reduction": "none"} if "none" in binding.reductions else {}
    _check_each(name, binding, [
        (f"input rank {rank}", ordinary_case(binding, rank=rank, class_axis=1, **reduction),
         rank in binding.ranks) for rank in range(0 if element_wise else 1, 5)])


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("wrt", ["input", "target"])
def test_gradients(name, binding, wrt):
    kind = "probabilities" if "probabilities" in binding.targets else binding.targets[0]
    if wrt == "target" and kind == "indices":
        pytest.skip("class-index targets have no gradient")
    _check_each(name, binding, [(f"gradients with respect to {wrt}",
                                 ordinary_case(binding, target_kind=kind),
                                 wrt in binding.gradients)], check="gradient", wrt=wrt)


@pytest.mark.parametrize("name", ADAPTERS)
def test_a_missing_library_is_unavailable_with_the_reason(name):
    """Every adapter, its modules replaced by one that is installed nowhere (no library is
    imported): its tests skip, or fail in its own env, with this reason."""
    adapter = load_adapter(name)
    adapter.modules = {"library": "xent_library_not_installed_here"}
    reason = adapter.unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "xent_library_not_installed_here" in reason

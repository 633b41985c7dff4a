"""The directional derivatives of torch, paddle and tinygrad (``derivatives``,
``value_with_jvp``, ``value_with_hvp`` and ``derivative_source`` in each one's
``framework.py``), through their adapters on small float64 cases: a jvp is the library's own
reverse gradient dotted with the direction (per element for reduction='none'), an hvp a central
difference of that reverse gradient along the direction, and each reproducer prints the very
numbers (or raises the very exception type) of the in-process call.

Where the library raises instead (seen with torch 2.13 and paddle 3.3.1: ``_EXPECTED_ERRORS``)
the error must be that one, the library's and not the harness's: a library that starts to
compute fails the test, so the table is updated with what it now does.

Tests run for the adapters this run covers (``_tested``); elsewhere they are not generated.
"""

from __future__ import annotations

import dataclasses

import _tested
import numpy as np
import pytest
from _examples import OPTION_VALUES, ordinary_case
from _reproducers import assert_reproducers_print

from adapters import load_adapter
from adapters.binding import Binding, Case
from adapters.paddle.framework import PADDLE
from adapters.tinygrad.framework import TINYGRAD
from adapters.torch.framework import TORCH

FRAMEWORKS = {"torch": TORCH, "paddle": PADDLE, "tinygrad": TINYGRAD}
NAMES = [name for name in _tested.tested() if name in FRAMEWORKS]

#: paddle's loss kernels have no second derivative (``_EXPECTED_ERRORS``), so paddle's two
#: modes are checked on the numbers of a formula whose ops have: binary cross-entropy with
#: logits written out (not paddle.mean, whose mean_all_grad has none either)
PADDLE_FORMULA = Binding(
    api="formula.paddle_log1p_exp", library="paddle", loss="binary_cross_entropy_with_logits",
    expression="paddle.log(1 + paddle.exp(input)) - target * input",
    reductions={"sum": "paddle.sum", "none": ""}, dtypes=("float64",), ranks=(2,),
    gradients=("input", "target"), surface=())

BINDINGS = [(name, binding) for name in NAMES for binding in load_adapter(name).bindings]
if "paddle" in NAMES:
    BINDINGS.append(("paddle", PADDLE_FORMULA))
IDS = [binding.api for _, binding in BINDINGS]

#: the step of the central difference: its error, h**2 times a third derivative of order 1,
#: and the rounding, 1e-16 / h, both far below the tolerance
STEP = 1e-5
TOLERANCE = 1e-6


def _expected_error(name: str, binding: Binding, check: str) -> tuple[str, tuple[str, ...]] | None:
    """The exception type and the phrases (one of which its message holds) the library raises
    taking ``check`` of ``binding``'s call; None where it computes."""
    if name == "paddle" and binding is not PADDLE_FORMULA:
        # paddle.incubate.autograd.jvp is the vjp of a vjp in dynamic mode, and no loss
        # kernel (nor mean_all) has a second derivative: "(Unavailable) The Op
        # cross_entropy_with_softmax_grad doesn't have any grad op. ..."
        return "RuntimeError", ("doesn't have any grad op",)
    if name == "torch" and binding.compiled:
        if check == "jvp":
            return "torch._dynamo.exc.Unsupported", ("torch.func.jvp(compiled_fn)",)
        # which of the three depends on the graph and the dtype
        return "RuntimeError", ("does not currently support double backward",
                                "appears to not have been used in the graph",
                                "non-empty donated buffers")
    return None


def _cases(binding: Binding) -> list[Case]:
    """The binding's ordinary case, reduced; with reduction='none' where offered; and (eager
    calls only: a compiled one raises, above) with each option alone (the class axis is
    structural: not an example option)."""
    cases = [ordinary_case(binding)]
    if "none" in binding.reductions and cases[0].options["reduction"] != "none":
        cases.append(ordinary_case(binding, reduction="none"))
    if not binding.compiled:
        cases += [ordinary_case(binding, options={option: None}) for option in binding.options
                  if option in OPTION_VALUES]
    return [case for case in cases if binding.supports(case) is None]


def _directions(adapter, binding: Binding, case: Case, rng) -> list[tuple[str, str, Case]]:
    """(check, wrt, the case with a direction) for each mode the framework declares and each
    operand the binding differentiates (no class indices; an hvp with respect to the input)."""
    out = []
    for check in adapter.derivative_modes():
        for wrt in binding.gradients:
            if binding.supports(case, check, wrt) is not None or case.is_index(wrt):
                continue
            direction = rng.standard_normal(np.shape(case.inputs[wrt]))
            out.append((check, wrt, dataclasses.replace(case, direction=direction)))
    return out


def _gradient(adapter, binding: Binding, case: Case, wrt: str) -> np.ndarray:
    """The library's own reverse gradient of the sum of the call's result."""
    observation = adapter.evaluate(binding, case, "gradient", wrt)
    assert observation.error is None, (observation.error, observation.reproducer)
    return observation.gradient


def _expected_jvp(adapter, binding: Binding, case: Case, wrt: str, shape) -> np.ndarray:
    """The reverse gradient of each element of the result, dotted with the direction."""
    direction = np.asarray(case.direction, dtype=np.float64)
    if shape == ():
        return np.sum(_gradient(adapter, binding, case, wrt) * direction)
    elements = []
    for i in range(int(np.prod(shape))):
        # the call's i-th element, the expression as the library computes it, then indexed
        element = dataclasses.replace(binding, api=f"{binding.api}[{i}]",
                                      expression=f"({binding.expression}).flatten()[{i}]")
        elements.append(np.sum(_gradient(adapter, element, case, wrt) * direction))
    return np.reshape(elements, shape)


def _expected_hvp(adapter, binding: Binding, case: Case) -> np.ndarray:
    """(g(x + h v) - g(x - h v)) / 2h, g the reverse gradient with respect to the input."""
    x, v = np.asarray(case.inputs["input"], np.float64), np.asarray(case.direction, np.float64)
    ahead, behind = (_gradient(adapter, binding, case.with_inputs(input=x + s * STEP * v), "input")
                     for s in (1, -1))
    return (ahead - behind) / (2 * STEP)


def _close(observed, expected) -> bool:
    scale = max(1.0, float(np.max(np.abs(expected), initial=0.0)))
    return bool(np.allclose(observed, expected, rtol=TOLERANCE, atol=TOLERANCE * scale))


def test_the_modes_each_library_offers():
    # torch and paddle have a jvp API and a double backward; tinygrad's autograd is reverse
    # mode only, and differentiates a gradient again
    assert set(TORCH.derivatives) == {"jvp", "hvp"}
    assert "torch.func.jvp" in TORCH.derivatives["jvp"]
    assert set(PADDLE.derivatives) == {"jvp", "hvp"}
    assert "paddle.incubate.autograd.jvp" in PADDLE.derivatives["jvp"]
    assert set(TINYGRAD.derivatives) == {"hvp"}


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_jvp_and_hvp_agree_with_the_reverse_gradient(name, binding):
    adapter = load_adapter(name)
    rng = np.random.default_rng(0)
    checked = 0
    for case in _cases(binding):
        if not binding.compiled and adapter.evaluate(binding, case).error is not None:
            continue  # a case the call itself refuses (an option at this rank): no reference
        for check, wrt, directed in _directions(adapter, binding, case, rng):
            observation = adapter.evaluate(binding, directed, check, wrt)
            where = f"{check} wrt {wrt} of {binding.call_source(case)}\n{observation.reproducer}"
            expected_error = _expected_error(name, binding, check)
            if expected_error is not None:
                kind, phrases = expected_error
                assert observation.error is not None, where
                assert observation.error[0] == kind, (observation.error, where)
                assert any(p in observation.error[1] for p in phrases), (observation.error, where)
                assert observation.harness is None, (observation.harness, where)
                checked += 1
                continue
            assert observation.error is None, (observation.error, where)
            value = adapter.evaluate(binding, case).value
            assert observation.value.shape == value.shape, where
            assert _close(observation.value, value), where
            if check == "jvp":
                expected = _expected_jvp(adapter, binding, directed, wrt, value.shape)
            else:
                expected = _expected_hvp(adapter, binding, directed)
            assert observation.gradient.shape == np.shape(expected), where
            assert _close(observation.gradient, expected), (observation.gradient, expected, where)
            checked += 1
    assert checked, f"no derivative of {binding.api} checked"


@pytest.mark.parametrize("name", NAMES)
def test_reproducers_print_the_derivatives(name):
    # every binding's reduced and unreduced case, with respect to the input: the reproducers
    # run in one fresh interpreter, each printing exactly the observed numbers or raising the
    # observed exception type
    adapter = load_adapter(name)
    bindings = [*adapter.bindings, *([PADDLE_FORMULA] if name == "paddle" else [])]
    rng = np.random.default_rng(1)
    observations = []
    for binding in bindings:
        for case in _cases(binding)[:2]:
            for check, wrt, directed in _directions(adapter, binding, case, rng):
                if wrt == "input":
                    observations.append(adapter.evaluate(binding, directed, check, wrt))
    assert observations
    assert any(o.error is None for o in observations), "no derivative computed"
    assert_reproducers_print(observations, ("TORCH", "FLAGS_", "GLOG_", "DEV", "PARALLEL"))

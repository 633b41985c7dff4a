"""The directional derivatives of the JAX, TensorFlow and MLX frameworks (``Framework.derivatives``:
``jvp`` by each library's forward mode, ``hvp`` by its Hessian-vector product idiom), through
every adapter computing with them: optax, ``tf.nn``, MLX, and Keras on JAX or TensorFlow (and
tf_keras), eager and compiled twins alike.

Each is checked against the library's own reverse gradient, so a wrong mode, a wrong operand or a
wrong shape fails whatever the library's accuracy:

- the jvp of a reduced loss is the dot product of its gradient with the direction; at reduction
  none, each loss element's jvp is that dot product over the input elements it depends on;
- the hvp is the central finite difference of the gradient along the direction;
- the reproducer, run in a fresh interpreter, prints exactly what the adapter observed.

Tests are generated for the adapters this run covers (``_tested.tested``) and skip with the
adapter's "unavailable: ..." reason where its library is not installed.
"""

from __future__ import annotations

import dataclasses

import _tested
import numpy as np
import pytest
from _examples import ordinary_case
from _reproducers import assert_reproducers_print

from adapters import load_adapter
from adapters.binding import Binding, Case
from adapters.jax.framework import JAX
from adapters.mlx.framework import MLX
from adapters.tensorflow.framework import TENSORFLOW
from reference.specs import loss_spec

FRAMEWORKS = (JAX, TENSORFLOW, MLX)
#: the adapters that may compute with them (Keras: on the backend this env selects)
NAMES = ("jax", "tensorflow", "mlx", "keras")
#: environment variables the reproducers must set themselves
LIBRARY_VARIABLES = ("TF_", "JAX_", "KERAS_")
#: how close a derivative comes to its check, relative to the check's scale, by the dtype the
#: library computes in: float64 cases agree to ~1e-10 (a central difference with a step of
#: 1e-5 errs by ~h**2 and eps/h), float32 ones to ~1e-3
RTOL = {"float64": 1e-6, "float32": 1e-2}
STEP = {"float64": 1e-5, "float32": 3e-3}


def _declared(name: str):
    return load_adapter(name)


def _computes_here(name: str) -> bool:
    """The adapter computes with one of these frameworks (Keras on torch or NumPy does not)."""
    return name in _tested.tested() and _declared(name).framework in FRAMEWORKS


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


#: (adapter, binding, reduction, operand): every binding in each operand it declares a
#: gradient for, at reduction none (a derivative per loss element) and at its ordinary
#: reduction (one scalar)
CASES = [(name, b, reduction, wrt) for name in NAMES if _computes_here(name)
         for b in _declared(name).bindings for wrt in b.gradients
         for reduction in dict.fromkeys(("none", ordinary_case(b).options["reduction"]))
         if reduction in b.reductions]
IDS = [f"{name}:{b.api}:{reduction}:{wrt}" for name, b, reduction, wrt in CASES]
PARAMETERS = ("name", "binding", "reduction", "wrt")


def _case(binding: Binding, reduction: str, wrt: str) -> Case:
    case = ordinary_case(binding, reduction=reduction)
    shape = np.shape(case.inputs[wrt])
    # a direction of mixed signs and sizes, the same for every run
    direction = np.random.default_rng(7).uniform(-1.0, 1.0, shape)
    return dataclasses.replace(case, direction=direction)


def _precision(adapter, case: Case) -> str:
    """The precision the library computes ``case`` in: MLX's CPU float64 exp and sigmoid are
    float32-accurate (7e-8 and 2e-8 relative, measured on mlx 0.32), so its float64 gradient
    a step of 1e-5 either side differs by its rounding as much as by H v."""
    return "float32" if adapter.framework is MLX else case.dtype


def _modes(adapter, binding: Binding) -> list[str]:
    return [m for m in ("jvp", "hvp") if m in adapter.derivative_modes()
            and m not in binding.no_derivatives]


def _observe(adapter, binding: Binding, case: Case, check: str, wrt: str):
    observation = adapter.evaluate(binding, case, check, wrt)
    assert observation.error is None, (observation.error, observation.harness,
                                       observation.reproducer)
    return observation


def _gradient(adapter, binding: Binding, case: Case, wrt: str, at: np.ndarray) -> np.ndarray:
    """The library's reverse gradient of the sum of the result in ``wrt``, ``wrt`` set to
    ``at``."""
    return _observe(adapter, binding, case.with_inputs(**{wrt: at}), "gradient", wrt).gradient


def _loss_axis(case: Case, value_shape: tuple, input_shape: tuple) -> tuple[int, ...]:
    """The input axes each loss element sums over at reduction none: none for an element-wise
    loss, the class axis of a categorical one, the last axis of a binary loss averaged over it
    (Keras)."""
    if value_shape == input_shape:
        return ()
    if loss_spec(case.loss).family == "categorical":
        return (case.class_axis,)
    return (len(input_shape) - 1,)


@pytest.mark.parametrize("framework", FRAMEWORKS, ids=lambda f: f.name)
def test_each_framework_declares_jvp_and_hvp(framework):
    assert set(framework.derivatives) == {"jvp", "hvp"}


@pytest.mark.parametrize(PARAMETERS, CASES, ids=IDS)
def test_jvp_is_the_gradient_along_the_direction(name, binding, reduction, wrt):
    adapter = _adapter(name)
    if "jvp" not in _modes(adapter, binding):
        pytest.skip(binding.no_derivatives.get("jvp", "no jvp"))
    case = _case(binding, reduction, wrt)
    observed = _observe(adapter, binding, case, "jvp", wrt)
    value = adapter.evaluate(binding, case).value
    # the value rides along unchanged, and the jvp has its shape: one per loss element
    np.testing.assert_allclose(observed.value, value, rtol=1e-12, atol=0)
    assert observed.gradient.shape == value.shape
    direction, x = observed.fed["direction"], observed.fed[wrt]
    gradient = _gradient(adapter, binding, case, wrt, x)
    # each loss element depends on its own sample's inputs only, so the gradient of the sum
    # restricted to those inputs is that element's gradient
    axes = _loss_axis(case, value.shape, x.shape)
    if reduction == "none":
        expected = np.sum(gradient * direction, axis=axes)
        scale = np.sum(np.abs(gradient * direction), axis=axes)
    else:
        expected = np.sum(gradient * direction)
        scale = np.sum(np.abs(gradient * direction))
    rtol = RTOL[_precision(adapter, case)]
    assert np.all(np.abs(observed.gradient - expected) <= rtol * (scale + np.abs(expected))), (
        observed.gradient, expected, observed.reproducer)


@pytest.mark.parametrize(PARAMETERS, CASES, ids=IDS)
def test_hvp_is_the_difference_of_gradients_along_the_direction(name, binding, reduction, wrt):
    adapter = _adapter(name)
    if "hvp" not in _modes(adapter, binding):
        pytest.skip(binding.no_derivatives.get("hvp", "no hvp"))
    case = _case(binding, reduction, wrt)
    observed = _observe(adapter, binding, case, "hvp", wrt)
    direction, x = observed.fed["direction"], observed.fed[wrt]
    assert observed.gradient.shape == x.shape
    precision = _precision(adapter, case)
    step = STEP[precision]
    # the library's own gradient a step either side: H v to O(step**2) (0 in the target of a
    # loss linear in it)
    expected = (_gradient(adapter, binding, case, wrt, x + step * direction)
                - _gradient(adapter, binding, case, wrt, x - step * direction)) / (2 * step)
    scale = max(float(np.max(np.abs(expected))), 1e-3)
    np.testing.assert_allclose(observed.gradient, expected, rtol=RTOL[precision],
                               atol=RTOL[precision] * scale, err_msg=observed.reproducer)


@pytest.mark.parametrize("name", [n for n in NAMES if _computes_here(n)])
def test_reproducers_print_what_was_observed(name):
    adapter = _adapter(name)
    observations = [_observe(adapter, binding, _case(binding, reduction, wrt), mode, wrt)
                    for n, binding, reduction, wrt in CASES if n == name
                    for mode in _modes(adapter, binding)]
    assert observations
    for observation in observations:  # the idiom the framework declares, in the reproducer
        idiom = {"jvp": {"jax": "jax.jvp(", "tensorflow": "ForwardAccumulator(", "mlx": "mx.jvp("},
                 "hvp": {"jax": "jax.grad(", "tensorflow": "output_gradients=direction",
                         "mlx": "mx.grad("}}[observation.derivative][adapter.framework.name]
        assert idiom in observation.reproducer, observation.reproducer
    assert_reproducers_print(observations, LIBRARY_VARIABLES)

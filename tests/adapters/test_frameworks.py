"""The array frameworks (``adapters/framework.py`` and each library folder's ``framework.py``):
each is set up in one place, and every adapter computing with it (its own and Keras on it) uses
that set-up; its settings hold after import; tensors of every dtype read back exactly; the
source code a reproducer gets builds the same tensors, lists and gradients; and gradients of a
sum are right.

The declarations are checked without importing any library. Tests that need a framework skip
with its "unavailable: ..." reason where it is not installed; NumPy's run everywhere.
"""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest

from adapters import load_adapter
from adapters.adapter import Adapter
from adapters.binding import DTYPES
from adapters.jax.framework import JAX
from adapters.keras.adapter import BACKENDS, KerasAdapter
from adapters.mlx.framework import MLX
from adapters.numpy.framework import NUMPY
from adapters.paddle.framework import PADDLE
from adapters.tensorflow.framework import TENSORFLOW
from adapters.tinygrad.framework import TINYGRAD
from adapters.torch.framework import TORCH
from reference.specs import dtype_spec

FRAMEWORKS = {f.name: f for f in (TORCH, JAX, TENSORFLOW, NUMPY, MLX, PADDLE, TINYGRAD)}
# not representable in float16 / bfloat16 / float32 (0.1, 1e-3), a signed zero, a large value
VALUES = np.array([[0.1, -2.5, 1e-3], [3.0e4, 0.0, -0.0]])
LIBRARIES = ("torch", "jax", "jaxlib", "optax", "tensorflow", "keras", "tf_keras", "scipy",
             "sklearn", "mlx", "paddle", "tinygrad")


def _namespace(name: str) -> dict:
    """The framework imported the way the adapters import it: its environment set first, its
    settings applied after (``Adapter.namespace``); skips where it is not installed."""
    framework = FRAMEWORKS[name]
    bare = type(f"Bare{name}", (Adapter,), {
        "library": name, "modules": dict(framework.modules),
        "environment": dict(framework.environment), "framework": framework})()
    reason = bare.unavailable()
    if reason is not None:
        pytest.skip(f"{name} {reason}")
    return bare.namespace()


#: NumPy has no bfloat16 (tinygrad has, its CPU kernels compiled by zig cc: adapters/tinygrad)
NO_BFLOAT16 = ("numpy",)


def _dtypes(name: str) -> list[str]:
    return [d for d in DTYPES if not (name in NO_BFLOAT16 and d == "bfloat16")]


# --- one set-up per framework (no library imported) -------------------------------------------

@pytest.mark.parametrize("name", ["torch", "jax", "tensorflow"])
def test_own_adapter_and_keras_share_the_set_up(name):
    framework = FRAMEWORKS[name]
    own, keras = load_adapter(name), KerasAdapter(name)
    assert own.framework is keras.framework is framework
    for adapter in (own, keras):
        assert framework.environment.items() <= adapter.environment.items(), adapter.library
        assert framework.modules.items() <= adapter.modules.items(), adapter.library


@pytest.mark.parametrize("backend", BACKENDS)
def test_each_keras_backend_computes_with_its_framework(backend):
    adapter = KerasAdapter(backend)
    assert adapter.framework is FRAMEWORKS["tensorflow" if backend == "tf_keras" else backend]
    # without autograd no binding declares a gradient; with it, some do
    declared = any(binding.gradients for binding in adapter.bindings)
    assert declared == adapter.framework.autograd


def test_importing_the_adapters_imports_no_library():
    # a missing library must make its adapter unavailable, not break the import of all
    code = ("import sys\n"
            "from adapters import ADAPTERS, all_bindings, load_adapter\n"
            "import adapters.framework\n"
            "all_bindings()\n"
            "[load_adapter(name).environment for name in ADAPTERS]\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {set(LIBRARIES)!r}))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


# --- the settings hold after import ------------------------------------------------------------

def test_torch_is_deterministic_without_tf32():
    torch = _namespace("torch")["torch"]
    assert torch.are_deterministic_algorithms_enabled()
    assert not torch.backends.cuda.matmul.allow_tf32
    assert not torch.backends.cudnn.allow_tf32


def test_jax_runs_on_the_cpu_in_64_bits_at_the_highest_matmul_precision():
    jax = _namespace("jax")["jax"]
    assert jax.config.jax_enable_x64
    assert jax.config.jax_default_matmul_precision == "highest"
    assert {device.platform for device in jax.devices()} == {"cpu"}


def test_tensorflow_is_deterministic_without_tf32():
    tf = _namespace("tensorflow")["tf"]
    # (TensorFlow exports the setter only; its getter lives in the module defining both)
    config = importlib.import_module("tensorflow.python.framework.config")
    assert config.is_op_determinism_enabled()
    assert not tf.config.experimental.tensor_float_32_execution_enabled()


# --- tensors, their source and their lists -----------------------------------------------------

@pytest.mark.parametrize("name", FRAMEWORKS)
def test_tensors_read_back_exactly_in_every_dtype(name):
    framework, namespace = FRAMEWORKS[name], _namespace(name)
    for dtype in _dtypes(name):
        unit = dtype_spec(dtype).unit_roundoff  # the largest relative error of a rounding
        for values in (VALUES, np.array(0.1)):  # a 0-d bfloat16 tensor is TensorFlow's snag
            fed = framework.to_numpy(framework.tensor(values, dtype))
            assert fed.dtype == np.float64, dtype
            assert fed.shape == values.shape, dtype
            # rounded once to the nearest value of the dtype: rounding again changes nothing
            assert np.abs(fed - values).max() <= unit * np.abs(values).max(), dtype
            assert np.array_equal(framework.to_numpy(framework.tensor(fed, dtype)), fed), dtype
            assert np.array_equal(np.signbit(fed), np.signbit(values)), dtype
            built = eval(framework.tensor_source(fed, dtype), dict(namespace))
            assert np.array_equal(framework.to_numpy(built), fed), dtype
            listed = eval(framework.to_list_source("x"), {**namespace, "x": built})
            assert listed == fed.tolist(), dtype
        empty = eval(framework.tensor_source(np.zeros((0, 3)), dtype), dict(namespace))
        assert framework.to_numpy(empty).shape == (0, 3), dtype
    indices = framework.to_numpy(framework.tensor(np.array([0, 2, 1]), "float32", index=True))
    assert indices.dtype == np.int64
    assert indices.tolist() == [0, 2, 1]


def test_numpy_reads_bfloat16_back_exactly():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    # 1 + 2**-7 is a bfloat16 (8 significant bits); 0.1 rounds to 0.10009765625
    array = np.array([1 + 2.0**-7, 0.1, -3.0]).astype(ml_dtypes.bfloat16)
    assert FRAMEWORKS["numpy"].to_numpy(array).tolist() == [1 + 2.0**-7, 0.10009765625, -3.0]


# --- gradients ---------------------------------------------------------------------------------

# loss_i = x_i**2 * y_i, so d(sum_i loss_i)/dx_i = 2 x_i y_i: [3, -0.75, -4], exact in float64
X, Y = np.array([0.5, -1.5, 2.0]), np.array([3.0, 0.25, -1.0])
CALL_SOURCE = "input * input * target"


def _call(operands):
    return operands["input"] * operands["input"] * operands["target"]


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_gradient_of_the_sum(name):
    framework, namespace = FRAMEWORKS[name], _namespace(name)
    operands = {"input": framework.tensor(X, "float64"), "target": framework.tensor(Y, "float64")}
    value, gradient = framework.value_and_gradient(_call, operands, None)
    assert framework.to_numpy(value).tolist() == (X * X * Y).tolist()
    assert gradient is None
    sources = [f"input = {framework.tensor_source(X, 'float64')}",
               f"target = {framework.tensor_source(Y, 'float64')}",
               *framework.gradient_source(CALL_SOURCE, "input", framework.to_list_source)]
    if not framework.autograd:
        with pytest.raises(NotImplementedError, match="no automatic differentiation"):
            framework.value_and_gradient(_call, operands, "input")
        with pytest.raises(NotImplementedError, match="no automatic differentiation"):
            exec("\n".join(sources), dict(namespace))
        return
    value, gradient = framework.value_and_gradient(_call, operands, "input")
    assert framework.to_numpy(value).tolist() == (X * X * Y).tolist()
    assert framework.to_numpy(gradient).tolist() == [3.0, -0.75, -4.0]
    scope = dict(namespace)
    exec("\n".join(sources), scope)  # what a reproducer runs
    assert scope["result"] == [3.0, -0.75, -4.0]


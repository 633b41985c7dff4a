"""The MLX adapter (``adapters/mlx/adapter.py``): its declarations against the oracle and against
MLX.

Each binding is checked on regular float32 cases against the oracle (values and gradients
within a few float32 ulp: MLX's CPU exp is float32-accurate in every dtype, float64 included,
which the registry states; float64 is checked to be really float64 all the same), every
declared reduction and rank, the option spellings, ``fed`` holding what MLX got, and every
reproducer is run in a fresh interpreter and must print the observed numbers exactly. Tests
that need MLX skip with the adapter's "unavailable: ..." reason when it is missing.
"""

from __future__ import annotations

import ast
import math
from typing import ClassVar

import numpy as np
import pytest
from _reproducers import assert_reproducers_print

import reference
from adapters.binding import DTYPES, Binding, Case
from adapters.mlx.adapter import BINDINGS, MlxAdapter

SHAPES = {0: (), 1: (4,), 2: (3, 4), 3: (3, 4, 2), 4: (2, 4, 2, 2)}  # 4 classes, oracle layout
BY_API = {b.api: b for b in BINDINGS}
F32 = 2.0**-23  # float32's ulp of 1: the accuracy of MLX's CPU exp in every dtype


@pytest.fixture(scope="module")
def adapter():
    adapter = MlxAdapter()
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float32", seed=0,
              target="indices", **options) -> Case:
    """A regular case: logits of order 1, binary targets in (0.05, 0.95), 4 classes."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[rank]
    logits = rng.normal(scale=2.0, size=shape)
    if binding.loss == "binary_cross_entropy":
        inputs = {"input": 1 / (1 + np.exp(-logits)), "target": rng.uniform(0.05, 0.95, shape)}
    elif binding.loss == "binary_cross_entropy_with_logits":
        inputs = {"input": logits, "target": rng.uniform(0.05, 0.95, shape)}
    elif target == "indices":
        inputs = {"input": logits, "target": rng.integers(0, 4, size=shape[:1] + shape[2:])}
    else:
        weights = rng.uniform(0.1, 1.0, size=shape)
        inputs = {"input": logits, "target": weights / weights.sum(axis=1, keepdims=True)}
    for name, value in options.items():
        if name in ("weight", "sample_weight"):
            inputs[name] = value
    scalars = {k: v for k, v in options.items() if k not in inputs}
    return Case(binding.loss, inputs, {"reduction": reduction, **scalars}, dtype)


def oracle(case: Case, fed, check="value", wrt="input"):
    """The oracle's value or gradient on exactly what MLX was fed."""
    if check == "value":
        return np.asarray(getattr(reference, case.loss)(**fed, **case.options))
    return np.asarray(reference.grad(case.loss, wrt=wrt, **fed, **case.options))


def close(observed, expected, units=8):
    """Within ``units`` float32 ulps of the largest expected element (a float32 exp's error)."""
    scale = max(np.max(np.abs(expected), initial=0.0), 1.0)
    return np.max(np.abs(observed - expected), initial=0.0) <= units * F32 * scale


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations (no MLX needed) ---------------------------------------------------------

def test_declarations_name_the_public_apis_and_their_parameters():
    assert len(BY_API) == len(BINDINGS), "one binding per API"
    for binding in BINDINGS:
        assert binding.api.startswith("mlx.nn.losses."), binding.api
        assert binding.library == "mlx"
        assert binding.surface, binding.api
        assert all(binding.expression.startswith(s) for s in binding.surface), binding.api
        assert set(binding.dtypes) <= set(DTYPES)
    # the two forms of binary_cross_entropy pass with_logits explicitly, each its own
    assert "with_logits=True" in BY_API["mlx.nn.losses.binary_cross_entropy"].expression
    assert "with_logits=False" in BY_API[
        "mlx.nn.losses.binary_cross_entropy(with_logits=False)"].expression


def test_options_are_spelled_as_mlx_takes_them():
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    case = make_case(binding, reduction="sum", sample_weight=np.ones(3), label_smoothing=0.25)
    assert binding.supports(case) is None
    assert binding.call_source(case) == (
        "mlx.nn.losses.cross_entropy(input, target, weights=sample_weight, "
        "label_smoothing=0.25, axis=1, reduction='sum')")
    # an element weight, drawn per class as PyTorch broadcasts it, is broadcast to the input
    bce = BY_API["mlx.nn.losses.binary_cross_entropy"]
    case = make_case(bce, reduction="none", weight=np.ones(4))
    assert "weights=mx.broadcast_to(weight, input.shape)" in bce.call_source(case)
    # a rank-1 input has its classes on axis 0, which axis=1 cannot name
    assert binding.supports(make_case(binding, rank=1)) is not None


def test_missing_library_is_unavailable_with_the_reason():
    class Missing(MlxAdapter):
        modules: ClassVar[dict[str, str]] = {"mlx": "mlx_not_installed_here"}

    reason = Missing().unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "mlx_not_installed_here" in reason


# --- agreement with the oracle -----------------------------------------------------------------

VALUE_CASES = [(b.api, reduction, target)
               for b in BINDINGS for reduction in b.reductions
               for target in (b.targets if b.loss == "cross_entropy" else ("probabilities",))]


@pytest.mark.parametrize(("api", "reduction", "target"), VALUE_CASES)
def test_value_matches_oracle(adapter, api, reduction, target):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction, target=target)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert close(observation.value, expected), described(case, observation)


GRADIENT_CASES = [(api, reduction, target, wrt) for api, reduction, target in VALUE_CASES
                  for wrt in BY_API[api].gradients]


@pytest.mark.parametrize(("api", "reduction", "target", "wrt"), GRADIENT_CASES)
def test_gradient_matches_oracle(adapter, api, reduction, target, wrt):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction, target=target)
    observation = adapter.evaluate(binding, case, "gradient", wrt)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed, "gradient", wrt)
    assert observation.gradient.shape == expected.shape
    assert close(observation.gradient, expected), described(case, observation)


@pytest.mark.parametrize(("api", "rank"), [(b.api, rank) for b in BINDINGS
                                             for rank in b.ranks if rank != 2])
def test_other_ranks_match_oracle(adapter, api, rank):
    # axis=1 is the oracle's class axis at every declared rank
    binding = BY_API[api]
    case = make_case(binding, rank=rank, reduction="none")
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert close(observation.value, expected), described(case, observation)


def test_weights_and_smoothing_are_the_oracles(adapter):
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    weights = np.array([0.5, 2.0, 1.0])
    # per-sample weights: the oracle's sample_weight; MLX's mean divides by the number of
    # samples, the oracle's sum_over_batch_size
    for options in ({"sample_weight": weights}, {"label_smoothing": 0.2}):
        case = make_case(binding, reduction="sum_over_batch_size", **options)
        observation = adapter.evaluate(binding, case)
        assert close(observation.value, oracle(case, observation.fed)), options
    bce = BY_API["mlx.nn.losses.binary_cross_entropy"]
    case = make_case(bce, reduction="none", weight=np.array([0.5, 1.0, 2.0, 4.0]))
    observation = adapter.evaluate(bce, case)
    assert close(observation.value, oracle(case, observation.fed))


def test_hand_derived_values(adapter):
    # uniform logits over 4 classes: log 4 per sample; gradient 1/4 - onehot
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "none"})
    assert close(adapter.evaluate(binding, case).value, np.full(3, math.log(4)))
    gradient = adapter.evaluate(binding, case, "gradient").gradient
    assert gradient.tolist() == [[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25],
                                 [0.25, -0.75, 0.25, 0.25]]
    # with_logits=False clips each log at -100 (documented): p = 0 with y = 1 costs 100
    clipped = BY_API["mlx.nn.losses.binary_cross_entropy(with_logits=False)"]
    case = Case("binary_cross_entropy", {"input": np.array([0.0, 0.5]),
                                         "target": np.array([1.0, 1.0])}, {"reduction": "none"})
    assert close(adapter.evaluate(clipped, case).value, np.array([100.0, math.log(2)]))


# --- the environment: float64 is float64, inputs are fed exactly ------------------------------

def test_float64_is_really_float64(adapter):
    mx = adapter.namespace()["mx"]
    assert mx.default_device() == mx.cpu
    binding = BY_API["mlx.nn.losses.binary_cross_entropy"]
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case(binding.loss, {"input": logits, "target": np.zeros((3, 4))},
                {"reduction": "none"}, "float64")
    observation = adapter.evaluate(binding, case)
    assert np.array_equal(observation.fed["input"], logits)
    # softplus(x) grows with x: the 12 distinct float64 inputs give increasing losses (a
    # float32 computation would give one value for all of them)
    assert np.all(np.diff(observation.value.ravel()) >= 0)
    assert len(set(observation.value.ravel().tolist())) > 1


@pytest.mark.parametrize("dtype", DTYPES)
def test_fed_holds_the_rounded_inputs(adapter, dtype):
    binding = BY_API["mlx.nn.losses.binary_cross_entropy"]
    case = make_case(binding, dtype=dtype)
    observation = adapter.evaluate(binding, case)
    fed, given = observation.fed["input"], case.inputs["input"]
    # fed is representable in the dtype: making it again changes nothing
    assert np.array_equal(adapter.to_numpy(adapter.tensor(fed, dtype)), fed)
    # within one ulp: MLX rounds float64 to the half types through float32
    unit = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
    assert np.all(np.abs(fed - given) <= unit[dtype] * np.abs(given))


def test_a_failed_evaluation_raises_rather_than_reading_memory(adapter):
    # float targets of the input's rank less one are class indices MLX cannot gather with; the
    # error surfaces when the lazy loss is evaluated, and must not become a number
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    case = Case("cross_entropy", {"input": np.zeros((2, 3)), "target": np.array([2.0, 0.0])},
                {"reduction": "mean"}, "float64")
    observation = adapter.evaluate(binding, case)
    assert observation.value is None
    assert observation.error[0] == "RuntimeError", observation.error


# --- reproducers -------------------------------------------------------------------------------

def test_reproducers_print_the_observation(adapter):
    observations = []
    for binding in BINDINGS:
        case = make_case(binding, reduction="none")
        observations.append(adapter.evaluate(binding, case))
        observations += [adapter.evaluate(binding, case, "gradient", wrt)
                         for wrt in binding.gradients]
    # a bfloat16 literal prints and reads back exactly too
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    observations.append(adapter.evaluate(binding, make_case(binding, dtype="bfloat16")))
    # an exception reproduces too: label smoothing of 1 (MLX takes [0, 1))
    failing = adapter.evaluate(binding, make_case(binding, label_smoothing=1.0))
    assert failing.error is not None
    observations.append(failing)

    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= {"mlx.core", "mlx.nn"}, observation.reproducer
        assert observation.reproducer.rstrip().endswith("print(result)")

    assert_reproducers_print(observations, ("MLX_",))

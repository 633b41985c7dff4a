"""The JAX/optax adapter: its declarations against the oracle and against what optax does.

Each binding is checked on regular float64 cases against the oracle (values within 2 ulp,
gradients within 4 ulp of their largest entry, every reduction, with and without label
smoothing), float64 is checked to be float64, ``fed`` to hold what jax got, and every
reproducer is run in a fresh interpreter and must print the observed numbers exactly. (The
two-way capability checks are the generic ones of ``tests/test_adapter_contracts.py``.)
Tests that need jax and optax skip with the adapter's "unavailable: ..." reason when they are
missing.
"""

from __future__ import annotations

import ast
import inspect
import math
from typing import ClassVar

import numpy as np
import pytest
from _reproducers import assert_reproducers_print

import reference
from adapters.binding import DTYPES, Binding, Case
from adapters.jax.adapter import BINDINGS, JaxOptaxAdapter

#: unit roundoff of each dtype (ml_dtypes' finfo(bfloat16).eps is 2**-7)
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
SHAPES = {0: (), 1: (4,), 2: (3, 4), 3: (3, 4, 2), 4: (2, 4, 2, 2)}  # 4 classes, oracle layout
BY_API = {b.api: b for b in BINDINGS}


@pytest.fixture(scope="module")
def adapter():
    adapter = JaxOptaxAdapter()
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float64",
              label_smoothing=0.0, seed=0) -> Case:
    """A regular case: logits of order 1, targets away from 0 and 1, 4 classes (rank 0 only for
    the element-wise loss)."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[rank]
    logits = rng.normal(scale=2.0, size=shape)
    class_axis = 0 if rank == 1 else 1
    if binding.loss == "binary_cross_entropy_with_logits":
        target = rng.uniform(0.05, 0.95, size=shape)
    elif "indices" in binding.targets:
        target = rng.integers(0, 4, size=shape[:class_axis] + shape[class_axis + 1:])
    else:
        weights = rng.uniform(0.1, 1.0, size=shape)
        target = weights / weights.sum(axis=class_axis, keepdims=True)
    options = {"reduction": reduction}
    if label_smoothing:
        options["label_smoothing"] = label_smoothing
    return Case(binding.loss, {"input": logits, "target": target}, options, dtype)


def oracle(case: Case, fed, check="value", wrt="input"):
    """The oracle's value or gradient on exactly what the library was fed."""
    if check == "value":
        return np.asarray(getattr(reference, case.loss)(fed["input"], fed["target"],
                                                        **case.options))
    return np.asarray(reference.grad(case.loss, fed["input"], fed["target"], wrt=wrt,
                                     **case.options))


def ulps(observed, expected, scale=None):
    """Error in float64 ulps of ``scale`` (default: of each expected element)."""
    scale = np.abs(expected) if scale is None else scale
    return np.max(np.abs(observed - expected) / (np.spacing(scale) + 0.0), initial=0.0)


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations (no jax needed) ----------------------------------------------------------

def test_declarations_name_oracle_losses_and_keywords():
    assert len(BY_API) == len(BINDINGS), "one binding per API"
    for binding in BINDINGS:
        assert binding.api.startswith("optax."), binding.api
        assert binding.library == "optax", binding.api
        public, _ = reference.LOSSES[binding.loss]
        keywords = set(inspect.signature(public).parameters)
        assert set(binding.options) <= keywords, binding.api
        assert set(binding.reductions) <= {"none", "sum", "mean"}
        assert set(binding.dtypes) <= set(DTYPES)
        assert set(binding.gradients) <= {"input", "target"}


def test_label_smoothing_passes_smooth_labels_as_the_labels():
    binding = BY_API["optax.softmax_cross_entropy"]
    smoothed = make_case(binding, reduction="sum", label_smoothing=0.25)
    assert binding.supports(smoothed) is None
    assert binding.call_source(smoothed) == (
        "jnp.sum(optax.softmax_cross_entropy(input, "
        "optax.smooth_labels(target, 0.25, axis=1), axis=1))")
    plain = make_case(binding, reduction="none")
    assert binding.call_source(plain) == "optax.softmax_cross_entropy(input, target, axis=1)"


def test_missing_library_is_unavailable_with_the_reason():
    class Missing(JaxOptaxAdapter):
        modules: ClassVar[dict[str, str]] = {"optax": "optax_not_installed_here"}
        environment: ClassVar[dict[str, str]] = {}

    reason = Missing().unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "optax_not_installed_here" in reason


# --- agreement with the oracle in float64 ------------------------------------------------------

VALUE_CASES = [(b.api, reduction, smoothing)
               for b in BINDINGS for reduction in b.reductions
               for smoothing in ((0.0, 0.1) if "label_smoothing" in b.options else (0.0,))]


@pytest.mark.parametrize(("api", "reduction", "label_smoothing"), VALUE_CASES)
def test_value_matches_oracle(adapter, api, reduction, label_smoothing):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction, label_smoothing=label_smoothing)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert ulps(observation.value, expected) <= 2, described(case, observation)


GRADIENT_CASES = [(api, reduction, smoothing, wrt)
                  for api, reduction, smoothing in VALUE_CASES for wrt in BY_API[api].gradients]


@pytest.mark.parametrize(("api", "reduction", "label_smoothing", "wrt"), GRADIENT_CASES)
def test_gradient_matches_oracle(adapter, api, reduction, label_smoothing, wrt):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction, label_smoothing=label_smoothing)
    observation = adapter.evaluate(binding, case, "gradient", wrt)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed, "gradient", wrt)
    assert observation.gradient.shape == expected.shape
    # softmax(z) - y cancels: small entries carry the absolute error of the large ones
    assert ulps(observation.gradient, expected, np.max(np.abs(expected))) <= 4, \
        described(case, observation)


@pytest.mark.parametrize(("api", "rank"), [(b.api, rank) for b in BINDINGS
                                             for rank in b.ranks if rank != 2])
def test_other_ranks_match_oracle(adapter, api, rank):
    # the class axis is the oracle's axis 1 at every declared rank (axis=1, or last for (C,))
    binding = BY_API[api]
    case = make_case(binding, rank=rank, reduction="none")
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert ulps(observation.value, expected) <= 2, described(case, observation)


def test_hand_derived_values(adapter):
    # (the shapes of make_case, so jax reuses what it compiled)
    # uniform logits over 4 classes: -log(1/4) = log 4 = 1.386...; gradient 1/4 - onehot
    integer = BY_API["optax.softmax_cross_entropy_with_integer_labels"]
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "none"})
    assert adapter.evaluate(integer, case).value.tolist() == [math.log(4)] * 3
    gradient = adapter.evaluate(integer, case, "gradient").gradient
    assert gradient.tolist() == [[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25],
                                 [0.25, -0.75, 0.25, 0.25]]
    # logit 0: sigmoid 1/2, loss log 2 whatever the label; gradient sigmoid(0) - y = 0.5 - y
    sigmoid = BY_API["optax.sigmoid_binary_cross_entropy"]
    labels = np.array([[0.0, 1.0, 0.0, 1.0]] * 3)
    case = Case("binary_cross_entropy_with_logits",
                {"input": np.zeros((3, 4)), "target": labels}, {"reduction": "none"})
    assert np.all(adapter.evaluate(sigmoid, case).value == math.log(2))
    assert np.array_equal(adapter.evaluate(sigmoid, case, "gradient").gradient, 0.5 - labels)


def test_safe_softmax_takes_0_log_0_as_0(adapter):
    # a -inf logit with label 0 costs nothing: the oracle's 0 * log 0 = 0 (softmax_cross_entropy
    # computes 0 * -inf = NaN there: a finding for the conformance suite, not checked here)
    safe = BY_API["optax.safe_softmax_cross_entropy"]
    logits = np.array([[0.0, -np.inf, 1.0, 2.0], [-np.inf, -np.inf, 0.5, 0.0], [1.0] * 4])
    labels = np.array([[0.5, 0.0, 0.25, 0.25], [0.0, 0.0, 0.5, 0.5], [0.25] * 4])
    case = Case("cross_entropy", {"input": logits, "target": labels}, {"reduction": "none"})
    observation = adapter.evaluate(safe, case)
    assert ulps(observation.value, oracle(case, observation.fed)) <= 2
    observation = adapter.evaluate(safe, case, "gradient", "input")
    expected = oracle(case, observation.fed, "gradient")
    assert ulps(observation.gradient, expected, np.max(np.abs(expected))) <= 4


# --- the environment: float64 is float64, inputs are fed exactly ------------------------------

def test_float64_is_really_float64(adapter):
    jax = adapter.namespace()["jax"]
    assert jax.config.jax_enable_x64
    assert jax.devices()[0].platform == "cpu"
    binding = BY_API["optax.softmax_cross_entropy_with_integer_labels"]
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed and in the value
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case("cross_entropy", {"input": logits, "target": np.array([0, 3, 1])},
                {"reduction": "none"})
    observation = adapter.evaluate(binding, case)
    assert np.array_equal(observation.fed["input"], logits)
    assert ulps(observation.value, oracle(case, observation.fed)) <= 2


@pytest.mark.parametrize("dtype", DTYPES)
def test_fed_holds_the_rounded_inputs(adapter, dtype):
    binding = BY_API["optax.sigmoid_binary_cross_entropy"]
    case = make_case(binding, dtype=dtype)
    observation = adapter.evaluate(binding, case)
    fed, given = observation.fed["input"], case.inputs["input"]
    rounded = np.asarray(adapter.tensor(fed, dtype))  # fed is representable in the dtype
    assert np.array_equal(rounded.astype(np.float64), fed)
    # within one ulp: jax and ml_dtypes round float64 -> bfloat16 through float32
    assert np.all(np.abs(fed - given) <= 2 * EPS[dtype] * np.abs(given))


# --- reproducers -------------------------------------------------------------------------------

def test_reproducers_print_the_observation(adapter):
    observations = []
    for binding in BINDINGS:
        smoothing = 0.1 if "label_smoothing" in binding.options else 0.0
        case = make_case(binding, reduction="none", label_smoothing=smoothing)
        observations.append(adapter.evaluate(binding, case))
        observations += [adapter.evaluate(binding, case, "gradient", wrt)
                         for wrt in binding.gradients]
    # a bfloat16 literal prints and reads back exactly too
    binding = BY_API["optax.softmax_cross_entropy"]
    observations.append(adapter.evaluate(binding, make_case(binding, dtype="bfloat16")))
    # an exception reproduces too: axis=1 of a rank-1 input
    failing = adapter.evaluate(binding, make_case(binding, rank=1))
    assert failing.error is not None
    observations.append(failing)

    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= {"os", "jax", "jax.numpy", "optax"}, observation.reproducer
        assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
        assert observation.reproducer.rstrip().endswith("print(result)")

    assert_reproducers_print(observations, ("JAX_", "XLA_"))

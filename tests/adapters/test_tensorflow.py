"""The TensorFlow adapter (``tf.nn``): its declarations against the oracle and against TensorFlow.

Each binding is checked on regular float64 cases against the oracle (values within a few ulp,
gradients within a few ulp of their largest entry, every reduction and declared rank), every
dtype within a bound of its own rounding unit, float64 to be float64, ``fed`` to hold what
TensorFlow got, and every reproducer is run in a fresh interpreter and must print the observed
numbers exactly. (The two-way capability checks are the generic ones of
``tests/test_adapter_contracts.py``.) Tests that need TensorFlow skip with the adapter's
"unavailable: ..." reason when it is missing.
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
from adapters.tensorflow.adapter import BINDINGS, TfAdapter

#: unit roundoff of each dtype
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
SHAPES = {0: (), 1: (4,), 2: (3, 4), 3: (3, 4, 2), 4: (2, 4, 2, 2)}  # 4 classes, oracle layout
BY_API = {b.api: b for b in BINDINGS}


@pytest.fixture(scope="module")
def adapter():
    adapter = TfAdapter()
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float64", seed=0) -> Case:
    """A regular case: logits of order 1, soft targets away from 0 and 1, 4 classes; the
    weighted form gets a pos_weight per class (the last axis)."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[rank]
    inputs = {"input": rng.normal(scale=2.0, size=shape)}
    class_axis = 0 if rank == 1 else 1
    if binding.loss == "binary_cross_entropy_with_logits":
        inputs["target"] = rng.uniform(0.05, 0.95, size=shape)
    elif "indices" in binding.targets:
        inputs["target"] = rng.integers(0, 4, size=shape[:class_axis] + shape[class_axis + 1:])
    else:
        weights = rng.uniform(0.1, 1.0, size=shape)
        inputs["target"] = weights / weights.sum(axis=class_axis, keepdims=True)
    if "pos_weight" in binding.required:
        inputs["pos_weight"] = rng.uniform(0.5, 3.0, size=shape[-1:])
    return Case(binding.loss, inputs, {"reduction": reduction}, dtype)


def oracle(case: Case, fed, check="value", wrt="input"):
    """The oracle's value or gradient on exactly what the library was fed."""
    if check == "value":
        return np.asarray(getattr(reference, case.loss)(**fed, **case.options))
    return np.asarray(reference.grad(case.loss, wrt=wrt, **fed, **case.options))


def ulps(observed, expected, scale=None):
    """Error in float64 ulps of ``scale`` (default: of each expected element)."""
    scale = np.abs(expected) if scale is None else scale
    return np.max(np.abs(observed - expected) / np.spacing(scale), initial=0.0)


def largest(expected):
    return np.max(np.abs(expected))


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations (no TensorFlow needed) ---------------------------------------------------

def test_declarations_name_oracle_losses_and_keywords():
    assert len(BY_API) == len(BINDINGS), "one binding per API"
    for binding in BINDINGS:
        assert binding.api.startswith("tf.nn."), binding.api
        assert binding.expression.startswith(binding.api + "("), binding.api
        assert binding.library == "tensorflow"
        public, _ = reference.LOSSES[binding.loss]
        assert set(binding.options) <= set(inspect.signature(public).parameters), binding.api
        assert set(binding.required) <= set(binding.options)
        assert set(binding.reductions) == {"none", "sum", "mean"}
        assert set(binding.dtypes) <= set(DTYPES)
        assert set(binding.gradients) <= {"input", "target"}


def test_reductions_wrap_the_call_as_users_write_them():
    sigmoid = BY_API["tf.nn.sigmoid_cross_entropy_with_logits"]
    assert sigmoid.call_source(make_case(sigmoid, reduction="mean")) == (
        "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input))")
    assert sigmoid.call_source(make_case(sigmoid, reduction="none")) == (
        "tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input)")
    weighted = BY_API["tf.nn.weighted_cross_entropy_with_logits"]
    assert weighted.call_source(make_case(weighted, reduction="sum")) == (
        "tf.reduce_sum(tf.nn.weighted_cross_entropy_with_logits(labels=target, logits=input, "
        "pos_weight=pos_weight))")


def test_weighted_form_requires_pos_weight():
    weighted = BY_API["tf.nn.weighted_cross_entropy_with_logits"]
    case = make_case(weighted)
    assert weighted.supports(case) is None
    without = Case(case.loss, {k: v for k, v in case.inputs.items() if k != "pos_weight"},
                   case.options)
    assert weighted.supports(without) == "option pos_weight is required"


def test_missing_library_is_unavailable_with_the_reason():
    class Missing(TfAdapter):
        modules: ClassVar[dict[str, str]] = {"tf": "tensorflow_not_installed_here"}
        environment: ClassVar[dict[str, str]] = {}

    reason = Missing().unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "tensorflow_not_installed_here" in reason


# --- agreement with the oracle in float64 ------------------------------------------------------

# Bounds in ulps of the largest loss (gradient entry) of the case: TensorFlow's formulas lose a
# few bits to cancellation (max(x, 0) - x * z + log1p(exp(-|x|)) for small losses, logsumexp(z)
# - z_y in the sparse form, up to 7 ulp in 30 random cases); a wrong formula, axis or
# reduction misses by far more.
VALUE_ULPS = 16
GRADIENT_ULPS = 8
VALUE_CASES = [(b.api, reduction) for b in BINDINGS for reduction in b.reductions]


@pytest.mark.parametrize(("api", "reduction"), VALUE_CASES)
def test_value_matches_oracle(adapter, api, reduction):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert ulps(observation.value, expected, largest(expected)) <= VALUE_ULPS, \
        described(case, observation)


GRADIENT_CASES = [(api, reduction, wrt) for api, reduction in VALUE_CASES
                  for wrt in BY_API[api].gradients]


@pytest.mark.parametrize(("api", "reduction", "wrt"), GRADIENT_CASES)
def test_gradient_matches_oracle(adapter, api, reduction, wrt):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction)
    observation = adapter.evaluate(binding, case, "gradient", wrt)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed, "gradient", wrt)
    assert observation.gradient.shape == expected.shape
    # softmax(z) - y cancels: small entries carry the absolute error of the large ones
    assert ulps(observation.gradient, expected, largest(expected)) <= GRADIENT_ULPS, \
        described(case, observation)


@pytest.mark.parametrize(("api", "rank"), [(b.api, rank) for b in BINDINGS
                                             for rank in b.ranks if rank != 2])
def test_other_ranks_match_oracle(adapter, api, rank):
    # softmax_cross_entropy_with_logits takes axis=1; the sparse form's classes are last, the
    # oracle's axis 1 at ranks 1 and 2
    binding = BY_API[api]
    case = make_case(binding, rank=rank, reduction="none")
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert ulps(observation.value, expected, largest(expected)) <= VALUE_ULPS, \
        described(case, observation)


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "float64"])
def test_every_dtype_within_its_rounding(adapter, dtype):
    # computed in the dtype: a few units of its rounding, relative to the largest loss
    for binding in BINDINGS:
        case = make_case(binding, reduction="none", dtype=dtype)
        observation = adapter.evaluate(binding, case)
        assert observation.error is None, described(case, observation)
        expected = oracle(case, observation.fed)
        error = np.max(np.abs(observation.value - expected)) / np.max(np.abs(expected))
        assert error <= 8 * EPS[dtype], described(case, observation)


def test_hand_derived_values(adapter):
    # uniform logits over 4 classes: -log(1/4) = log 4 = 1.386...; gradient 1/4 - onehot
    sparse = BY_API["tf.nn.sparse_softmax_cross_entropy_with_logits"]
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "none"})
    assert np.allclose(adapter.evaluate(sparse, case).value, math.log(4), rtol=2**-52, atol=0)
    gradient = adapter.evaluate(sparse, case, "gradient").gradient
    assert gradient.tolist() == [[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25],
                                 [0.25, -0.75, 0.25, 0.25]]
    # logit 0: sigmoid 1/2, loss log 2 whatever the label; gradient sigmoid(0) - y = 0.5 - y;
    # with pos_weight q the positive term is q * log 2
    labels = np.array([[0.0, 1.0, 0.0, 1.0]] * 3)
    sigmoid = BY_API["tf.nn.sigmoid_cross_entropy_with_logits"]
    case = Case("binary_cross_entropy_with_logits",
                {"input": np.zeros((3, 4)), "target": labels}, {"reduction": "none"})
    assert np.all(adapter.evaluate(sigmoid, case).value == math.log(2))
    assert np.array_equal(adapter.evaluate(sigmoid, case, "gradient").gradient, 0.5 - labels)
    weighted = BY_API["tf.nn.weighted_cross_entropy_with_logits"]
    case = case.with_inputs(pos_weight=np.array(3.0))
    value = adapter.evaluate(weighted, case).value
    assert np.allclose(value, np.where(labels == 1, 3 * math.log(2), math.log(2)),
                       rtol=2**-51, atol=0)


def test_sparse_label_out_of_range_is_an_observed_error(adapter):
    # on the CPU TensorFlow raises; the observation records it, the suite keeps going
    sparse = BY_API["tf.nn.sparse_softmax_cross_entropy_with_logits"]
    case = Case("cross_entropy", {"input": np.zeros((2, 4)), "target": np.array([0, 4])},
                {"reduction": "none"})
    observation = adapter.evaluate(sparse, case)
    assert observation.value is None
    assert observation.error[0].endswith("InvalidArgumentError"), observation.error


# --- the environment: float64 is float64, inputs are fed exactly ------------------------------

def test_float64_is_really_float64(adapter):
    binding = BY_API["tf.nn.sparse_softmax_cross_entropy_with_logits"]
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed and in the value
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case("cross_entropy", {"input": logits, "target": np.array([0, 3, 1])},
                {"reduction": "none"})
    observation = adapter.evaluate(binding, case)
    assert np.array_equal(observation.fed["input"], logits)
    expected = oracle(case, observation.fed)
    assert ulps(observation.value, expected, largest(expected)) <= VALUE_ULPS


@pytest.mark.parametrize("dtype", DTYPES)
def test_fed_holds_the_rounded_inputs(adapter, dtype):
    binding = BY_API["tf.nn.weighted_cross_entropy_with_logits"]
    case = make_case(binding, dtype=dtype)
    observation = adapter.evaluate(binding, case)
    for name, given in case.inputs.items():
        fed = observation.fed[name]
        # fed is representable in the dtype: rounding it again changes nothing
        assert np.array_equal(adapter.to_numpy(adapter.tensor(fed, dtype)), fed), name
        assert np.all(np.abs(fed - given) <= EPS[dtype] * np.abs(given)), name


# --- reproducers -------------------------------------------------------------------------------

def test_reproducers_print_the_observation(adapter):
    observations = []
    for binding in BINDINGS:
        case = make_case(binding, reduction="mean")
        observations.append(adapter.evaluate(binding, case))
        observations += [adapter.evaluate(binding, case, "gradient", wrt)
                         for wrt in binding.gradients]
    # bfloat16 and float16 literals print and read back exactly too
    sigmoid = BY_API["tf.nn.sigmoid_cross_entropy_with_logits"]
    for dtype in ("bfloat16", "float16"):
        observations.append(adapter.evaluate(sigmoid, make_case(sigmoid, reduction="none",
                                                                dtype=dtype)))
    # an exception reproduces too: a class index out of range
    sparse = BY_API["tf.nn.sparse_softmax_cross_entropy_with_logits"]
    failing = adapter.evaluate(sparse, Case("cross_entropy", {
        "input": np.zeros((2, 4)), "target": np.array([0, 4])}, {"reduction": "none"}))
    assert failing.error is not None
    observations.append(failing)

    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= {"os", "tensorflow"}, observation.reproducer
        assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
        assert "os.environ['TF_DETERMINISTIC_OPS'] = '1'" in observation.reproducer
        assert observation.reproducer.rstrip().endswith("print(result)")

    assert_reproducers_print(observations, ("TF_", "KERAS_"))

"""The Keras adapter: its declarations against the oracle and against Keras on this environment's
backend (``KERAS_BACKEND``, or tf_keras with ``TF_USE_LEGACY_KERAS=1``).

The declarations of every backend are checked without importing anything. On the environment's
backend each binding is checked on regular float64 cases against the oracle (every reduction,
with each option it offers), every dtype within a bound of its rounding unit, Keras's clipping
against the oracle's statement of it, float64 inputs to arrive unrounded, ``fed`` to hold what
Keras got, and every reproducer is run in a fresh interpreter and must print the observed numbers
exactly. (The two-way capability checks are the generic ones of
``tests/test_adapter_contracts.py``.) Tests that need Keras skip with the adapter's
"unavailable: ..." reason when it is missing.

Where Keras's numbers are not the exact loss, the oracle is given the options that state what
Keras does, as read in its source (Keras 3.15, tf_keras 2.21):

- probabilities are clipped to ``[1e-7, 1 - 1e-7]`` (``backend.epsilon()``) before the log:
  ``clip_epsilon=(1e-7, 1 - 1e-7)``; tf_keras also adds ``1e-7`` inside both logs of binary
  cross-entropy (``log_offset=1e-7``); the torch backend then calls torch's binary cross-entropy,
  which clamps the log at -100 (``log_clamp=-100``);
- categorical probabilities are divided by their sum over the class axis first
  (``renormalize=True``);
- off TensorFlow, Keras's type promotion maps float64 to float32
  (``keras/src/backend/common/dtypes.py``, ``BIT64_TO_BIT32_DTYPE``), so ``ops.mean`` (the
  per-sample mean of binary cross-entropy), the mean reductions' ``divide_no_nan`` and, on the
  numpy backend, ``convert_to_tensor`` without a dtype run in float32: float64 cases there are
  held to float32's rounding unit.
"""

from __future__ import annotations

import ast
import inspect
import math

import numpy as np
import pytest
from _reproducers import assert_reproducers_print

import reference
from adapters.binding import DTYPES, Binding, Case
from adapters.keras.adapter import BACKENDS, KerasAdapter, backend_from_environment, bindings_for

EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
SHAPES = {1: (4,), 2: (3, 4), 3: (3, 2, 4), 4: (2, 2, 2, 4)}  # 4 classes on the last axis
BACKEND = backend_from_environment()
BINDINGS = bindings_for(BACKEND)
BY_API = {b.api: b for b in BINDINGS}
PREFIX = "tf.keras" if BACKEND == "tf_keras" else "keras"
EPSILON = 1e-7  # keras.backend.epsilon()


@pytest.fixture(scope="module")
def adapter():
    adapter = KerasAdapter()
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float64", options=(),
              seed=0) -> Case:
    """A regular case with 4 classes: logits of order 1, probabilities in [0.05, 0.95] (summing
    to 1 over the classes for the categorical losses), soft targets away from 0 and 1.
    ``options`` names the options to set: label_smoothing 0.1, ignore_index 1, a sample weight
    per sample."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[rank]
    logits = rng.normal(scale=2.0, size=shape)
    weights = rng.uniform(0.1, 1.0, size=shape)
    simplex = weights / weights.sum(axis=-1, keepdims=True)
    if binding.loss.startswith("binary"):
        probabilities = rng.uniform(0.05, 0.95, size=shape)
        inputs = {"input": logits if binding.loss.endswith("logits") else probabilities,
                  "target": rng.uniform(0.05, 0.95, size=shape)}
    else:
        inputs = {"input": logits if binding.loss == "cross_entropy" else simplex}
        if "indices" in binding.targets:
            inputs["target"] = rng.integers(0, 4, size=shape[:-1])
        else:
            inputs["target"] = rng.dirichlet(np.ones(4), size=shape[:-1])
    scalars = {"reduction": reduction}
    if "label_smoothing" in options:
        scalars["label_smoothing"] = 0.1
    if "ignore_index" in options:
        scalars["ignore_index"] = 1
        inputs["target"] = np.array([2, 1, 0])  # the second sample is ignored
    if "sample_weight" in options:
        inputs["sample_weight"] = rng.uniform(0.2, 2.0, size=shape[:-1])
    return Case(binding.loss, inputs, scalars, dtype)


def keras_numerics(binding: Binding) -> dict:
    """The oracle options that state Keras's clipping and renormalisation (module docstring)."""
    bounds = (EPSILON, 1 - EPSILON)
    if BACKEND == "numpy":  # float64 is computed in float32 there, the clip bounds too
        bounds = tuple(float(np.float32(b)) for b in bounds)
    if binding.loss == "binary_cross_entropy":
        options = {"clip_epsilon": bounds}
        if BACKEND == "tf_keras":
            options["log_offset"] = EPSILON
        if BACKEND == "torch":
            options["log_clamp"] = -100.0
        return options
    if binding.loss == "categorical_cross_entropy":
        return {"renormalize": True, "clip_epsilon": bounds}
    return {}


def oracle(binding: Binding, case: Case, fed, check="value", wrt="input", numerics=True):
    """The oracle on exactly what Keras was fed, with the binding's fixed options (and, unless
    ``numerics`` is False, Keras's clipping and renormalisation)."""
    options = {**case.options, **binding.fixed_options,
               **(keras_numerics(binding) if numerics else {})}
    if check == "value":
        return np.asarray(getattr(reference, case.loss)(**fed, **options))
    return np.asarray(reference.grad(case.loss, wrt=wrt, **fed, **options))


def unit(dtype: str) -> float:
    """The rounding unit a case of ``dtype`` is held to (float32's for float64 off TensorFlow)."""
    if dtype == "float64" and BACKEND not in ("tensorflow", "tf_keras"):
        return EPS["float32"]
    return EPS[dtype]


def error(observed, expected) -> float:
    """The largest error relative to the largest expected magnitude."""
    scale = np.max(np.abs(expected))
    return float(np.max(np.abs(observed - expected)) / scale)


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations of every backend (no Keras needed) ---------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_declarations_name_oracle_losses_and_keywords(backend):
    bindings = bindings_for(backend)
    prefix = "tf.keras" if backend == "tf_keras" else "keras"
    assert len({b.api for b in bindings}) == len(bindings) == 12, "one binding per API"
    for binding in bindings:
        assert binding.api.startswith(prefix + ".losses."), binding.api
        assert binding.expression.startswith(binding.api.split("(")[0] + "("), binding.api
        assert binding.library == ("tf_keras" if backend == "tf_keras" else "keras")
        public, _ = reference.LOSSES[binding.loss]
        keywords = set(inspect.signature(public).parameters)
        assert set(binding.options) <= keywords, binding.api
        assert set(binding.fixed_options) <= keywords, binding.api
        assert set(binding.reductions) <= {"none", "sum", "mean", "sum_over_batch_size",
                                           "weighted_mean"}
        assert set(binding.dtypes) <= set(DTYPES)
        assert set(binding.gradients) <= ({"input", "target"} if backend != "numpy" else set())
        on_logits = binding.loss in ("binary_cross_entropy_with_logits", "cross_entropy")
        assert ("from_logits=True" in binding.api) == on_logits, binding.api
        # Keras's numeric conventions are findings, never declarations
        assert not {"clip_epsilon", "log_offset", "renormalize"} & set(binding.fixed_options)
        if binding.loss.startswith("binary"):
            assert binding.fixed_options == {"average_last_axis": True}


def test_loss_objects_take_sample_weight_at_the_call_and_dtype_at_construction():
    binding = bindings_for("jax")[0]
    assert binding.api == "keras.losses.BinaryCrossentropy"
    case = make_case(binding, reduction="sum", dtype="float16",
                     options=("label_smoothing", "sample_weight"))
    assert binding.call_source(case) == (
        "keras.losses.BinaryCrossentropy(from_logits=False, reduction='sum', label_smoothing=0.1, "
        "dtype='float16')(target, input, sample_weight=sample_weight)")
    legacy = bindings_for("tf_keras")[0]
    assert legacy.call_source(case) == (
        "tf.keras.losses.BinaryCrossentropy(from_logits=False, reduction='sum', "
        "label_smoothing=0.1)(target, input, sample_weight=sample_weight)")
    function = next(b for b in bindings_for("jax")
                    if b.api == "keras.losses.binary_crossentropy(from_logits=True)")
    case = make_case(function, reduction="none", options=("label_smoothing",))
    assert function.call_source(case) == (
        "keras.losses.binary_crossentropy(target, input, from_logits=True, "
        "label_smoothing=0.1)")


def test_reductions_map_to_keras_literals():
    by_api = {b.api: b for b in bindings_for("torch")}
    plain = by_api["keras.losses.CategoricalCrossentropy(from_logits=True)"]
    assert plain.reductions == {"none": "None", "sum": "'sum'",
                                "sum_over_batch_size": "'sum_over_batch_size'", "mean": "'mean'",
                                "weighted_mean": "'mean_with_sample_weight'"}
    # class indices with logits: the oracle's "mean" is the sample-weighted mean
    sparse = by_api["keras.losses.SparseCategoricalCrossentropy(from_logits=True)"]
    assert sparse.reductions["mean"] == "'mean_with_sample_weight'"
    assert sparse.reductions["weighted_mean"] == "'mean_with_sample_weight'"
    assert by_api["keras.losses.sparse_categorical_crossentropy"].reductions == {"none": ""}
    legacy = {b.api: b for b in bindings_for("tf_keras")}
    assert set(legacy["tf.keras.losses.BinaryCrossentropy"].reductions) == {
        "none", "sum", "sum_over_batch_size"}


def test_the_environment_selects_the_backend(monkeypatch):
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert backend_from_environment() == "tensorflow"  # Keras's own default
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backend_from_environment() == "jax"
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    assert backend_from_environment() == "tf_keras"
    assert KerasAdapter().library == "tf_keras"
    # what a reproducer sets, so that it runs on the same backend, set up as its framework
    assert KerasAdapter("jax").environment == {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
                                               "JAX_ENABLE_X64": "1",
                                               "JAX_DEFAULT_MATMUL_PRECISION": "highest"}
    assert KerasAdapter("tf_keras").environment["TF_USE_LEGACY_KERAS"] == "1"
    assert KerasAdapter("tensorflow").environment["TF_DETERMINISTIC_OPS"] == "1"
    with pytest.raises(ValueError, match="unknown Keras backend"):
        KerasAdapter("theano")


def test_missing_library_is_unavailable_with_the_reason(monkeypatch):
    class Missing(KerasAdapter):
        def __init__(self):
            super().__init__("numpy")
            self.modules = {"keras": "keras_not_installed_here"}

    for key in Missing().environment:
        monkeypatch.delenv(key, raising=False)  # restored after the test
    reason = Missing().unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "keras_not_installed_here" in reason


# --- agreement with the oracle in float64 ------------------------------------------------------

# (axis: see test_axis_matches_oracle)
VALUE_CASES = [(b.api, reduction, option) for b in BINDINGS for reduction in b.reductions
               for option in (None, *b.options) if option != "axis"]


@pytest.mark.parametrize(("api", "reduction", "option"), VALUE_CASES)
def test_value_matches_oracle(adapter, api, reduction, option):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction, options=(option,))
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(binding, case, observation.fed)
    assert observation.value.shape == expected.shape
    assert error(observation.value, expected) <= 16 * unit("float64"), \
        described(case, observation)


GRADIENT_CASES = [(b.api, reduction, wrt) for b in BINDINGS for reduction in b.reductions
                  for wrt in b.gradients]


@pytest.mark.parametrize(("api", "reduction", "wrt"), GRADIENT_CASES)
def test_gradient_matches_oracle(adapter, api, reduction, wrt):
    binding = BY_API[api]
    options = ("sample_weight",) if "sample_weight" in binding.options else ()
    case = make_case(binding, reduction=reduction, options=options)
    observation = adapter.evaluate(binding, case, "gradient", wrt)
    assert observation.error is None, described(case, observation)
    expected = oracle(binding, case, observation.fed, "gradient", wrt)
    assert observation.gradient.shape == expected.shape
    assert error(observation.gradient, expected) <= 16 * unit("float64"), \
        described(case, observation)


@pytest.mark.parametrize(("api", "rank"), [(b.api, rank) for b in BINDINGS
                                             for rank in b.ranks if rank in (1, 3, 4)])
def test_other_ranks_match_oracle(adapter, api, rank):
    binding = BY_API[api]
    case = make_case(binding, rank=rank, reduction="none")
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(binding, case, observation.fed)
    assert observation.value.shape == expected.shape
    assert error(observation.value, expected) <= 16 * unit("float64"), \
        described(case, observation)


def test_axis_matches_oracle(adapter):
    # classes on axis 1 of (N, C, d): categorical_crossentropy(axis=1), the oracle's axis=1
    for name in ("CategoricalCrossentropy", "categorical_crossentropy"):
        binding = BY_API[f"{PREFIX}.losses.{name}"]
        rng = np.random.default_rng(1)
        p, q = rng.dirichlet(np.ones(4), size=(3, 2)), rng.dirichlet(np.ones(4), size=(3, 2))
        case = Case(binding.loss, {"input": np.moveaxis(p, -1, 1), "target": np.moveaxis(q, -1, 1)},
                    {"reduction": "none", "axis": 1})
        observation = adapter.evaluate(binding, case)
        assert observation.error is None, described(case, observation)
        expected = oracle(binding, case, observation.fed)
        assert expected.shape == (3, 2)
        assert error(observation.value, expected) <= 16 * unit("float64"), \
            described(case, observation)


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d != "float64"])
def test_every_dtype_within_its_rounding(adapter, dtype):
    for binding in BINDINGS:
        case = make_case(binding, reduction="none", dtype=dtype)
        observation = adapter.evaluate(binding, case)
        assert observation.error is None, described(case, observation)
        assert error(observation.value, oracle(binding, case, observation.fed)) <= 8 * EPS[dtype], \
            described(case, observation)


def test_clipping_is_what_keras_documents(adapter):
    # p = 0 with y = 1 costs +inf exactly; Keras clips p to 1e-7 and reports -log(1e-7) = 16.1
    binary = BY_API[f"{PREFIX}.losses.binary_crossentropy"]
    case = Case(binary.loss, {"input": np.array([[0.0, 1.0, 0.5, 1.0]]),
                              "target": np.array([[1.0, 0.0, 1.0, 1.0]])}, {"reduction": "none"})
    observation = adapter.evaluate(binary, case)
    assert oracle(binary, case, observation.fed, numerics=False).tolist() == [math.inf]
    expected = oracle(binary, case, observation.fed)
    assert 7 < expected[0] < 9  # (2 * 16.1 + log 2) / 4; tf_keras: (2 * -log(2e-7) + log 2) / 4
    assert error(observation.value, expected) <= 16 * unit("float64"), \
        described(case, observation)
    # categorical: renormalised, then clipped; a zero probability at the target costs 16.1,
    # [3/8, 3/16, 3/16, 0] is [1/2, 1/4, 1/4, 0] renormalised
    categorical = BY_API[f"{PREFIX}.losses.categorical_crossentropy"]
    case = Case(categorical.loss, {"input": np.array([[0.0, 0.25, 0.25, 0.5],
                                                      [0.375, 0.1875, 0.1875, 0.0]]),
                                   "target": np.array([[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]])},
                {"reduction": "none"})
    observation = adapter.evaluate(categorical, case)
    expected = oracle(categorical, case, observation.fed)
    lowest = keras_numerics(categorical)["clip_epsilon"][0]
    assert expected[0] == pytest.approx(-math.log(lowest), rel=1e-15)
    assert expected[1] == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(4), rel=1e-15)
    assert error(observation.value, expected) <= 16 * unit("float64"), \
        described(case, observation)


def test_hand_derived_values(adapter):
    # uniform logits over 4 classes: -log(1/4) = log 4 = 1.386...; ignore_class drops the sample
    # of class 3, and "sum_over_batch_size" divides by the 2 samples kept: still log 4
    sparse = BY_API[f"{PREFIX}.losses.SparseCategoricalCrossentropy(from_logits=True)"]
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "sum_over_batch_size", "ignore_index": 3})
    assert adapter.evaluate(sparse, case).value == pytest.approx(math.log(4),
                                                                 rel=4 * unit("float64"))
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "none", "ignore_index": 3})
    assert adapter.evaluate(sparse, case).value.tolist() == pytest.approx(
        [0.0, math.log(4), math.log(4)], rel=4 * unit("float64"))
    # logit 0: loss log 2 for every label, averaged over the last axis: log 2 per sample;
    # gradient of the per-sample mean: (sigmoid(0) - y) / 4
    binary = BY_API[f"{PREFIX}.losses.binary_crossentropy(from_logits=True)"]
    labels = np.array([[0.0, 1.0, 0.0, 1.0]] * 3)
    case = Case("binary_cross_entropy_with_logits",
                {"input": np.zeros((3, 4)), "target": labels}, {"reduction": "none"})
    assert adapter.evaluate(binary, case).value.tolist() == pytest.approx(
        [math.log(2)] * 3, rel=4 * unit("float64"))
    if "input" in binary.gradients:
        gradient = adapter.evaluate(binary, case, "gradient").gradient
        assert np.array_equal(gradient, (0.5 - labels) / 4)


# --- the environment: float64 inputs arrive unrounded, inputs are fed exactly ------------------

def test_float64_inputs_are_fed_unrounded(adapter):
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed
    binding = BY_API[f"{PREFIX}.losses.SparseCategoricalCrossentropy(from_logits=True)"]
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case("cross_entropy", {"input": logits, "target": np.array([0, 3, 1])},
                {"reduction": "none"})
    observation = adapter.evaluate(binding, case)
    assert np.array_equal(observation.fed["input"], logits)
    assert error(observation.value, oracle(binding, case, observation.fed)) <= \
        16 * unit("float64")


@pytest.mark.parametrize("dtype", DTYPES)
def test_fed_holds_the_rounded_inputs(adapter, dtype):
    binding = BY_API[f"{PREFIX}.losses.BinaryCrossentropy(from_logits=True)"]
    case = make_case(binding, dtype=dtype, reduction="sum", options=("sample_weight",))
    observation = adapter.evaluate(binding, case)
    for name, given in case.inputs.items():
        fed = observation.fed[name]
        # fed is representable in the dtype: rounding it again changes nothing
        assert np.array_equal(adapter.to_numpy(adapter.tensor(fed, dtype)), fed), name
        assert np.all(np.abs(fed - given) <= EPS[dtype] * np.abs(given)), name


# --- reproducers -------------------------------------------------------------------------------

ALLOWED_IMPORTS = {"tensorflow": {"keras", "tensorflow"},
                   "jax": {"keras", "jax", "jax.numpy"}, "torch": {"keras", "torch"},
                   "numpy": {"keras"}, "tf_keras": {"tensorflow"}}


def test_reproducers_print_the_observation(adapter):
    observations = []
    for binding in BINDINGS:
        reduction = next(r for r in ("mean", "sum_over_batch_size", "none")
                         if r in binding.reductions)
        case = make_case(binding, reduction=reduction, options=tuple(
            o for o in binding.options if o != "axis"))
        observations.append(adapter.evaluate(binding, case))
        observations += [adapter.evaluate(binding, case, "gradient", wrt)
                         for wrt in binding.gradients]
    # bfloat16 and float16 literals print and read back exactly too
    binary = BY_API[f"{PREFIX}.losses.BinaryCrossentropy"]
    for dtype in ("bfloat16", "float16"):
        observations.append(adapter.evaluate(binary, make_case(binary, reduction="sum",
                                                               dtype=dtype)))
    # an exception reproduces too: targets of another shape
    failing = adapter.evaluate(binary, Case(binary.loss, {
        "input": np.full((2, 3), 0.5), "target": np.full((2, 5), 0.5)}, {"reduction": "none"}))
    assert failing.error is not None
    observations.append(failing)

    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= {"os"} | ALLOWED_IMPORTS[BACKEND], observation.reproducer
        assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
        for key, value in adapter.environment.items():
            assert f"os.environ[{key!r}] = {value!r}" in observation.reproducer
        assert observation.reproducer.rstrip().endswith("print(result)")

    assert_reproducers_print(observations, ("KERAS_", "TF_", "JAX_", "XLA_"))

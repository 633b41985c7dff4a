"""The ONNX adapters (ONNX Runtime and onnx.reference): their declarations against the oracle and
against the runtimes.

Each binding is checked on regular cases against the oracle (float64 values within a few ulp of
the largest loss, every reduction, rank and option; every declared dtype within a bound of its
own rounding unit), float64 to be float64, ``fed`` to hold what the runtime got, the model cache
to build one model per (operator, attributes, dtypes, ranks), and every reproducer is run in a
fresh interpreter and must print the observed numbers exactly. (The two-way capability checks
are the generic ones of ``tests/test_adapter_contracts.py``.) Tests that need a runtime skip
with the adapter's "unavailable: ..." reason when it is missing.
"""

from __future__ import annotations

import ast
import math

import numpy as np
import pytest
from _reproducers import assert_reproducers_print

import reference
from adapters.binding import Binding, Case
from adapters.onnx.adapter import ADAPTERS, OPSET, RUNNER

#: unit roundoff of each dtype
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
SHAPES = {2: (3, 4), 3: (3, 4, 2), 4: (2, 4, 2, 2)}  # 4 classes on axis 1
_INSTANCES = {cls: cls() for cls in ADAPTERS}
BINDINGS = [(cls, b) for cls in ADAPTERS for b in cls.bindings]
IDS = [b.api for _, b in BINDINGS]


def adapter_of(cls):
    adapter = _INSTANCES[cls]
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float64", weight=False,
              ignore_index=None, seed=0) -> Case:
    """Logits of order 1 (log-probabilities for NegativeLogLikelihoodLoss), 4 classes, class
    indices; optionally a weight per class and an ignore_index."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[rank]
    logits = rng.normal(scale=2.0, size=shape)
    if binding.loss == "nll_loss":
        logits = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    inputs = {"input": logits, "target": rng.integers(0, 4, size=shape[:1] + shape[2:])}
    if weight:
        inputs["weight"] = rng.uniform(0.5, 2.0, size=4)
    options = {"reduction": reduction}
    if ignore_index is not None:
        options["ignore_index"] = ignore_index
    return Case(binding.loss, inputs, options, dtype)


def oracle(case: Case, fed):
    return np.asarray(getattr(reference, case.loss)(**fed, **case.options))


def largest_error(observed, expected):
    """The error in float64 ulps of the largest expected element."""
    return np.max(np.abs(observed - expected)) / np.spacing(np.max(np.abs(expected)))


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations (no runtime needed) ------------------------------------------------------

def test_declarations_name_the_operators_and_oracle_keywords():
    for cls, binding in BINDINGS:
        operator = binding.api.rsplit(".", 1)[-1]
        assert binding.library == cls.library
        assert binding.expression.startswith(operator + "(input, target"), binding.api
        assert binding.surface == (operator,)
        # the documented parameters are the operator's inputs and attributes: none left out
        assert set(binding.documented_signatures) == {operator}
        assert binding.out_of_scope == {}
        assert set(binding.options) == {"weight", "ignore_index"}
        assert set(binding.reductions) == {"none", "sum", "mean"}
        assert binding.gradients == ()
        assert binding.targets == ("indices",)
        # the runner defines a function of the operator's name with the documented parameters
        defined = {node.name: node for node in ast.parse(RUNNER[cls.library]).body
                   if isinstance(node, ast.FunctionDef)}
        signature = binding.documented_signatures[operator]
        assert operator in defined, binding.api
        documented = ast.parse(f"def _{signature}: pass").body[0].args
        assert ast.dump(defined[operator].args) == ast.dump(documented), binding.api


def test_options_render_as_the_operator_inputs_and_attributes():
    sce = next(b for _, b in BINDINGS if b.api == "onnxruntime.SoftmaxCrossEntropyLoss")
    case = make_case(sce, reduction="sum", weight=True, ignore_index=2)
    assert sce.call_source(case) == (
        "SoftmaxCrossEntropyLoss(input, target, weights=weight, ignore_index=2, "
        "reduction='sum')")


def test_runners_differ_only_in_the_session():
    ort_lines = RUNNER["onnxruntime"].splitlines()
    reference_lines = RUNNER["onnx-reference"].splitlines()
    assert f"opset_imports=[onnx.helper.make_opsetid('', {OPSET})]" in RUNNER["onnxruntime"]
    differing = [line for line in ort_lines if line not in reference_lines]
    assert any("onnxruntime.InferenceSession(" in line for line in differing)
    assert all("onnxruntime" in line or "options" in line for line in differing), differing


# --- agreement with the oracle -----------------------------------------------------------------

# Bounds in ulps of the largest loss of the case: log-softmax loses a few bits to the
# subtraction z - max - log(sum) and the reduction adds a few roundings; a wrong axis, target
# or reduction misses by far more.
VALUE_ULPS = 16


@pytest.mark.parametrize(("cls", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
@pytest.mark.parametrize("rank", [2, 3, 4])
def test_value_matches_oracle(cls, binding, reduction, rank):
    adapter = adapter_of(cls)
    case = make_case(binding, rank=rank, reduction=reduction)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert largest_error(observation.value, expected) <= VALUE_ULPS, described(case, observation)


@pytest.mark.parametrize(("cls", "binding"), BINDINGS, ids=IDS)
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_weight_and_ignore_index_match_oracle(cls, binding, reduction):
    # "mean" with weights divides by the weights of the counted samples, as the oracle does
    adapter = adapter_of(cls)
    case = make_case(binding, reduction=reduction, weight=True, ignore_index=1, seed=3)
    assert 1 in case.inputs["target"]
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert largest_error(observation.value, expected) <= VALUE_ULPS, described(case, observation)


@pytest.mark.parametrize(("cls", "binding"), BINDINGS, ids=IDS)
def test_every_declared_dtype_within_its_rounding(cls, binding):
    adapter = adapter_of(cls)
    for dtype in binding.dtypes:
        case = make_case(binding, reduction="none", dtype=dtype)
        observation = adapter.evaluate(binding, case)
        assert observation.error is None, described(case, observation)
        expected = oracle(case, observation.fed)
        error = np.max(np.abs(observation.value - expected)) / np.max(np.abs(expected))
        assert error <= 8 * EPS[dtype], described(case, observation)


def test_onnxruntime_has_no_bfloat16_kernels():
    # the type constraints list bfloat16; the CPU provider cannot run the function body in it
    cls = next(c for c in ADAPTERS if c.library == "onnxruntime")
    adapter = adapter_of(cls)
    for binding in cls.bindings:
        assert "bfloat16" not in binding.dtypes
        observation = adapter.evaluate(binding, make_case(binding, dtype="bfloat16"))
        assert observation.error is not None
        assert "NOT_IMPLEMENTED" in observation.error[1], observation.error


def test_hand_derived_values():
    # uniform logits over 4 classes: -log(1/4) = log 4 = 1.386... for every sample; the
    # log-probabilities log(1/4) through NegativeLogLikelihoodLoss give the same
    for cls, binding in BINDINGS:
        adapter = adapter_of(cls)
        logits = np.zeros((3, 4)) if binding.loss == "cross_entropy" else np.full((3, 4),
                                                                                 -math.log(4))
        case = Case(binding.loss, {"input": logits, "target": np.array([3, 0, 1])},
                    {"reduction": "none"})
        assert np.allclose(adapter.evaluate(binding, case).value, math.log(4), rtol=2**-51,
                           atol=0), binding.api
        # weights 1, 2, 3, 4 on targets 3, 0, 1: mean = (4 + 1 + 2) log 4 / (4 + 1 + 2)
        weighted = Case(binding.loss, {**case.inputs, "weight": np.array([1.0, 2, 3, 4])},
                        {"reduction": "mean"})
        assert np.isclose(adapter.evaluate(binding, weighted).value, math.log(4),
                          rtol=2**-50, atol=0), binding.api


def test_float64_is_really_float64():
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed and in the value
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    for cls, binding in BINDINGS:
        if binding.loss != "cross_entropy":
            continue
        adapter = adapter_of(cls)
        case = Case("cross_entropy", {"input": logits, "target": np.array([0, 3, 1])},
                    {"reduction": "none"})
        observation = adapter.evaluate(binding, case)
        assert np.array_equal(observation.fed["input"], logits)
        expected = oracle(case, observation.fed)
        assert largest_error(observation.value, expected) <= VALUE_ULPS


def test_one_model_per_operator_attributes_dtypes_and_ranks():
    for cls in ADAPTERS:
        adapter_of(cls)  # skips when the runtime is missing
        adapter = cls()  # a fresh namespace: an empty cache
        model = adapter.namespace()["one_node_model"]
        binding = cls.bindings[0]
        for seed in range(3):  # other numbers, same graph
            adapter.evaluate(binding, make_case(binding, seed=seed))
        assert model.cache_info().currsize == 1
        adapter.evaluate(binding, make_case(binding, reduction="sum"))  # another attribute
        adapter.evaluate(binding, make_case(binding, rank=3))  # another rank
        adapter.evaluate(binding, make_case(binding, dtype="float32"))  # another dtype
        assert model.cache_info().currsize == 4


# --- reproducers -------------------------------------------------------------------------------

@pytest.mark.parametrize("cls", ADAPTERS, ids=[c.library for c in ADAPTERS])
def test_reproducers_print_the_observation(cls):
    adapter = adapter_of(cls)
    observations = []
    for binding in cls.bindings:
        observations.append(adapter.evaluate(binding, make_case(binding, weight=True,
                                                                ignore_index=1, seed=3)))
        for dtype in binding.dtypes:
            observations.append(adapter.evaluate(binding, make_case(binding, rank=3,
                                                                    reduction="none",
                                                                    dtype=dtype)))
    # an exception reproduces too: an empty batch (see the registries)
    sce = cls.bindings[0]
    failing = adapter.evaluate(sce, Case("cross_entropy", {
        "input": np.zeros((0, 4)), "target": np.zeros(0, dtype=np.int64)}, {"reduction": "sum"}))
    assert failing.error is not None
    observations.append(failing)

    allowed = {"functools", "numpy", "ml_dtypes", "onnx", "onnx.reference", "onnxruntime"}
    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= allowed, observation.reproducer
        assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree))
        assert RUNNER[cls.library] in observation.reproducer
        assert observation.reproducer.rstrip().endswith("print(result)")

    assert_reproducers_print(observations, ("ORT_", "ONNX"))

"""The PaddlePaddle adapter: its declarations against the oracle and against paddle.

Each binding is checked on regular float64 cases against the oracle (values within a few ulp
of the largest loss, gradients within a few ulp of their largest entry, every declared
reduction and rank), float32 within a bound of its own rounding unit, float64 to be float64,
``fed`` to hold what paddle got, the four forms of ``cross_entropy`` to be the losses they are
declared as, and every reproducer is run in a fresh interpreter and must print the observed
numbers exactly. (The two-way capability checks are the generic ones of
``tests/test_adapter_contracts.py``.) Tests that need paddle skip with the adapter's
"unavailable: ..." reason when it is missing.
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
from adapters.paddle.adapter import BINDINGS, PaddleAdapter
from reference.specs import loss_spec

EPS = {"float32": 2.0**-23, "float64": 2.0**-52}
BY_API = {b.api: b for b in BINDINGS}
CLASSES = 4


@pytest.fixture(scope="module")
def adapter():
    adapter = PaddleAdapter()
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float64", seed=0) -> Case:
    """A regular case in the oracle's layout, 4 classes: logits of order 1 (or their sigmoid,
    softmax or log-softmax), soft targets away from 0 and 1."""
    rng = np.random.default_rng(seed)
    spec = loss_spec(binding.loss)
    if spec.family == "binary":
        shape = {0: (), 1: (5,), 2: (3, CLASSES), 3: (3, CLASSES, 2), 4: (2, CLASSES, 2, 2)}[rank]
    else:
        sample = {1: (), 2: (3,), 3: (3, 2), 4: (2, 2, 2)}[rank]
        axis = spec.class_axis(rank)
        shape = (*sample[:axis], CLASSES, *sample[axis:])
    axis = spec.class_axis(len(shape))
    logits = rng.normal(scale=2.0, size=shape)
    inputs = {"input": spec.from_logits(logits, axis)}
    if spec.family == "binary":
        inputs["target"] = rng.uniform(0.05, 0.95, size=shape)
    elif binding.targets == ("indices",):
        inputs["target"] = rng.integers(0, CLASSES, size=shape[:axis] + shape[axis + 1:])
    else:
        weights = rng.uniform(0.1, 1.0, size=shape)
        inputs["target"] = weights / weights.sum(axis=axis, keepdims=True)
    return Case(binding.loss, inputs, {"reduction": reduction}, dtype)


def oracle(case: Case, fed, check="value", wrt="input"):
    """The oracle's value or gradient on exactly what the library was fed."""
    if check == "value":
        return np.asarray(getattr(reference, case.loss)(**fed, **case.options))
    return np.asarray(reference.grad(case.loss, wrt=wrt, **fed, **case.options))


def ulps(observed, expected):
    """Error in float64 ulps of the largest expected element."""
    return np.max(np.abs(observed - expected) / np.spacing(np.max(np.abs(expected))),
                  initial=0.0)


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations (no paddle needed) -----------------------------------------------------

def test_declarations_name_paddle_calls_and_oracle_keywords():
    assert len(BY_API) == len(BINDINGS), "one binding per API"
    for binding in BINDINGS:
        assert binding.library == "paddle"
        assert binding.api.startswith(("paddle.nn.functional.", "paddle.nn."))
        # the API's name is the call a user writes, less the operands and options
        assert binding.expression.startswith(binding.api.split("(")[0] + "("), binding.api
        assert set(binding.dtypes) == {"float32", "float64"}, binding.api
        assert binding.gradients == ("input",), "paddle differentiates no label"
        # every parameter the binding leaves out is out of scope with a reason
        assert binding.surface, binding.api
        assert all(binding.out_of_scope.values()), binding.api
        assert "name" in binding.out_of_scope, binding.api


def test_the_four_cross_entropy_forms_are_the_losses_they_say():
    # use_softmax picks logits or probabilities, soft_label indices or probability targets
    forms = {api: b for api, b in BY_API.items()
             if b.expression.startswith(("paddle.nn.functional.cross_entropy(",
                                         "paddle.nn.CrossEntropyLoss("))}
    assert len(forms) == 8
    for api, binding in forms.items():
        probabilities_in = "use_softmax=False" in binding.expression
        soft = "soft_label=True" in binding.expression
        assert binding.loss == ("categorical_cross_entropy" if probabilities_in
                                else "cross_entropy"), api
        assert binding.targets == (("probabilities",) if soft else ("indices",)), api
        # the logits forms take the oracle's class axis 1, the probability forms paddle's last
        assert ("axis=1" in binding.expression) != probabilities_in, api
        # soft labels keep the class axis in reduction='none': not declared
        assert ("none" in binding.reductions) != soft, api


def test_missing_library_is_unavailable_with_the_reason():
    class Missing(PaddleAdapter):
        modules: ClassVar[dict[str, str]] = {"paddle": "paddle_not_installed_here"}
        environment: ClassVar[dict[str, str]] = {}

    reason = Missing().unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "paddle_not_installed_here" in reason


# --- agreement with the oracle in float64 ------------------------------------------------------

# Bounds in ulps of the largest loss (gradient entry): paddle's formulas lose a few bits to
# cancellation (log(1 - p) as written, logsumexp - z_y); a wrong formula, axis or reduction
# misses by far more.
VALUE_ULPS = 16
GRADIENT_ULPS = 8
VALUE_CASES = [(b.api, reduction) for b in BINDINGS for reduction in b.reductions]


@pytest.mark.parametrize(("api", "reduction"), VALUE_CASES)
def test_value_and_gradient_match_oracle(adapter, api, reduction):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert ulps(observation.value, expected) <= VALUE_ULPS, described(case, observation)
    observation = adapter.evaluate(binding, case, "gradient", "input")
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed, "gradient")
    assert observation.gradient.shape == expected.shape
    # softmax(z) - y cancels: small entries carry the absolute error of the large ones
    assert ulps(observation.gradient, expected) <= GRADIENT_ULPS, described(case, observation)


@pytest.mark.parametrize(("api", "rank"), [(b.api, rank) for b in BINDINGS
                                             for rank in b.ranks if rank != 2])
def test_other_ranks_match_oracle(adapter, api, rank):
    binding = BY_API[api]
    reduction = "none" if "none" in binding.reductions else "sum"
    case = make_case(binding, rank=rank, reduction=reduction)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert ulps(observation.value, expected) <= VALUE_ULPS, described(case, observation)


def test_float32_within_its_rounding(adapter):
    for binding in BINDINGS:
        case = make_case(binding, reduction="sum", dtype="float32")
        observation = adapter.evaluate(binding, case)
        assert observation.error is None, described(case, observation)
        expected = oracle(case, observation.fed)
        error = np.max(np.abs(observation.value - expected)) / np.max(np.abs(expected))
        assert error <= 8 * CLASSES * EPS["float32"], described(case, observation)


@pytest.mark.parametrize("dtype", [d for d in DTYPES if d not in EPS])
def test_half_precision_has_no_cpu_kernel(adapter, dtype):
    # why float16 and bfloat16 are not declared: the call raises, it does not compute
    binding = BY_API["paddle.nn.functional.binary_cross_entropy_with_logits"]
    observation = adapter.evaluate(binding, make_case(binding, dtype=dtype))
    assert observation.error is not None
    assert "not registered" in observation.error[1]


def test_hand_derived_values(adapter):
    # uniform logits over 4 classes: -log(1/4) = log 4; gradient 1/4 - onehot
    functional = BY_API["paddle.nn.functional.cross_entropy"]
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "none"})
    assert np.allclose(adapter.evaluate(functional, case).value, math.log(4), rtol=2**-52,
                       atol=0)
    gradient = adapter.evaluate(functional, case, "gradient").gradient
    assert gradient.tolist() == [[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25],
                                 [0.25, -0.75, 0.25, 0.25]]
    # use_softmax=False on probabilities 1/4: the same log 4
    probabilities = BY_API["paddle.nn.functional.cross_entropy(use_softmax=False)"]
    case = Case("categorical_cross_entropy", {"input": np.full((3, 4), 0.25),
                                              "target": np.array([3, 0, 1])},
                {"reduction": "none"})
    assert np.allclose(adapter.evaluate(probabilities, case).value, math.log(4), rtol=2**-52,
                       atol=0)
    # logit 1 with pos_weight 3 at label 1: 3 log(1 + e^-1)
    logits = BY_API["paddle.nn.BCEWithLogitsLoss"]
    case = Case("binary_cross_entropy_with_logits",
                {"input": np.ones(2), "target": np.ones(2), "pos_weight": np.array([3.0])},
                {"reduction": "none"})
    assert np.allclose(adapter.evaluate(logits, case).value, 3 * math.log1p(math.exp(-1)),
                       rtol=2**-50, atol=0)


def test_class_index_out_of_range_is_an_observed_error(adapter):
    functional = BY_API["paddle.nn.functional.cross_entropy"]
    case = Case("cross_entropy", {"input": np.zeros((2, 4)), "target": np.array([0, 4])},
                {"reduction": "none"})
    observation = adapter.evaluate(functional, case)
    assert observation.value is None
    assert observation.error is not None


# --- the environment: float64 is float64, inputs are fed exactly ------------------------------

def test_float64_is_really_float64(adapter):
    binding = BY_API["paddle.nn.functional.cross_entropy"]
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed and in the value
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case("cross_entropy", {"input": logits, "target": np.array([0, 3, 1])},
                {"reduction": "none"})
    observation = adapter.evaluate(binding, case)
    assert np.array_equal(observation.fed["input"], logits)
    assert ulps(observation.value, oracle(case, observation.fed)) <= VALUE_ULPS


@pytest.mark.parametrize("dtype", list(EPS))
def test_fed_holds_the_rounded_inputs(adapter, dtype):
    binding = BY_API["paddle.nn.functional.binary_cross_entropy"]
    case = make_case(binding, dtype=dtype)
    observation = adapter.evaluate(binding, case)
    for name, given in case.inputs.items():
        fed = observation.fed[name]
        assert np.array_equal(adapter.to_numpy(adapter.tensor(fed, dtype)), fed), name
        assert np.all(np.abs(fed - given) <= EPS[dtype] * np.abs(given)), name


# --- reproducers -------------------------------------------------------------------------------

def test_reproducers_print_the_observation(adapter):
    observations = []
    for binding in BINDINGS:
        case = make_case(binding, reduction="sum")
        observations += [adapter.evaluate(binding, case),
                         adapter.evaluate(binding, case, "gradient", "input")]
    functional = BY_API["paddle.nn.functional.cross_entropy"]
    observations.append(adapter.evaluate(functional, make_case(functional, reduction="none",
                                                               dtype="float32")))
    # an exception reproduces too: a probability above 1 in binary_cross_entropy
    bce = BY_API["paddle.nn.functional.binary_cross_entropy"]
    failing = adapter.evaluate(bce, Case("binary_cross_entropy", {
        "input": np.array([0.5, 1.5]), "target": np.array([1.0, 0.0])}, {"reduction": "none"}))
    assert failing.error is not None
    observations.append(failing)

    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= {"os", "paddle"}, observation.reproducer
        assert "os.environ['FLAGS_paddle_num_threads'] = '1'" in observation.reproducer
        assert observation.reproducer.rstrip().endswith("print(result)")

    # a clean environment: the reproducer itself must set what paddle needs
    assert_reproducers_print(observations, ("FLAGS_", "GLOG_"))

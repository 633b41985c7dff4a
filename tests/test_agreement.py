"""Every binding against the oracle: its values and gradients agree within the error model, and
its reproducers print exactly what it did.

The bindings are those of the adapters the run covers (``tests/_tested.py``), less the compiled
twins, which ``tests/adapters/test_compiled.py`` shows to be their eager twins compiled (here
each case would compile a graph). Each binding meets its loss's regular example
(``tests/_examples.py``) in every reduction it declares: in each target kind with no option,
each option alone and all of them at once, in each rank and in each dtype it declares; and with
its classes named by ``axis`` where it takes one. Its value and each gradient it declares are
judged as the conformance suite judges a drawn case (``conformance.judge``, with the error model
of ``conformance.tolerance``): they match, or an entry of the library's deviation registry
explains the difference, its claim holding. What the library was fed must be the given inputs
rounded to the dtype, once or through float32 (as bfloat16 casts go). A uniform prediction is
checked against numbers derived by hand as well. What is one library's own is tested in its
module in ``tests/adapters/``.
"""

from __future__ import annotations

import ast
import math
from functools import cache

import _tested
import numpy as np
import pytest
from _examples import OPTION_VALUES, ordinary_case
from _reproducers import assert_reproducers_print

from adapters import load_adapter
from adapters.binding import ARRAY_OPTIONS, Binding, Case, one_hot
from conformance import selection
from conformance.judge import expected, judge
from conformance.suite import Unexplained
from reference.specs import dtype_spec, loss_spec

ADAPTERS = {name: load_adapter(name) for name in _tested.tested()}
BINDINGS = [(name, b) for name, adapter in ADAPTERS.items() for b in adapter.bindings
            if not b.compiled]
IDS = [f"{name}:{b.api}" for name, b in BINDINGS]
#: the libraries' settings, and the caches and log levels tox sets: a reproducer runs without
#: them, so it must set what it needs itself
LIBRARY_VARIABLES = ("JAX_", "XLA_", "TF_", "KERAS_", "TORCH", "MLX_", "ORT_", "ONNX", "FLAGS_",
                     "GLOG_", "DEV", "PARALLEL")


def _option_sets(binding: Binding, kind: str) -> list[tuple[str, ...]]:
    """No option, each option alone, and all of them at once (ignore_index with class indices
    only; the class axis is a case of its own)."""
    offered = [o for o in (*binding.options, *binding.operand_options)
               if o in OPTION_VALUES and (o != "ignore_index" or kind == "indices")]
    return [(), *((o,) for o in offered), *([tuple(offered)] if len(offered) > 1 else [])]


def _cases(binding: Binding) -> list[Case]:
    """The binding's ordinary case varied along every axis it declares (module docstring)."""
    categorical = loss_spec(binding.loss).family == "categorical"
    cases = [ordinary_case(binding, reduction=reduction, target_kind=kind,
                           options=dict.fromkeys(options))
             for reduction in binding.reductions
             for kind in (binding.targets if categorical else ("probabilities",))
             for options in _option_sets(binding, kind)]
    cases += [ordinary_case(binding, reduction=reduction, **other)
              for reduction in binding.reductions
              for other in [*({"rank": rank} for rank in binding.ranks),
                            *({"dtype": dtype} for dtype in binding.dtypes)]]
    if binding.offers("axis") and 2 in binding.ranks:  # the classes first
        cases.append(ordinary_case(binding, options={"axis": 0}, **_unreduced(binding)))
    return cases


def _unreduced(binding: Binding) -> dict:
    """Unreduced where the binding can be, so that a misplaced axis shows in the shape."""
    return {"reduction": "none"} if "none" in binding.reductions else {}


def _checks(binding: Binding, case: Case) -> list[tuple[str, str]]:
    """The value, and the gradient with respect to each argument the binding declares one for
    (class indices have none)."""
    return [("value", "input"), *(("gradient", wrt) for wrt in binding.gradients
                                  if wrt == "input" or case.target_kind != "indices")]


@cache
def _registry(library: str):
    """The library's registry, with the entries that hold in this run's env (tox's name)."""
    return selection.current().registry(library)


def _fed_problem(case: Case, observation) -> str | None:
    """How what the library was fed differs from the case's arrays rounded to its dtype (once,
    or through float32, as some libraries cast), or None."""
    single = dtype_spec("float32")
    for name, given in case.inputs.items():
        fed = observation.fed.get(name)
        rounded = [given] if case.is_index(name) else [
            dtype_spec(case.dtype).round(given),
            dtype_spec(case.dtype).round(single.round(given))]
        if fed is None or not any(np.array_equal(fed, r) for r in rounded):
            return f"the library was fed {name}={fed!r} for {given!r} in {case.dtype}"
    return None


def _disagreement(name: str, binding: Binding, case: Case, check: str,
                  wrt: str) -> tuple[str, str] | None:
    """None where the library agrees with the oracle (or its registry explains how it does not,
    the entry's claim holding); else the suite's sentence saying how it differs, and the
    reproducer."""
    assert binding.supports(case, check, wrt) is None, (binding.api, case)
    observation = ADAPTERS[name].evaluate(binding, case, check, wrt)
    where = f"{binding.api}: {case.options}, {case.dtype}, {check}"
    problem = observation.harness is None and _fed_problem(case, observation)
    if problem:
        return f"{where}: {problem}", observation.reproducer
    verdict = judge(binding, case, observation, check)
    if verdict.outcome == "match":
        return None
    category = "values" if check == "value" else "gradients"
    shapes = ",".join(f"{k}{list(np.shape(v))}" for k, v in sorted(case.inputs.items()))
    case_name = f"example:{case.loss}:{shapes}"
    failed_claims = []
    if verdict.outcome != "harness-error":  # never looked up, as in the suite
        explanation = _registry(binding.library).examine(
            binding, case, case_name, category, check, observation, verdict)
        if explanation.entry is not None:
            return None
        failed_claims = explanation.failed_claims
    return Unexplained(binding.api, case_name, category, check, observation.wrt, case.dtype,
                       verdict, binding.call_source(case), observation.reproducer,
                       failed_claims).sentence(), observation.reproducer


def _assert_agrees(name: str, binding: Binding, checks) -> None:
    found = [problem for case, check, wrt in checks
             if (problem := _disagreement(name, binding, case, check, wrt))]
    if found:
        pytest.fail(f"{len(found)} case(s) disagree with the oracle; the first: {found[0][0]}\n"
                    f"reproducer:\n{found[0][1]}" + "".join(f"\nalso: {s}" for s, _ in found[1:6]))


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_values_and_gradients_agree_with_the_oracle(name, binding):
    _assert_agrees(name, binding, [(case, check, wrt) for case in _cases(binding)
                                   for check, wrt in _checks(binding, case)])


#: four classes (a power of 2, so that 1/4, log 4 and the gradients below are exact); two
#: samples: class indices, probability rows, binary labels
UNIFORM_TARGETS = {"indices": np.array([2, 0]),
                   "probabilities": np.array([[0.125, 0.125, 0.25, 0.5], [0.5, 0.25, 0.25, 0]]),
                   "binary": np.array([[0.0, 1.0, 1.0, 0.5], [1.0, 0.0, 0.5, 1.0]])}


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=IDS)
def test_a_uniform_prediction_costs_the_log_of_the_classes(name, binding):
    """By hand: with four classes and a uniform prediction (logits 0, probabilities 1/4,
    log-probabilities -log 4) each sample costs log 4 whatever its target (a binary element at
    logit 0 or probability 1/2: log 2), and the gradient of the logits is 1/4 - q, q the
    target row (1/2 - y for a binary element), divided by what a mean divides by, and by the
    4 elements Keras averages a binary loss over. These are the oracle's numbers exactly; the
    library's are judged as above. (The options an API needs are left at their neutral value:
    a weight of 1, an ignore_index no sample has.)"""
    if 2 not in binding.ranks:
        pytest.skip(f"{binding.api} takes no (N, C) input")
    spec = loss_spec(binding.loss)
    binary = spec.family == "binary"
    kind = "binary" if binary else binding.targets[0]
    case = ordinary_case(binding, **_unreduced(binding)).with_inputs(
        input=spec.from_logits(np.zeros((2, 4)), 1), target=UNIFORM_TARGETS[kind],
        # weights of 1, where the API needs some, change nothing
        **{option: np.ones(2 if option == "sample_weight" else 4)
           for option in binding.required if option in ARRAY_OPTIONS})
    averaged = binding.fixed_options.get("average_last_axis", False)
    losses = np.full((2, 4) if binary and not averaged else (2,), math.log(2 if binary else 4))
    q = one_hot(case.inputs["target"], 4) if kind == "indices" else case.inputs["target"]
    gradient = (0.5 - q) / (4 if averaged else 1) if binary else 0.25 - q
    reduction = case.options["reduction"]
    if reduction != "none":
        gradient = gradient if reduction == "sum" else gradient / losses.size
        losses = losses.sum() if reduction == "sum" else losses.mean()
    by_hand = {"value": losses}
    if spec.input_kind == "logits" and "input" in binding.gradients:
        by_hand["gradient"] = gradient
    for check, numbers in by_hand.items():
        np.testing.assert_array_equal(expected(binding, case, {}, check, "input")[0], numbers)
    _assert_agrees(name, binding, [(case, check, "input") for check in by_hand])


def _assert_self_contained(adapter, reproducer: str) -> None:
    """The reproducer imports the adapter's modules only (and os, to set every variable of the
    adapter's environment), by plain imports, and prints its result."""
    tree = ast.parse(reproducer)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    assert imported <= {"os", *adapter.modules.values()}, reproducer
    assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree)), reproducer
    assert all(f"os.environ[{key!r}] = {value!r}" in reproducer
               for key, value in adapter.environment.items()), reproducer
    assert reproducer.rstrip().endswith("print(result)"), reproducer


@pytest.mark.parametrize("name", ADAPTERS)
def test_reproducers_print_what_the_library_did(name):
    """Per binding: the ordinary case with every option it offers, value and each gradient, and
    its value in each other dtype it declares (whose literals must read back exactly); and the
    first call that raised on targets for 5 samples beside inputs for 2, since an exception
    reproduces too. All run in one fresh interpreter, as a reader would."""
    adapter, observations, refused = ADAPTERS[name], [], []
    for binding in (b for n, b in BINDINGS if n == name):
        options = _option_sets(binding, binding.targets[0])[-1]
        case = ordinary_case(binding, options=dict.fromkeys(options))
        observations += [adapter.evaluate(binding, case, check, wrt)
                         for check, wrt in _checks(binding, case)]
        observations += [adapter.evaluate(binding, ordinary_case(binding, dtype=dtype))
                         for dtype in binding.dtypes if dtype != "float64"]
        target = case.inputs["target"]
        refused.append(adapter.evaluate(binding, case.with_inputs(
            target=np.resize(target, (5, *np.shape(target)[1:])))))
    raised = [observation for observation in refused if observation.error is not None]
    assert raised, f"no binding of {name} raised on targets for 5 samples and inputs for 2"
    for observation in [*observations, raised[0]]:
        assert observation.harness is None, observation.harness
        _assert_self_contained(adapter, observation.reproducer)
    assert_reproducers_print([*observations, raised[0]], LIBRARY_VARIABLES)

"""What is ONNX's own (``adapters/onnx/``): bindings that are operators, run by a runner defined
in the reproducer, which differs between the runtimes only in the session; ONNX Runtime's
missing bfloat16 kernels; the model cache."""

from __future__ import annotations

import ast

import _tested
import pytest
from _examples import ordinary_case

from adapters import load_adapter
from adapters.onnx.adapter import ADAPTERS, OPSET, RUNNER

RUNTIMES = [pytest.param(cls, id=cls.library, marks=pytest.mark.skipif(
    cls.library not in _tested.tested(), reason=f"{cls.library} is not covered by this run"))
    for cls in ADAPTERS]


def test_every_binding_is_an_operator_the_runner_defines_as_documented():
    for cls in ADAPTERS:
        defined = {node.name: node for node in ast.parse(RUNNER[cls.library]).body
                   if isinstance(node, ast.FunctionDef)}
        for binding in cls.bindings:
            operator = binding.api.rsplit(".", 1)[-1]
            assert binding.expression.startswith(operator + "(input, target"), binding.api
            assert binding.surface == (operator,)
            # the documented parameters are the operator's inputs and attributes: none left out
            assert set(binding.documented_signatures) == {operator}
            assert binding.out_of_scope == {}
            assert set(binding.options) == {"weight", "ignore_index"}
            assert set(binding.reductions) == {"none", "sum", "mean"}
            assert (binding.targets, binding.gradients) == (("indices",), ())
            signature = binding.documented_signatures[operator]
            documented = ast.parse(f"def _{signature}: pass").body[0].args
            assert ast.dump(defined[operator].args) == ast.dump(documented), binding.api


def test_options_render_as_the_operator_inputs_and_attributes():
    sce = ADAPTERS[0].bindings[0]
    assert sce.api == "onnxruntime.SoftmaxCrossEntropyLoss"
    case = ordinary_case(sce, reduction="sum", options={"weight": None, "ignore_index": 2})
    assert sce.call_source(case) == (
        "SoftmaxCrossEntropyLoss(input, target, weights=weight, ignore_index=2, "
        "reduction='sum')")


@pytest.mark.parametrize("cls", RUNTIMES)
def test_the_runners_differ_only_in_the_session_and_reproducers_define_theirs(cls):
    other = RUNNER["onnx-reference" if cls.library == "onnxruntime" else "onnxruntime"]
    assert f"opset_imports=[onnx.helper.make_opsetid('', {OPSET})]" in RUNNER[cls.library]
    differing = [line for line in RUNNER[cls.library].splitlines()
                 if line not in other.splitlines()]
    session = "onnxruntime.InferenceSession(" if cls.library == "onnxruntime" else "onnx.reference"
    assert any(session in line for line in differing), differing
    assert all("onnx" in line or "options" in line for line in differing), differing
    binding = cls.bindings[0]
    reproducer = load_adapter(cls.library).describe(binding, ordinary_case(binding)).reproducer
    assert RUNNER[cls.library] in reproducer


@pytest.mark.parametrize("cls", RUNTIMES[:1])
def test_onnxruntime_has_no_bfloat16_kernels(cls):
    # the type constraints list bfloat16; the CPU provider cannot run the function body in it
    for binding in cls.bindings:
        assert "bfloat16" not in binding.dtypes
        observation = cls().evaluate(binding, ordinary_case(binding, dtype="bfloat16"))
        assert "NOT_IMPLEMENTED" in observation.error[1], observation.error


@pytest.mark.parametrize("cls", RUNTIMES)
def test_one_model_per_operator_attributes_dtypes_and_ranks(cls):
    adapter = cls()  # a fresh namespace: an empty cache
    model = adapter.namespace()["one_node_model"]
    binding = cls.bindings[0]
    case = ordinary_case(binding)
    for shift in range(3):  # other numbers, same graph
        adapter.evaluate(binding, case.with_inputs(input=case.inputs["input"] + shift))
    assert model.cache_info().currsize == 1
    adapter.evaluate(binding, ordinary_case(binding, reduction="sum"))  # another attribute
    adapter.evaluate(binding, ordinary_case(binding, rank=3))  # another rank
    adapter.evaluate(binding, ordinary_case(binding, dtype="float32"))  # another dtype
    assert model.cache_info().currsize == 4

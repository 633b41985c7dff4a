"""The compiled twins (``adapters/compiled.py``): derived from their eager bindings by one rule
per framework, they really run compiled code, reuse it for a case they met before, and their
reproducers compile the same way and print what the adapter observed.

The declarations are checked without importing any library; the calls skip with the adapter's
"unavailable: ..." reason where the framework is not installed.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from _examples import ordinary_case
from _reproducers import assert_reproducers_print

from adapters import compiled, load_adapter
from adapters.binding import Binding
from adapters.jax.adapter import BINDINGS as OPTAX
from adapters.keras.adapter import KerasAdapter, bindings_for
from adapters.tensorflow.adapter import BINDINGS as TF_NN
from adapters.torch.adapter import BINDINGS as TORCH_EAGER

#: (adapter name or Keras backend, eager bindings compiled, compile entry point, rule)
MODES = {
    "torch": ([b for b in TORCH_EAGER if b.api.startswith("torch.nn.functional.")],
              "torch.compile", compiled.torch_compiled),
    "jax": (list(OPTAX), "jax.jit", compiled.jax_jitted),
    "tensorflow": (list(TF_NN), "tf.function", compiled.tf_xla),
    "keras": (list(bindings_for("tensorflow")[1::2]), "tf.function", compiled.tf_xla),
}


def _declared(name: str):
    """The adapter, for its declarations (its library not imported)."""
    return KerasAdapter("tensorflow") if name == "keras" else load_adapter(name)


def _adapter(name: str):
    adapter = _declared(name)
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(f"{name} {reason}")
    return adapter


def _twins(name: str) -> list[tuple[Binding, Binding]]:
    """(eager, compiled twin) as the adapter declares them."""
    eager, _, rule = MODES[name]
    by_api = {b.api: b for b in _declared(name).bindings}
    return [(b, by_api[rule(b).api]) for b in eager]


# --- the declarations (no library imported) ---------------------------------------------------

@pytest.mark.parametrize("name", MODES)
def test_each_twin_is_its_eager_binding_compiled(name):
    _, entry, _ = MODES[name]
    for eager, twin in _twins(name):
        assert twin.api.startswith(entry + "(" + eager.api)
        assert not eager.compiled
        assert twin.compiled
        assert twin.mode.startswith(entry)
        # the library's registry, oracle loss and offer are the eager binding's
        same = ("library", "loss", "options", "operand_options", "call_options", "required",
                "reductions", "dtypes", "targets", "ranks", "gradients", "fixed_options")
        assert {f: getattr(twin, f) for f in same} == {f: getattr(eager, f) for f in same}
        callee, arguments = compiled.split_call(eager.expression)
        assert twin.expression.endswith(")" + arguments)
        assert callee in twin.expression
        assert eager.out_of_scope.items() <= twin.out_of_scope.items()


def test_keras_is_compiled_on_tensorflow_only():
    assert not any("tf.function(" in b.api for b in bindings_for("tensorflow"))
    for backend in ("jax", "torch", "numpy", "tf_keras"):
        assert not any("(" in b.api.split(".losses.")[0] for b in KerasAdapter(backend).bindings)


def test_split_call_takes_the_last_top_level_call():
    assert compiled.split_call("torch.nn.NLLLoss(reduction={reduction}{options})(input, target)") \
        == ("torch.nn.NLLLoss(reduction={reduction}{options})", "(input, target)")
    assert compiled.split_call("f(g(x), y)") == ("f", "(g(x), y)")
    for bad, problem in (("input", "not a call"), ("(input)", "no callee"),
                         ("f(x))", "unbalanced")):
        with pytest.raises(ValueError, match=problem):
            compiled.split_call(bad)


def test_jax_makes_the_constant_keywords_static():
    by_api = {b.api: b for b in load_adapter("jax").bindings}
    assert by_api["jax.jit(optax.softmax_cross_entropy)"].expression.startswith(
        "jax.jit(optax.softmax_cross_entropy, static_argnames=('axis',))(")
    # operands are traced, never static
    assert "static" not in by_api["jax.jit(optax.sigmoid_binary_cross_entropy)"].expression


# --- the calls --------------------------------------------------------------------------------

def _torch_graphs(adapter) -> int:
    return adapter.namespace()["torch"]._dynamo.utils.counters["stats"]["unique_graphs"]


def test_torch_twin_compiles_once_per_shape_and_reuses_it():
    adapter = _adapter("torch")
    _, twin = _twins("torch")[2]  # cross_entropy
    case = ordinary_case(twin)
    # a batch no other test in this process meets, so the first call compiles
    case = case.with_inputs(input=np.tile(case.inputs["input"], (7, 1)),
                            target=np.tile(case.inputs["target"], 7))
    before = _torch_graphs(adapter)
    first = adapter.evaluate(twin, case)
    assert first.error is None, first.error
    assert _torch_graphs(adapter) == before + 1  # Dynamo captured a graph: not run eagerly
    again = adapter.evaluate(twin, case)
    assert _torch_graphs(adapter) == before + 1  # the same shape: the compiled graph, reused
    np.testing.assert_array_equal(again.value, first.value)
    other = adapter.evaluate(twin, case.with_inputs(input=case.inputs["input"][:5],
                                                    target=case.inputs["target"][:5]))
    assert other.error is None
    assert _torch_graphs(adapter) == before + 2  # dynamic=False: a new shape, a new graph
    config = adapter.namespace()["torch"]._dynamo.config
    assert config.fail_on_recompile_limit_hit
    assert config.recompile_limit >= 1 << 20


def test_tensorflow_twin_traces_once_per_shape():
    adapter = _adapter("tensorflow")
    _, twin = _twins("tensorflow")[2]  # softmax_cross_entropy_with_logits
    case = ordinary_case(twin)
    callee = adapter.namespace()["tf"].nn.softmax_cross_entropy_with_logits
    function = adapter.namespace()["xla"](callee)
    assert function is adapter.namespace()["xla"](callee)  # memoised: one tf.function
    before = function.experimental_get_tracing_count()
    for _ in range(2):
        assert adapter.evaluate(twin, case).error is None
    assert function.experimental_get_tracing_count() == before + 1


def test_jax_twin_traces_once_per_shape():
    adapter = _adapter("jax")
    _, twin = _twins("jax")[1]  # softmax_cross_entropy
    case = ordinary_case(twin)
    # a batch no other test in this process meets, so the first call traces
    case = case.with_inputs(**{k: np.tile(v, (7, 1)) for k, v in case.inputs.items()})
    jax = adapter.namespace()["jax"]
    traced = []
    jax.monitoring.register_event_duration_secs_listener(
        lambda event, *_, **__: traced.append(event) if event.endswith("trace_duration") else None)
    assert adapter.evaluate(twin, case).error is None
    count = len(traced)
    assert count > 0
    assert adapter.evaluate(twin, case).error is None
    assert len(traced) == count  # a new jax.jit of the same function: its cached trace


@pytest.mark.parametrize("name", MODES)
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_reproducers_print_what_the_twin_observed(name, dtype):
    """Every twin, value and input gradient, in a dtype where compiled code computes differently
    (float16 in float32 registers); the reproducers run in one fresh interpreter."""
    adapter = _adapter(name)
    observations = []
    for _, twin in _twins(name):
        case = ordinary_case(twin, dtype=dtype)
        for check in ("value", "gradient")[:1 + ("input" in twin.gradients)]:
            seen = adapter.evaluate(twin, case, check)
            assert seen.error is None, (twin.api, seen.error)
            observations.append(seen)
    assert_reproducers_print(observations, ("TF_", "JAX_", "KERAS_", "TORCH"))


def test_twin_differs_from_eager_only_in_the_call():
    """The reproducer of a twin is its eager twin's with the compiled call (and its set-up)."""
    adapter = _adapter("keras")
    eager, twin = _twins("keras")[0]
    case = ordinary_case(eager)
    plain = adapter.describe(eager, case).reproducer
    compiled_one = adapter.describe(twin, case).reproducer
    assert "xla = functools.cache(functools.partial(tf.function, jit_compile=True))" \
        in compiled_one
    assert eager.call_source(case) in plain
    assert dataclasses.replace(eager, expression=twin.expression).call_source(case) \
        in compiled_one

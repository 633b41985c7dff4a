"""The option surface, checked from both sides (``conformance.option_surface``).

Every parameter of every public callable a binding calls is passed by some case the suite
runs, or is declared out of scope with a reason; every out-of-scope declaration names a real
parameter that no case passes. The signatures are the installed library's own, so this runs
in each backend env, on the adapters the run covers (``tests/_tested.py``). Two more tests
show that the check can fail: a binding with one of its options taken away, and a signature
that grew a parameter.
"""

from __future__ import annotations

import dataclasses
import inspect

import _tested
import pytest
from _fake_adapter import FakeAdapter

from adapters import compiled, load_adapter
from conformance import option_surface

BINDINGS = [(name, b) for name in _tested.tested() for b in load_adapter(name).bindings]


def _namespace(name: str) -> dict:
    adapter = load_adapter(name)
    reason = adapter.unavailable()
    if reason:
        if name in _tested.REQUIRED:
            pytest.fail(f"{name} is required in this environment but {reason}")
        pytest.skip(f"{name} {reason}")
    return adapter.namespace()


@pytest.mark.parametrize(("name", "binding"), BINDINGS, ids=[f"{n}:{b.api}" for n, b in BINDINGS])
def test_every_parameter_is_exercised_or_out_of_scope(name, binding):
    assert option_surface.problems(binding, _namespace(name)) == []


@pytest.mark.parametrize("name", sorted(_tested.tested()))
def test_removing_an_option_is_caught(name):
    """Each option a binding declares, taken away (as if forgotten), leaves its parameter
    unexercised: the check names it."""
    candidates = [b for n, b in BINDINGS if n == name and (b.options or b.operand_options)]
    if not candidates:
        pytest.skip(f"{name} declares no options")
    namespace = _namespace(name)
    for binding in candidates:
        for option in (*binding.options, *binding.operand_options):
            reduced = dataclasses.replace(
                binding,
                options={k: v for k, v in binding.options.items() if k != option},
                operand_options={k: v for k, v in binding.operand_options.items()
                                 if k != option},
                required=tuple(r for r in binding.required if r != option))
            found = option_surface.problems(reduced, namespace)
            assert any("neither passed by any case" in p for p in found), (binding.api, option)


def test_a_new_parameter_is_caught():
    """A library release that adds a parameter fails the check until a case passes it or the
    adapter declares it out of scope (the fake library's documented signature grows one)."""
    adapter = FakeAdapter()
    binding = adapter.bindings[0]
    entry = binding.surface[0]
    grown = dataclasses.replace(binding, documented_signatures={
        entry: str(option_surface.signature(entry, binding, adapter.namespace()))[:-1]
        + ", *, new_parameter=None)"})
    assert option_surface.problems(binding, adapter.namespace()) == []
    found = option_surface.problems(grown, adapter.namespace())
    assert found == [f"{binding.api}: parameter 'new_parameter' of {entry} is neither passed by "
                     "any case nor declared out of scope with a reason"]


def test_out_of_scope_claims_are_checked():
    """An out-of-scope declaration of a parameter that does not exist, or that a case passes,
    or without a reason, is a finding too."""
    adapter = FakeAdapter()
    binding = adapter.bindings[0]
    passed = "input"  # the operand every call passes
    wrong = dataclasses.replace(binding, out_of_scope={
        **binding.out_of_scope, "no_such_parameter": "a reason", passed: "a reason"})
    found = option_surface.problems(wrong, adapter.namespace())
    assert f"{binding.api}: out_of_scope names 'no_such_parameter', which no surface callable " \
           "has" in found
    assert f"{binding.api}: out_of_scope names {passed!r}, which a case passes" in found


def test_an_undeclared_surface_is_reported():
    binding = dataclasses.replace(FakeAdapter().bindings[0], surface=None)
    assert option_surface.problems(binding, {}) == [
        f"{binding.api}: declares no surface (the public callables its expression calls; () "
        "for a formula)"]


def test_a_compiled_call_passes_its_arguments_to_the_compiled_function():
    """``torch.compile(f, ...)(x, w=...)`` calls the compiler with f and f with x and w; the
    TensorFlow twins' ``xla(f)`` helper is read as the ``tf.function`` it is."""
    def f(input, target, weight=None, reduction="mean"):
        pass

    def compile_(model, *, fullgraph=False, dynamic=None):
        pass

    source = "torch.compile(lib.f, fullgraph=True)(input, target, weight=weight)"
    assert option_surface.passed("lib.f", inspect.signature(f), source) \
        == {"input", "target", "weight"}
    assert option_surface.passed("torch.compile", inspect.signature(compile_), source) \
        == {"model", "fullgraph"}
    assert compiled.spelled_out("xla(tf.nn.f)(labels=target, logits=input)") \
        == "tf.function(tf.nn.f, jit_compile=True)(labels=target, logits=input)"

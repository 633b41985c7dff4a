"""An adapter over tests/_fake_calculus.py: a framework whose tensors are NumPy arrays and whose
derivatives are the fake library's own (``Traced``), with reproducers that run them."""

from types import MappingProxyType

import numpy as np

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.framework import Framework
from adapters.source import literal


class FakeCalculus(Framework):
    name = "_fake_calculus"
    modules = MappingProxyType({"_fake_calculus": "_fake_calculus", "np": "numpy"})
    derivatives = MappingProxyType({"jvp": "Traced.jvp", "hvp": "Traced.hvp"})
    source_spelling = ("np.array", "np.empty", "np.{dtype}")
    list_spelling = "np.asarray({name}, dtype=np.float64).tolist()"

    def version(self):
        return "1.0"

    def tensor(self, array, dtype, *, index=False):
        return np.asarray(array, dtype=np.int64 if index else dtype)

    def tensor_source(self, array, dtype):
        return f"np.array({literal(np.asarray(array, dtype=np.float64))})"

    def to_numpy(self, value):
        value = value.value() if hasattr(value, "value") else value
        return np.asarray(value, dtype=np.float64)

    def value_with_gradient(self, call, operands, wrt):
        traced = call(operands)
        return traced.value(), traced.gradient(wrt)

    def gradient_source(self, call_source, wrt, to_list):
        return [f"loss = {call_source}", f"result = {to_list(f'loss.gradient({wrt!r})')}"]

    def value_with_jvp(self, call, operands, wrt, direction):
        traced = call(operands)
        return traced.value(), traced.jvp(wrt, direction)

    def value_with_hvp(self, call, operands, wrt, direction):
        traced = call(operands)
        return traced.value(), traced.hvp(wrt, direction)

    def derivative_source(self, check, call_source, wrt, to_list):
        return [f"loss = {call_source}",
                f"result = {to_list(f'loss.{check}({wrt!r}, direction)')}"]


def _binding(name: str, **fields) -> Binding:
    return Binding(api=f"_fake_calculus.{name}", library="calculus",
                   loss="binary_cross_entropy_with_logits",
                   expression=f"_fake_calculus.{name}(input, target)", reductions={"sum": ""},
                   dtypes=("float64",), gradients=("input", "target"),
                   surface=(f"_fake_calculus.{name}",), **fields)


class FakeCalculusAdapter(Adapter):
    library = "calculus"
    framework = FakeCalculus()
    bindings = (_binding("exact"), _binding("wrong_jvp_sign"), _binding("no_forward_mode"),
                _binding("first_order_only",
                         no_derivatives={"hvp": "a stand-in without double backward"}))

    def version(self):
        return "1.0"

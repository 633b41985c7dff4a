"""A stand-in library for the accuracy tables' tests (tests/test_accuracy_tables.py): binary
cross-entropy with logits, reduction "none", whose value and gradient come back as the
dtype holds them. ``exact`` rounds the oracle's answers once (at most half an ulp);
``flushed`` computes the gradient as ``sigmoid(x) - t`` in the dtype, which is exactly 0 once
sigmoid(x) rounds to 1 (as PyTorch's is above a logit of about 37 in float64); ``refuses``
raises on every call."""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

import reference
from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.framework import Framework
from adapters.source import literal

LOSS = "binary_cross_entropy_with_logits"


class Result:
    def __init__(self, value, gradient):
        self.value, self.gradient = value, gradient


def _exact(input, target):
    kwargs = {"input": np.asarray(input, np.float64), "target": np.asarray(target, np.float64),
              "reduction": "none"}
    return (reference.binary_cross_entropy_with_logits(**kwargs),
            reference.grad(LOSS, wrt="input", **kwargs))


def exact(input, target):
    value, gradient = _exact(input, target)
    return Result(value.astype(input.dtype), gradient.astype(input.dtype))


def flushed(input, target):
    value, _ = _exact(input, target)
    with np.errstate(over="ignore"):
        sigmoid = (1 / (1 + np.exp(-input))).astype(input.dtype)
    return Result(value.astype(input.dtype), (sigmoid - target).astype(input.dtype))


def refuses(input, target):
    raise ValueError("this stand-in refuses every input")


class FakeArrays(Framework):
    name = "_fake_accuracy"
    modules = MappingProxyType({"_fake_accuracy": "_fake_accuracy", "np": "numpy"})
    source_spelling = ("np.array", "np.empty", "np.{dtype}")
    list_spelling = "np.asarray({name}, dtype=np.float64).tolist()"

    def version(self):
        return "1.0"

    def tensor(self, array, dtype, *, index=False):
        return np.asarray(array, dtype=np.int64 if index else dtype)

    def tensor_source(self, array, dtype):
        return f"np.array({literal(np.asarray(array, dtype=np.float64))}, dtype=np.{dtype})"

    def to_numpy(self, value):
        return np.asarray(value.value if isinstance(value, Result) else value, np.float64)

    def value(self, call, operands):
        return call(operands).value

    def value_with_gradient(self, call, operands, wrt):
        result = call(operands)
        return result.value, result.gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"loss = {call_source}", f"result = {to_list('loss.gradient')}"]


def _binding(name: str) -> Binding:
    return Binding(api=f"_fake_accuracy.{name}", library="accuracy", loss=LOSS,
                   expression=f"_fake_accuracy.{name}(input, target)", reductions={"none": ""},
                   dtypes=("float16", "float32", "float64"), gradients=("input",),
                   surface=(f"_fake_accuracy.{name}",))


class FakeAccuracyAdapter(Adapter):
    library = "accuracy"
    framework = FakeArrays()
    bindings = (_binding("exact"), _binding("flushed"), _binding("refuses"))

    def version(self):
        return "1.0"

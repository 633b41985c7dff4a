"""MLX as the adapters compute with it: the CPU device (the mlx-cpu build has no other);
gradients by ``mx.value_and_grad``, directional derivatives by ``mx.jvp`` (forward mode) and
``mx.jvp`` of ``mx.grad`` (forward over reverse: a Hessian-vector product).
"""

from __future__ import annotations

import importlib
from types import MappingProxyType

import numpy as np

from adapters.framework import Framework


class Mlx(Framework):
    """MLX on the CPU (the ``mlx-cpu`` build: no Metal, no CUDA). ``mx.array`` of a float64
    NumPy array makes float32 unless told the dtype, so tensors are made as float64 and cast;
    MLX casts float64 to float16 and bfloat16 through float32 (a double rounding: 1 + 2**-8 +
    2**-30 becomes bfloat16 1, not 1 + 2**-7), and ``fed`` records what it made."""

    name = "mlx"
    modules = MappingProxyType({"mx": "mlx.core"})
    source_spelling = ("mx.array", "mx.zeros", "mx.{dtype}")
    list_spelling = "{name}.astype(mx.float64).tolist()"
    derivatives = MappingProxyType({"jvp": "mx.jvp", "hvp": "mx.jvp(mx.grad(f), [x], [v])"})

    def imported(self):
        # mlx is a namespace package: the arrays, the version and the devices are mlx.core's
        return importlib.import_module("mlx.core")

    def configure(self, mx):
        mx.set_default_device(mx.cpu)

    def tensor(self, array, dtype, *, index=False):
        mx = self.imported()
        if index:
            return mx.array(np.asarray(array, dtype=np.int64), dtype=mx.int64)
        return mx.array(np.asarray(array, dtype=np.float64), dtype=mx.float64).astype(
            getattr(mx, dtype))

    def to_numpy(self, value):
        mx = self.imported()
        value = mx.array(value)
        # evaluate first: an error of the lazy computation then raises, where NumPy's buffer
        # read of an unevaluated array swallows it and returns uninitialised memory
        mx.eval(value)
        if mx.issubdtype(value.dtype, mx.floating):
            # (NumPy cannot read a bfloat16 buffer; every float widens to float64 exactly)
            return np.array(value.astype(mx.float64))
        return np.array(value).astype(np.int64)

    def value_with_gradient(self, call, operands, wrt):
        mx = self.imported()

        def total(x):
            value = call({**operands, wrt: x})
            return mx.sum(value), value

        # the first output is differentiated, the value rides along
        (_, value), gradient = mx.value_and_grad(total)(operands[wrt])
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"gradient = mx.grad(lambda {wrt}: mx.sum({call_source}))({wrt})",
                f"result = {to_list('gradient')}"]

    def value_with_jvp(self, call, operands, wrt, direction):
        mx = self.imported()
        # mx.jvp takes and returns lists: one primal, one tangent
        (value,), (jvp,) = mx.jvp(lambda x: call({**operands, wrt: x}), [operands[wrt]],
                                  [direction])
        return value, jvp

    def value_with_hvp(self, call, operands, wrt, direction):
        mx = self.imported()
        # the jvp of the gradient along v is H v; mx.grad has no auxiliary output, so the value
        # is a call of its own
        gradient = mx.grad(lambda x: mx.sum(call({**operands, wrt: x})))
        _, (hvp,) = mx.jvp(gradient, [operands[wrt]], [direction])
        return call(operands), hvp

    def derivative_source(self, check, call_source, wrt, to_list):
        if check == "jvp":
            return [f"_, (jvp,) = mx.jvp(lambda {wrt}: {call_source}, [{wrt}], [direction])",
                    f"result = {to_list('jvp')}"]
        return [f"gradient = mx.grad(lambda {wrt}: mx.sum({call_source}))",
                f"_, (hvp,) = mx.jvp(gradient, [{wrt}], [direction])",
                f"result = {to_list('hvp')}"]


MLX = Mlx()

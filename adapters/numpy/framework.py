"""NumPy arrays, as the NumPy-ecosystem adapters, ONNX and the example compute with them: no
settings, no automatic differentiation.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from adapters.framework import Framework, numpy_to_float64
from adapters.source import array_source


class NumPy(Framework):
    name = "numpy"
    modules = MappingProxyType({"np": "numpy"})
    autograd = False
    _no_autograd = "numpy has no automatic differentiation"

    def tensor(self, array, dtype, *, index=False):
        if index:
            return np.asarray(array, dtype=np.int64)
        return np.asarray(array, dtype=np.float64).astype(dtype)

    def to_numpy(self, value):
        return numpy_to_float64(np.asarray(value))

    def tensor_source(self, array, dtype):
        return array_source(array, "np.array", "np.empty", f"np.{dtype}")

    def to_list_source(self, name):
        return f"np.asarray({name}, dtype=np.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        if wrt is not None:
            raise NotImplementedError(self._no_autograd)
        return call(operands), None

    def gradient_source(self, call_source, wrt, to_list):
        return [f"loss = {call_source}", f"raise NotImplementedError({self._no_autograd!r})"]


NUMPY = NumPy()

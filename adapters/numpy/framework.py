"""NumPy arrays, as the NumPy-ecosystem adapters, ONNX and the example compute with them: no
settings, no automatic differentiation. A call's value is taken with NumPy's floating-point
warnings ignored: log(0) and "do not sum to one" must stay values, not turn into exceptions
under a strict warnings filter or ``np.seterr(all="raise")``.
"""

from __future__ import annotations

import warnings
from types import MappingProxyType

import numpy as np

from adapters.framework import Framework, numpy_to_float64


class NumPy(Framework):
    name = "numpy"
    modules = MappingProxyType({"np": "numpy"})
    source_spelling = ("np.array", "np.empty", "np.{dtype}")
    list_spelling = "np.asarray({name}, dtype=np.float64).tolist()"
    autograd = False
    _no_autograd = "numpy has no automatic differentiation"

    def tensor(self, array, dtype, *, index=False):
        if index:
            return np.asarray(array, dtype=np.int64)
        return np.asarray(array, dtype=np.float64).astype(dtype)

    def to_numpy(self, value):
        return numpy_to_float64(np.asarray(value))

    def value(self, call, operands):
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return call(operands)

    def value_with_gradient(self, call, operands, wrt):
        raise NotImplementedError(self._no_autograd)

    def gradient_source(self, call_source, wrt, to_list):
        return [f"loss = {call_source}", f"raise NotImplementedError({self._no_autograd!r})"]


NUMPY = NumPy()

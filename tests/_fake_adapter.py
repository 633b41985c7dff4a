"""An adapter over tests/_fake_library.py (see tests/test_guard.py)."""

from typing import ClassVar

import numpy as np

from adapters.base import Adapter, literal
from adapters.core import Binding

_NAMES = ("fine", "hang", "segfault", "broken")


class FakeAdapter(Adapter):
    library = "fake"
    modules: ClassVar[dict[str, str]] = {"_fake_library": "_fake_library"}
    bindings = tuple(
        Binding(api=f"_fake_library.{name}", library="fake", loss="binary_cross_entropy",
                expression=f"_fake_library.{name}(input, target)", reductions={"sum": ""},
                dtypes=("float64",), gradients=(), surface=(f"_fake_library.{name}",))
        for name in _NAMES
    )

    def version(self):
        return "0"

    def tensor(self, array, dtype, *, index=False):
        return np.asarray(array, dtype=dtype)

    def to_numpy(self, value):
        return np.asarray(value)

    def tensor_source(self, array, dtype, *, index=False, differentiable=False):
        return f"np.array({literal(array)})"

    def value_and_gradient(self, call, operands, wrt):
        return call(operands), None

    def value_source(self, call_source):
        return [f"result = float({call_source})"]

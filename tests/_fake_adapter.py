"""Adapters over tests/_fake_library.py (see tests/test_guard.py and tests/test_harness.py):
``FakeAdapter`` declares its functions soundly; ``MistakenAdapter`` adds the mistakes a user's
adapter can make, which the harness must own rather than blame on the library."""

from typing import ClassVar

import numpy as np

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.source import literal

_NAMES = ("fine", "hang", "segfault", "broken", "rejects", "leak", "out_of_memory",
          "runs_a_missing_compiler", "imports_a_missing_module")


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


def _mistaken(api: str, expression: str) -> Binding:
    return Binding(api=api, library="fake", loss="binary_cross_entropy", expression=expression,
                   reductions={"sum": ""}, dtypes=("float64",), gradients=(), surface=())


class MistakenAdapter(FakeAdapter):
    """The fake library with the mistakes of an adapter's expressions: a syntax error, a name
    the library does not have, a name that is nowhere."""

    bindings = (*FakeAdapter.bindings,
                _mistaken("mistaken.syntax", "_fake_library.fine(input, target"),
                _mistaken("mistaken.no_such_function", "_fake_library.no_such_function(input, "
                                                       "target)"),
                _mistaken("mistaken.undefined_name", "fake_library.fine(input, target)"))


class UnimportableAdapter(FakeAdapter):
    """A library that is not installed here."""

    modules: ClassVar[dict[str, str]] = {"xent_no_such_library": "xent_no_such_library"}

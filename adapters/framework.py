"""The array framework an adapter computes with: what every framework says, and how.

A framework (one subclass per array library, in the library's folder: ``adapters/torch/
framework.py``, ``adapters/jax/framework.py``, ...) is set up once, for every adapter computing
with it: its own adapter and Keras with it as backend. It says

- the environment variables read at its import (set before the first import, and by every
  reproducer) and the settings applied after it (``configure``), those that make numbers exact
  and repeatable on the CPU;
- its version, and the tools it runs (a C compiler);
- how a float64 NumPy array becomes one of its tensors of a dtype, and back to float64 NumPy
  exactly (bfloat16 included), and how a reproducer spells both;
- how it takes the gradient of the sum of a call's result, and how a reproducer spells that;
- which derivatives beyond that reverse gradient it takes (``derivatives``: the forward-mode
  directional derivative ``jvp`` and the Hessian-vector product ``hvp``), and how.

Importing a framework module imports no library: ``Adapter.namespace`` sets ``environment``,
imports the framework with the adapter's other modules and then calls ``configure``. The
methods that use the library must only be called after that.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from types import MappingProxyType, ModuleType
from typing import ClassVar

import numpy as np

from adapters.source import array_source

#: writes the source of a float64 Python list of the named tensor
ToListSource = Callable[[str], str]


class Framework:
    """One array framework (see the module docstring). One instance of each subclass is shared
    by every adapter computing with it."""

    #: the import path, which is also the name versions are reported under: "torch", "jax", ...
    name: ClassVar[str]
    #: the names the calls and reproducers use -> import paths (``import {path} as {name}``)
    modules: ClassVar[Mapping[str, str]]
    #: environment variables read at import
    environment: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: whether ``value_and_gradient`` takes gradients
    autograd: ClassVar[bool] = True
    #: qualified names of the exceptions by which the framework says that a tool it runs is
    #: missing or broken (a compiler): the machine's fault, never the library's behaviour
    #: (``adapters.harness``; a tool run as a program is recognised without this)
    toolchain_errors: ClassVar[tuple[str, ...]] = ()
    #: the directional derivatives the framework takes -> the idiom its calls and reproducers
    #: use: {"jvp": "torch.func.jvp", "hvp": "torch.autograd.grad(create_graph=True), twice"}.
    #: A mode left out is not offered; a binding that cannot take one its framework offers
    #: says why in ``Binding.no_derivatives``
    derivatives: ClassVar[Mapping[str, str]] = MappingProxyType({})
    #: how a reproducer writes a tensor: the function making it from a literal, the one making
    #: an empty one, and the dtype's spelling, ``{dtype}`` filled in: ("torch.tensor",
    #: "torch.empty", "torch.{dtype}")
    source_spelling: ClassVar[tuple[str, str, str]]
    #: how a reproducer lists the tensor called ``{name}`` as float64 Python numbers
    list_spelling: ClassVar[str]

    def imported(self) -> ModuleType:
        """The framework's module (imported by ``Adapter.namespace``, environment set)."""
        return importlib.import_module(self.name)

    def configure(self, module: ModuleType) -> None:
        """Settings after import; applying them twice changes nothing."""

    def version(self) -> str:
        return str(getattr(self.imported(), "__version__", "unknown"))

    def toolchain_versions(self) -> dict[str, str]:
        """The programs the framework runs to compute (a C compiler), name -> version, for the
        run's record of library versions; {} when it runs none."""
        return {}

    def tensor(self, array: np.ndarray, dtype: str, *, index: bool = False):
        """A tensor of ``dtype`` holding ``array`` rounded to it (int64 class indices when
        ``index``)."""
        raise NotImplementedError

    def to_numpy(self, value) -> np.ndarray:
        """``value`` as a float64 NumPy array (int64 for integers), exactly."""
        raise NotImplementedError

    def tensor_source(self, array: np.ndarray, dtype: str) -> str:
        """Source code building the tensor of ``dtype`` that holds ``array``, from literals."""
        constructor, empty, spelling = self.source_spelling
        return array_source(array, constructor, empty, spelling.format(dtype=dtype))

    def to_list_source(self, name: str) -> str:
        """Source code of the tensor called ``name`` as a float64 Python list."""
        return self.list_spelling.format(name=name)

    def value_and_gradient(self, call: Callable[[dict], object], operands: dict,
                           wrt: str | None):
        """``call(operands)`` and, with ``wrt``, the gradient of the sum of its elements with
        respect to ``operands[wrt]``: d(sum_i loss_i)/d wrt (None without ``wrt``)."""
        if wrt is None:
            return self.value(call, operands), None
        return self.value_with_gradient(call, operands, wrt)

    def value(self, call: Callable[[dict], object], operands: dict):
        """``call(operands)`` with no gradient taken."""
        return call(operands)

    def value_with_gradient(self, call: Callable[[dict], object], operands: dict, wrt: str):
        """``call(operands)`` and the gradient of the sum of its elements with respect to
        ``operands[wrt]``."""
        raise NotImplementedError

    def gradient_source(self, call_source: str, wrt: str, to_list: ToListSource) -> list[str]:
        """Reproducer lines setting ``result`` to that gradient, listed by ``to_list``."""
        raise NotImplementedError

    def value_and_derivative(self, check: str, call: Callable[[dict], object], operands: dict,
                             wrt: str, direction):
        """``call(operands)`` and its derivative along ``direction`` (a tensor shaped like
        ``operands[wrt]``, of its dtype):

        - ``jvp``: the forward-mode directional derivative of the call's result,
          d/de call(operands with wrt + e direction) at e = 0, in the result's shape;
        - ``hvp``: the Hessian of the sum of the result's elements with respect to
          ``operands[wrt]``, times ``direction``, in the operand's shape.
        """
        if check == "jvp":
            return self.value_with_jvp(call, operands, wrt, direction)
        if check == "hvp":
            return self.value_with_hvp(call, operands, wrt, direction)
        raise ValueError(f"check: {check!r} is not 'jvp' or 'hvp'")

    def value_with_jvp(self, call: Callable[[dict], object], operands: dict, wrt: str,
                       direction):
        raise NotImplementedError(f"{self.name} declares no jvp")

    def value_with_hvp(self, call: Callable[[dict], object], operands: dict, wrt: str,
                       direction):
        raise NotImplementedError(f"{self.name} declares no hvp")

    def derivative_source(self, check: str, call_source: str, wrt: str,
                          to_list: ToListSource) -> list[str]:
        """Reproducer lines setting ``result`` to the ``jvp`` or ``hvp`` of the call (source)
        along the tensor the reproducer has named ``direction``, listed by ``to_list``."""
        raise NotImplementedError(f"{self.name} declares no {check}")


def numpy_to_float64(array: np.ndarray) -> np.ndarray:
    """``array`` widened to float64 (int64 for integers): exact for every float."""
    # float16, bfloat16 (ml_dtypes, dtype kind "V") and float32 all widen to float64 exactly
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    return array.astype(np.float64)


__all__ = ["Framework", "ToListSource", "numpy_to_float64"]

"""What every library adapter does the same way; each library module fills in the specifics.

A subclass says which modules its calls need and which array framework computes them
(``adapters.framework.Framework``, one subclass in each library folder): how to make a tensor of
a dtype from a float64 array (and back), how to write that tensor as source code, and how to
take a gradient are the framework's unless the subclass says otherwise. This class turns a
(binding, case) pair into the call, runs it, and records the observation and its reproducer.
Library exceptions are data: they become ``Observation.error``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from typing import ClassVar

import numpy as np

from adapters import harness
from adapters.binding import (
    ARRAY_OPTIONS,
    DERIVATIVE_CHECKS,
    DIRECTIONAL_CHECKS,
    Binding,
    Case,
    Observation,
)
from adapters.compiled import Compiler
from adapters.framework import Framework


class Adapter:
    """Base class of one library's adapter (see the module docstring)."""

    #: the library's name as the report shows it, e.g. "torch"
    library: str = ""
    #: modules the calls need, imported lazily: name in the call namespace -> module path
    modules: ClassVar[dict[str, str]] = {}
    #: the module whose ``__version__`` is reported
    version_module: str = ""
    #: every API binding this library offers
    bindings: Sequence[Binding] = ()
    #: the array framework computing the calls: configured after import, and the default
    #: for making, reading and writing tensors and for gradients (None: the subclass says)
    framework: Framework | None = None
    #: the compiled mode whose twins ``bindings`` includes (``adapters.compiled``): it adds what
    #: a compiled call needs to the namespace and to the reproducers (None: eager only)
    compiler: Compiler | None = None
    #: where an adapter run with XENT_ADAPTER keeps its deviation registry
    #: (``<library>.toml``): a folder, relative to the adapter's module;
    #: None: the module's own folder (``conformance.selection``)
    registry_directory: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # the framework's modules and environment variables, unless the subclass states its own
        framework = cls.__dict__.get("framework")
        if framework is not None:
            for name in ("modules", "environment"):
                if name not in cls.__dict__:
                    setattr(cls, name, dict(getattr(framework, name)))

    def __init__(self):
        self._namespace: dict | None = None

    # --- availability ------------------------------------------------------------------------

    #: environment variables set before the first import (and in every reproducer); they
    #: include the framework's
    environment: ClassVar[dict[str, str]] = {}

    def namespace(self) -> dict:
        """The imported modules, by the names the call expressions use."""
        if self._namespace is None:
            saved = {key: os.environ.get(key) for key in self.environment}
            os.environ.update(self.environment)
            try:
                namespace = {name: _bind(name, path) for name, path in self.modules.items()}
                if self.framework is not None:
                    self.framework.configure(self.framework.imported())
                if self.compiler is not None:
                    self.compiler.configure(namespace)
                self.configure(namespace)
            except Exception:
                # not importable here: leave the process's environment as it was, so the
                # settings of an absent library do not reach the next adapter
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
                raise
            self._namespace = namespace
        return self._namespace

    def configure(self, namespace: dict) -> None:
        """Checks and settings after import beyond the framework's and the compiler's (which
        come first)."""

    def unavailable(self) -> str | None:
        """None when the library imports; otherwise "unavailable: <reason>"."""
        try:
            self.namespace()
        except Exception as exc:  # ImportError, or a broken install raising anything else
            return f"unavailable: {type(exc).__name__}: {exc}"
        return None

    def version(self) -> str:
        module = importlib.import_module(self.version_module or next(iter(self.modules.values())))
        return str(getattr(module, "__version__", "unknown"))

    def binding(self, api: str) -> Binding:
        for b in self.bindings:
            if b.api == api:
                return b
        raise KeyError(f"{self.library} has no binding {api!r}")

    # --- library specifics: the framework's unless overridden -------------------------------

    def tensor(self, array: np.ndarray, dtype: str, *, index: bool = False):
        """The library's tensor of ``dtype`` (an integer tensor for class indices)."""
        return self._framework().tensor(array, dtype, index=index)

    def to_numpy(self, value) -> np.ndarray:
        """A library result as a float64 (or integer) NumPy array, exactly."""
        return self._framework().to_numpy(value)

    def tensor_source(self, array: np.ndarray, dtype: str, *, index: bool = False) -> str:
        """Source code that builds the same tensor from literals."""
        return self._framework().tensor_source(array, "int64" if index else dtype)

    def to_list_source(self, name: str) -> str:
        """Source code of the tensor called ``name`` as a float64 Python list."""
        return self._framework().to_list_source(name)

    def value_and_gradient(self, call, operands: dict, wrt: str | None):
        """Run ``call(operands)``; with ``wrt``, also the gradient of the sum of the result."""
        return self._framework().value_and_gradient(call, operands, wrt)

    def gradient_source(self, call_source: str, wrt: str) -> list[str]:
        """Reproducer lines computing ``result``, the gradient of the sum of the call."""
        return self._framework().gradient_source(call_source, wrt, self.to_list_source)

    def derivative_modes(self) -> dict[str, str]:
        """The directional derivatives (``jvp``, ``hvp``) the adapter takes -> the idiom."""
        return dict(self.framework.derivatives) if self.framework is not None else {}

    def derivative_unsupported(self, binding: Binding, check: str) -> str | None:
        """Why the adapter cannot take ``check`` (a ``jvp`` or ``hvp``) of ``binding``: its
        framework offers none, or the binding says (``Binding.no_derivatives``); else None."""
        if check not in DIRECTIONAL_CHECKS:
            return None
        if check not in self.derivative_modes():
            framework = self.framework.name if self.framework is not None else self.library
            return f"no {check}: {framework} offers none"
        return binding.supports_derivative(check)

    def value_and_derivative(self, check: str, call, operands: dict, wrt: str, direction):
        """Run ``call(operands)`` and take its ``jvp`` or ``hvp`` along ``direction``."""
        return self._framework().value_and_derivative(check, call, operands, wrt, direction)

    def derivative_source(self, check: str, call_source: str, wrt: str) -> list[str]:
        """Reproducer lines computing ``result``, the ``jvp`` or ``hvp`` of the call along the
        tensor ``direction``."""
        return self._framework().derivative_source(check, call_source, wrt,
                                                   self.to_list_source)

    def value_source(self, call_source: str) -> list[str]:
        """Reproducer lines computing ``result``, the call's value as a float64 list."""
        return [f"loss = {call_source}", f"result = {self.to_list_source('loss')}"]

    def _framework(self) -> Framework:
        if self.framework is None:
            raise NotImplementedError(f"{type(self).__name__} names no framework, so it must "
                                      "say how to make, read and differentiate its tensors")
        return self.framework

    # --- the shared procedure ----------------------------------------------------------------

    def operands(self, binding: Binding, case: Case):
        """The library operands for ``case`` and float64 copies of exactly what they hold."""
        operands, fed = {}, {}
        for name, array in case.inputs.items():
            index = case.is_index(name)
            tensor = self.tensor(np.asarray(array), case.dtype, index=index)
            operands[name] = tensor
            # a copy: to_numpy may share the tensor's memory, and a library may write into its
            # operands (Keras on torch scales a sample_weight tensor in place with ignore_class)
            fed[name] = np.array(self.to_numpy(tensor), copy=True)
        return operands, fed

    def direction(self, case: Case):
        """The library tensor of ``case.direction`` and a float64 copy of what it holds."""
        tensor = self.tensor(np.asarray(case.direction, dtype=np.float64), case.dtype)
        return tensor, np.array(self.to_numpy(tensor), copy=True)

    def evaluate(self, binding: Binding, case: Case, check: str = "value",
                 wrt: str = "input") -> Observation:
        """Call the library on ``case`` and observe what it returns or raises.

        An exception is the library's behaviour only if it arose in the call and
        ``adapters.harness`` finds no cause of the harness in it; importing the library,
        compiling the expression and making the operands are the harness's part, and an
        exception there is an observation with ``harness`` set.
        """
        wrt = wrt if check in DERIVATIVE_CHECKS else None
        observation = Observation(binding.api, self.library, "unknown", case.dtype, {}, wrt=wrt,
                                  derivative=check if wrt is not None else None)
        directional = check in DIRECTIONAL_CHECKS
        if directional and (check not in self.derivative_modes() or case.direction is None):
            return _harness_failed(observation, NotImplementedError(check), (
                f"the adapter takes no {check} (its framework declares none), yet the suite "
                "asked for one" if case.direction is not None
                else f"the {check} case has no direction"))
        try:
            namespace = self.namespace()
            observation.version = self.version()
        except Exception as exc:
            return _harness_failed(observation, exc, "the library could not be imported: "
                                   + harness.one_line(exc))
        source = binding.call_source(case)
        try:
            code = compile(source, harness.expression_file(binding.api), "eval")
        except SyntaxError as exc:
            return _harness_failed(observation, exc, "the binding's expression is not valid "
                                   f"Python ({exc.msg}): {source}")
        try:
            operands, observation.fed = self.operands(binding, case)
            if directional:
                direction, observation.fed["direction"] = self.direction(case)
        except Exception as exc:
            return _harness_failed(observation, exc, self._harness_cause(binding, exc) or (
                "the adapter could not make the operands: " + harness.one_line(exc)))
        try:
            def call(ops):
                return eval(code, dict(namespace), dict(ops))  # the declared expression

            if directional:
                value, gradient = self.value_and_derivative(check, call, operands, wrt,
                                                            direction)
            else:
                value, gradient = self.value_and_gradient(call, operands, wrt)
            observation.value = self.to_numpy(value).astype(np.float64)
            if wrt is not None:
                observation.gradient = (None if gradient is None
                                        else self.to_numpy(gradient).astype(np.float64))
        except Exception as exc:  # the library's exception is the observation
            observation.value = observation.gradient = None
            observation.error = (harness.qualified_name(type(exc)), str(exc))
            observation.harness = self._harness_cause(binding, exc)
        observation.reproducer = self.reproducer(binding, case, observation, source)
        return observation

    def _harness_cause(self, binding: Binding, exc: Exception) -> str | None:
        toolchain = self.framework.toolchain_errors if self.framework is not None else ()
        return harness.cause_of(exc, binding.api, toolchain)

    def describe(self, binding: Binding, case: Case, check: str = "value",
                 wrt: str = "input") -> Observation:
        """What ``evaluate`` would feed and its reproducer, without making the call."""
        self.namespace()
        wrt = wrt if check in DERIVATIVE_CHECKS else None
        observation = Observation(binding.api, self.library, self.version(), case.dtype, {},
                                  wrt=wrt, derivative=check if wrt is not None else None)
        _, observation.fed = self.operands(binding, case)
        if check in DIRECTIONAL_CHECKS and case.direction is not None:
            observation.fed["direction"] = self.direction(case)[1]
        observation.reproducer = self.reproducer(binding, case, observation,
                                                 binding.call_source(case))
        return observation

    def reproducer(self, binding: Binding, case: Case, observation: Observation,
                   source: str) -> str:
        """A runnable snippet importing only this library: literal inputs, the exact call."""
        lines = [f"import {path}" if name == path.split(".")[0] or name == path
                 else f"import {path} as {name}" for name, path in self.modules.items()]
        lines = self.preamble() + lines
        for name in case.inputs:
            array = observation.fed.get(name)
            if array is None:
                array = np.asarray(case.inputs[name])
            index = case.is_index(name)
            lines.append(f"{name} = " + self.tensor_source(array, case.dtype, index=index))
        if observation.wrt is None:
            lines += self.value_source(source)
        elif observation.derivative in DIRECTIONAL_CHECKS:
            direction = observation.fed.get("direction", case.direction)
            lines.append("direction = " + self.tensor_source(np.asarray(direction), case.dtype))
            lines += self.derivative_source(observation.derivative, source, observation.wrt)
        else:
            lines += self.gradient_source(source, observation.wrt)
        lines.append("print(result)")
        text = "\n".join(lines) + "\n"
        return text if self.compiler is None else self.compiler.reproducer(text, source)

    def preamble(self) -> list[str]:
        """Lines before the imports: the environment variables the adapter sets."""
        if not self.environment:
            return []
        return ["import os"] + [f"os.environ[{k!r}] = {v!r}" for k, v in self.environment.items()]


def _bind(name: str, path: str):
    """What ``import path`` (or ``import path as name``) binds to ``name``.

    ``import scipy.special`` binds ``scipy``, the package, while import_module returns the
    submodule; the call expressions must see what the reproducer's import statement gives.
    """
    module = importlib.import_module(path)
    return importlib.import_module(name) if path.startswith(name + ".") else module


def _harness_failed(observation: Observation, exc: Exception, cause: str) -> Observation:
    """``observation`` as a failure of the harness, for ``cause`` (no reproducer: the library
    call was never made)."""
    observation.error = (harness.qualified_name(type(exc)), str(exc))
    observation.harness = cause
    return observation


__all__ = ["ARRAY_OPTIONS", "Adapter"]

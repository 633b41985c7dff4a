"""Adapters: one module per numerical library, calling its public cross-entropy APIs and
returning what it did (values, gradients or the error it raised) as observations.

Importing this package or an adapter module never imports the library itself: the
declarations (``Binding``) are plain data, and the library is imported on first use.
"""

from __future__ import annotations

import difflib
import importlib

#: adapter name -> "module:Class"
ADAPTERS = {
    "numpy": "adapters.numpy_ecosystem:NumpyAdapter",
    "scipy": "adapters.numpy_ecosystem:ScipyAdapter",
    "scikit-learn": "adapters.numpy_ecosystem:SklearnAdapter",
    "torch": "adapters.pytorch:TorchAdapter",
    "jax": "adapters.jax_optax:JaxOptaxAdapter",
    "tensorflow": "adapters.tf_nn:TfAdapter",
    "keras": "adapters.keras_losses:KerasAdapter",
    "onnxruntime": "adapters.onnx_ops:OnnxRuntimeAdapter",
    "onnx-reference": "adapters.onnx_ops:OnnxReferenceAdapter",
    "mlx": "adapters.mlx_losses:MlxAdapter",
    "paddle": "adapters.paddle:PaddleAdapter",
    "tinygrad": "adapters.tinygrad_losses:TinygradAdapter",
}

#: tox env -> the adapters that must be available there (elsewhere they may be skipped)
ENVIRONMENTS = {
    "numpy": ("numpy", "scipy", "scikit-learn"),
    "torch": ("torch",),
    "jax": ("jax",),
    "tensorflow": ("tensorflow", "keras"),
    "tf-keras": ("keras",),
    "keras-jax": ("keras",),
    "keras-torch": ("keras",),
    "keras-numpy": ("keras",),
    "onnx": ("onnxruntime", "onnx-reference"),
    "mlx": ("mlx",),
    "paddle": ("paddle",),
    "tinygrad": ("tinygrad",),
}


#: environment variables that select a library's flavour in an env (tox.ini sets the same)
ENV_VARIABLES = {
    "tensorflow": {"KERAS_BACKEND": "tensorflow"},
    "tf-keras": {"TF_USE_LEGACY_KERAS": "1"},
    "keras-jax": {"KERAS_BACKEND": "jax"},
    "keras-torch": {"KERAS_BACKEND": "torch"},
    "keras-numpy": {"KERAS_BACKEND": "numpy"},
}


class AdapterSpecError(ValueError):
    """An adapter path that names no usable adapter: says which path and what is wrong."""


def adapter_class(path: str) -> type:
    """The ``Adapter`` subclass a "module.path:ClassName" path names, checked.

    Importing the module must not import the library (the declarations are plain data), so
    a failed import is the adapter module's own fault and is reported as such.
    """
    from adapters.base import Adapter

    module_name, colon, class_name = path.partition(":")
    if not colon or not module_name or not class_name or ":" in class_name:
        raise AdapterSpecError(f"adapter {path!r}: expected module.path:ClassName, "
                               "e.g. mypkg.xent:Adapter")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ModuleNotFoundError, or the module's own error
        raise AdapterSpecError(f"adapter {path!r}: cannot import module {module_name!r}: "
                               f"{type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise AdapterSpecError(f"adapter {path!r}: module {module_name!r} "
                               f"({module.__file__}) has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise AdapterSpecError(f"adapter {path!r}: {class_name} is not a subclass of "
                               "adapters.base.Adapter")
    return cls


def declaration_problem(adapter) -> str | None:
    """The first of ``declaration_problems``, or None."""
    return next(iter(declaration_problems(adapter)), None)


def declaration_problems(adapter) -> list[str]:
    """What makes an adapter's declarations unusable by the suite, one sentence each (an
    instance is checked: Keras's adapter names its library and bindings when made, per flavour).

    The suite finds a binding's registry by ``Binding.library`` and its oracle by
    ``Binding.loss``, and names findings by ``Binding.api``: a mismatch would be silently
    judged against the wrong registry or loss. ``conformance.declarations`` checks the rest of
    each binding.
    """
    from reference.specs import LOSS_SPECS

    name = type(adapter).__name__
    if not adapter.library:
        return [f"{name} names no library (class attribute library = \"...\")"]
    if not adapter.bindings:
        return [f"{name} declares no bindings"]
    problems, apis = [], set()
    for binding in adapter.bindings:
        if binding.library != adapter.library:
            problems.append(f"binding {binding.api!r} says library={binding.library!r}, "
                            f"the adapter's library is {adapter.library!r}")
        if binding.loss not in LOSS_SPECS:
            close = difflib.get_close_matches(str(binding.loss), LOSS_SPECS, n=1)
            problems.append(f"binding {binding.api!r} computes {binding.loss!r}, which is none "
                            f"of the oracle's losses ({', '.join(LOSS_SPECS)})"
                            + (f"; did you mean {close[0]!r}?" if close else ""))
        if binding.api in apis:
            problems.append(f"two bindings are named {binding.api!r}")
        apis.add(binding.api)
    return problems


def load_adapter(name_or_path: str):
    """A fresh adapter instance, by name ("torch") or by "module:Class" path; a path that
    names no usable adapter raises ``AdapterSpecError``."""
    path = ADAPTERS.get(name_or_path, name_or_path)
    adapter = adapter_class(path)()
    problem = declaration_problem(adapter)
    if problem:
        raise AdapterSpecError(f"adapter {path!r}: {problem}")
    return adapter


def all_bindings():
    """Every declared binding of every adapter, without importing any library."""
    return [b for name in ADAPTERS for b in load_adapter(name).bindings]

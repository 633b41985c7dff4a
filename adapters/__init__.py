"""Adapters: one module per numerical library, calling its public cross-entropy APIs and
returning what it did (values, gradients or the error it raised) as observations.

Importing this package or an adapter module never imports the library itself: the
declarations (``Binding``) are plain data, and the library is imported on first use.
"""

from __future__ import annotations

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
}


#: environment variables that select a library's flavour in an env (tox.ini sets the same)
ENV_VARIABLES = {
    "tensorflow": {"KERAS_BACKEND": "tensorflow"},
    "tf-keras": {"TF_USE_LEGACY_KERAS": "1"},
    "keras-jax": {"KERAS_BACKEND": "jax"},
    "keras-torch": {"KERAS_BACKEND": "torch"},
    "keras-numpy": {"KERAS_BACKEND": "numpy"},
}


def load_adapter(name_or_path: str):
    """A fresh adapter instance, by name ("torch") or by "module:Class" path."""
    path = ADAPTERS.get(name_or_path, name_or_path)
    module, _, cls = path.partition(":")
    return getattr(importlib.import_module(module), cls)()


def all_bindings():
    """Every declared binding of every adapter, without importing any library."""
    return [b for name in ADAPTERS for b in load_adapter(name).bindings]

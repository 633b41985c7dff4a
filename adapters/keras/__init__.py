"""Keras: Keras 3 on each backend and legacy tf_keras, one adapter whose flavour the
environment selects (adapter.py; registries keras.toml, whose entries name the envs they hold
in, and tf_keras.toml; predicates.py). The frameworks are those of the backends' folders.

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "keras": "adapters.keras.adapter:KerasAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "tensorflow": ("keras",),
    "tf-keras": ("keras",),
    "keras-jax": ("keras",),
    "keras-torch": ("keras",),
    "keras-numpy": ("keras",),
}
#: tox env -> the environment variables selecting the flavour there (tox.ini sets the same)
ENV_VARIABLES = {
    "tensorflow": {"KERAS_BACKEND": "tensorflow"},
    "tf-keras": {"TF_USE_LEGACY_KERAS": "1"},
    "keras-jax": {"KERAS_BACKEND": "jax"},
    "keras-torch": {"KERAS_BACKEND": "torch"},
    "keras-numpy": {"KERAS_BACKEND": "numpy"},
}

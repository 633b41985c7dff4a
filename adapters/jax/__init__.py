"""JAX and optax: the optax losses and their ``jax.jit`` twins (adapter.py; framework.py;
registry optax.toml; predicates.py).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "jax": "adapters.jax.adapter:JaxOptaxAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "jax": ("jax",),
}

"""MLX: ``mlx.nn.losses`` on the CPU build (adapter.py; framework.py; registry mlx.toml).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "mlx": "adapters.mlx.adapter:MlxAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "mlx": ("mlx",),
}

"""tinygrad: the loss methods of ``tinygrad.Tensor`` on its CPU device, kernels compiled by
zig cc (adapter.py; framework.py; registry tinygrad.toml).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "tinygrad": "adapters.tinygrad.adapter:TinygradAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "tinygrad": ("tinygrad",),
}

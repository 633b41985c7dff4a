"""PyTorch: ``torch.nn.functional`` losses, ``torch.nn`` loss modules and their
``torch.compile`` twins (adapter.py; framework.py; registry torch.toml; predicates.py).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "torch": "adapters.torch.adapter:TorchAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "torch": ("torch",),
}

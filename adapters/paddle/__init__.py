"""PaddlePaddle: ``paddle.nn.functional`` losses and ``paddle.nn`` loss modules on the CPU
(adapter.py; framework.py; registry paddle.toml; predicates.py).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "paddle": "adapters.paddle.adapter:PaddleAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "paddle": ("paddle",),
}

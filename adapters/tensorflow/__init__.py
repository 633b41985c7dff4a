"""TensorFlow: the ``tf.nn`` losses and their XLA twins (adapter.py; framework.py; registry
tensorflow.toml; predicates.py, also read by the Keras registry's tensorflow entries).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "tensorflow": "adapters.tensorflow.adapter:TfAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "tensorflow": ("tensorflow",),
}

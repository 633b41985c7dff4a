"""ONNX: the loss operators through ONNX Runtime and ``onnx.reference``, two libraries
(adapter.py; registries onnxruntime.toml and onnx-reference.toml; predicates.py; NumPy's
framework).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "onnxruntime": "adapters.onnx.adapter:OnnxRuntimeAdapter",
    "onnx-reference": "adapters.onnx.adapter:OnnxReferenceAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "onnx": ("onnxruntime", "onnx-reference"),
}

"""The library modules of tests/adapters/ are collected where their adapters are covered
(``tests/_tested.py``): a backend env runs its own library's module, not the others' skipped."""

from _tested import tested

#: module -> the adapters it tests
_MODULES = {
    "test_jax_optax.py": ("jax",),
    "test_keras.py": ("keras",),
    "test_mlx.py": ("mlx",),
    "test_numpy_ecosystem.py": ("numpy", "scipy", "scikit-learn"),
    "test_onnx.py": ("onnxruntime", "onnx-reference"),
    "test_paddle.py": ("paddle",),
    "test_tensorflow.py": ("tensorflow",),
    "test_tinygrad.py": ("tinygrad",),
}

collect_ignore = [module for module, adapters in _MODULES.items()
                  if not set(adapters) & set(tested())]

"""NumPy, SciPy and scikit-learn: textbook NumPy formulas, ``scipy.special``,
``sklearn.metrics.log_loss`` (adapter.py; framework.py; registries numpy.toml, scipy.toml,
scikit-learn.toml; predicates.py).

Declarations only (``adapters`` gathers them); importing this imports no library.
"""

#: this folder's adapters: name -> "module:Class"
ADAPTERS = {
    "numpy": "adapters.numpy.adapter:NumpyAdapter",
    "scipy": "adapters.numpy.adapter:ScipyAdapter",
    "scikit-learn": "adapters.numpy.adapter:SklearnAdapter",
}
#: tox env -> the adapters of this folder the env checks (they must be available there)
ENVIRONMENTS = {
    "numpy": ("numpy", "scipy", "scikit-learn"),
}

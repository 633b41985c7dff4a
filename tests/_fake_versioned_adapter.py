"""The adapter of tests/_fake_versioned_library.py; its registry, fakelib.toml, lies beside it
and was written against version 1.0."""

from typing import ClassVar

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.numpy.framework import NUMPY


class VersionedAdapter(Adapter):
    library = "fakelib"
    modules: ClassVar[dict[str, str]] = {"np": "numpy", "fakelib": "_fake_versioned_library"}
    version_module = "_fake_versioned_library"
    framework = NUMPY
    bindings = (
        Binding(api="fakelib.bce_with_logits", library="fakelib",
                loss="binary_cross_entropy_with_logits",
                expression="fakelib.bce_with_logits(input, target, reduction={reduction})",
                reductions={"none": "'none'", "sum": "'sum'", "mean": "'mean'"},
                dtypes=("float64",), ranks=(1, 2), gradients=()),
    )

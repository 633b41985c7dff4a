"""Test parameters generated from the adapters' declarations (no library is imported)."""

from adapters import ADAPTERS, load_adapter
from adapters.core import DTYPES

BINDINGS = [(name, b) for name in ADAPTERS for b in load_adapter(name).bindings]
IDS = [f"{name}:{b.api}" for name, b in BINDINGS]
BINDING_DTYPES = [(name, b, dtype) for name, b in BINDINGS for dtype in DTYPES]
BINDING_DTYPE_IDS = [f"{name}:{b.api}:{dtype}" for name, b, dtype in BINDING_DTYPES]


def describe(case) -> str:
    """A short, stable name for a drawn case: loss, shapes and options."""
    shapes = ",".join(f"{k}{list(getattr(v, 'shape', ()))}" for k, v in sorted(case.inputs.items()))
    options = ",".join(f"{k}={v}" for k, v in sorted(case.options.items()))
    return f"draw:{case.loss}:{shapes}:{options}"

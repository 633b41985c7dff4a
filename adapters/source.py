"""Reproducer source: arrays written as Python literals, for the snippets every observation
carries (``Adapter.reproducer``) and the frameworks' ``tensor_source``."""

from __future__ import annotations

import math

import numpy as np


def literal(array: np.ndarray) -> str:
    """A nested Python list literal of ``array``; non-finite floats as float('...')."""
    def item(v):
        if isinstance(v, list):
            return "[" + ", ".join(item(x) for x in v) + "]"
        if isinstance(v, float) and not math.isfinite(v):
            return f"float('{v}')"
        return repr(v)
    return item(np.asarray(array).tolist())


def array_source(array: np.ndarray, constructor: str, empty: str, dtype: str) -> str:
    """Source building ``array``: ``constructor(<literal>, dtype=dtype)``, or
    ``empty(<shape>, dtype=dtype)`` when it has no element (a literal cannot carry the shape of
    an empty array)."""
    if np.size(array) == 0:
        return f"{empty}({np.shape(array)}, dtype={dtype})"
    return f"{constructor}({literal(array)}, dtype={dtype})"

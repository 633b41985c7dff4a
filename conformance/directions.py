"""The direction of a ``jvp`` (its tangent) and of an ``hvp`` (its vector) on a case.

One fixed pseudo-random direction per (check, operand shape, dtype): elements uniform in
[-1, 1], rounded to the dtype, so every library, every run and every process differentiates
along the same numbers, and a finding's reproducer states them. The direction is in the
differentiated operand's shape; a case whose operand has no elements gets an empty one.
"""

from __future__ import annotations

import dataclasses
import zlib

import numpy as np

from adapters.binding import Case
from reference.specs import dtype_spec


def along(case: Case, check: str, wrt: str) -> Case:
    """``case`` with the direction of its ``check`` with respect to ``wrt``."""
    shape = np.shape(case.inputs[wrt])
    if case.direction is not None and np.shape(case.direction) == shape:
        return case
    # a stable seed (Python's hash() of a string changes from process to process)
    seed = zlib.crc32(f"{check}|{wrt}|{shape}|{case.dtype}".encode())
    values = np.random.default_rng(seed).uniform(-1.0, 1.0, size=shape)
    return dataclasses.replace(case, direction=dtype_spec(case.dtype).round(values))

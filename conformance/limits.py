"""The limits a run puts on each library call: how long it may take, how much memory its worker
may hold.

``XENT_TIMEOUT`` (``--xent-timeout``): seconds a call may take before it counts as a hang (the
outcome ``timeout``). Unset, a call gets 60 s and a compiled binding's 300 s
(``adapters.guard``); set, every call gets that.

``XENT_MEMORY_LIMIT`` (``--xent-memory-limit``): the resident memory a worker process may hold
while it computes, as ``4G``, ``512M``, ``2GiB`` or a number of MiB; ``none`` for no limit.
Unset, 40% of the machine's memory, at most 8 GiB. A worker over it is stopped and replaced,
and the call is a ``crash`` (out of memory).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from adapters.guard import default_memory_limit

TIMEOUT_VARIABLE = "XENT_TIMEOUT"
MEMORY_VARIABLE = "XENT_MEMORY_LIMIT"
_UNITS = {"": 2**20, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
_MEMORY = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([KMGT]?)(?:i?B)?\s*", re.IGNORECASE)


class LimitError(ValueError):
    """A limit that cannot be read: names the variable, the value and the expected form."""


@dataclass(frozen=True)
class Limits:
    #: seconds per call, or None: each binding's default
    timeout: float | None = None
    #: bytes of resident memory per worker, or None: no limit
    memory: int | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Limits:
        timeout = environ.get(TIMEOUT_VARIABLE, "").strip()
        memory = environ.get(MEMORY_VARIABLE, "").strip()
        return cls(parse_timeout(timeout) if timeout else None,
                   parse_memory(memory) if memory else default_memory_limit())


def parse_timeout(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise LimitError(f"{TIMEOUT_VARIABLE}={text!r}: expected a number of seconds above 0, "
                         "such as 60 or 2.5")
    return seconds


def parse_memory(text: str) -> int | None:
    if text.lower() == "none":
        return None
    match = _MEMORY.fullmatch(text)
    size = float(match.group(1)) * _UNITS[match.group(2).upper()] if match else 0.0
    if size < 2**20:
        raise LimitError(f"{MEMORY_VARIABLE}={text!r}: expected a size of at least 1 MiB, such "
                         "as 4G, 512M, 2GiB or a number of MiB; or none")
    return int(size)

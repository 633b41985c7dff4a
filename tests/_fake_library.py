"""A stand-in "library" whose losses hang, crash, leak, raise, need what the machine lacks, or
work: exercises adapters.guard and the line between the library's behaviour and the harness's."""

import ctypes
import subprocess
import time

import numpy as np


def fine(input, target):
    return np.float64(np.sum(input))


def hang(input, target):
    time.sleep(600)


def segfault(input, target):
    ctypes.string_at(0)  # reads address 0: SIGSEGV in the worker


def broken(input, target):
    raise ValueError("Expected input batch_size (2) to match target batch_size (3).")


def rejects(input, target):
    """Refuses its inputs, as a library checking its domain does."""
    raise ValueError("all elements of input should be between 0 and 1")


def leak(input, target):
    """Holds more and more memory (64 MiB every 10 ms) and never answers."""
    held = []
    while True:
        held.append(bytearray(64 * 2**20))
        time.sleep(0.01)


def out_of_memory(input, target):
    raise MemoryError("cannot allocate 8 EiB")


def runs_a_missing_compiler(input, target):
    """Compiles a kernel with a program this machine does not have (as tinygrad runs clang)."""
    subprocess.run(["xent-no-such-compiler", "-c", "-x", "c", "-"], input=b"", check=True)


def imports_a_missing_module(input, target):
    import xent_no_such_module  # noqa: F401 - the import is the point

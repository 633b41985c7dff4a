"""A stand-in "library" whose losses hang, crash or work: exercises adapters.guard."""

import ctypes
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

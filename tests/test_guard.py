"""adapters.guard: a library that hangs, crashes or raises costs one observation, not the run."""

import time

import numpy as np
import pytest

from adapters.core import Case
from adapters.guard import IsolatedAdapter

CASE = Case("binary_cross_entropy",
            {"input": np.array([0.25, 0.5]), "target": np.array([0.0, 1.0])}, {"reduction": "sum"})


@pytest.fixture(scope="module")
def guarded():
    with IsolatedAdapter("_fake_adapter:FakeAdapter", timeout=5) as adapter:
        yield adapter


def test_a_working_call_returns_its_value(guarded):
    observation = guarded.evaluate("_fake_library.fine", CASE)
    assert observation.error is None
    assert observation.value == 0.75  # 0.25 + 0.5


def test_an_exception_is_an_observation(guarded):
    observation = guarded.evaluate("_fake_library.broken", CASE)
    assert observation.error == ("ValueError",
                                 "Expected input batch_size (2) to match target batch_size (3).")


def test_a_hang_times_out_and_the_next_call_proceeds(guarded):
    start = time.monotonic()
    observation = guarded.evaluate("_fake_library.hang", CASE)
    assert observation.error == ("Timeout", "no answer within 5 s")
    assert time.monotonic() - start < 60
    assert "_fake_library.hang(input, target)" in observation.reproducer
    np.testing.assert_array_equal(observation.fed["input"], [0.25, 0.5])
    assert guarded.evaluate("_fake_library.fine", CASE).value == 0.75


def test_a_segfault_is_recorded_as_a_crash(guarded):
    observation = guarded.evaluate("_fake_library.segfault", CASE)
    assert observation.error == ("Crash", "the worker process died (signal SIGSEGV)")
    assert "_fake_library.segfault(input, target)" in observation.reproducer
    assert guarded.evaluate("_fake_library.fine", CASE).value == 0.75

"""adapters.guard: a library that hangs, crashes or raises costs one observation, not the run."""

import dataclasses
import time

import numpy as np
from _suites import guarded_fixture

from adapters.binding import Binding, Case
from adapters.guard import COMPILE_TIMEOUT, timeout_for

CASE = Case("binary_cross_entropy",
            {"input": np.array([0.25, 0.5]), "target": np.array([0.0, 1.0])}, {"reduction": "sum"})


guarded = guarded_fixture("_fake_adapter:FakeAdapter", timeout=5)


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


def test_a_call_can_be_given_its_own_timeout(guarded):
    """A compiled binding's first call compiles: it is given ``COMPILE_TIMEOUT``, not the
    adapter's; other calls keep the adapter's."""
    observation = guarded.evaluate("_fake_library.hang", CASE, timeout=1)
    assert observation.error == ("Timeout", "no answer within 1 s")
    eager = Binding(api="f", library="lib", loss="cross_entropy", expression="f(input)")
    assert timeout_for(eager) is None
    assert timeout_for(dataclasses.replace(eager, mode="jit")) == COMPILE_TIMEOUT

"""A verdict is about the library only when the library produced it.

Each mistake an adapter or a machine can make (an expression that does not parse, a name the
library does not have or that is nowhere, a program the library runs that is missing, an import
that fails, a library that is not installed, a worker that cannot load the adapter) is observed
as the harness's, with its cause: judged ``harness-error``, never a match (not even on an
invalid-input case, where any exception used to count as the right answer), never explained
by the registry, and it fails the test with the cause. A library that refuses invalid inputs
itself still matches. A leaking or memory-starved worker is a ``crash`` (out of memory) and is
replaced; a hang under a short timeout is a ``timeout``.
"""

import sys
import types

import numpy as np
import pytest
from _fake_adapter import FakeAdapter, MistakenAdapter
from _registry_text import deviation
from _suites import fake_suite, guarded_fixture

from adapters import harness
from adapters.binding import Case
from adapters.guard import IsolatedAdapter
from conformance import recorder
from conformance.judge import judge
from conformance.limits import LimitError, Limits, parse_memory, parse_timeout
from conformance.suite import HarnessError

CASE = Case("binary_cross_entropy",
            {"input": np.array([0.25, 0.5]), "target": np.array([0.0, 1.0])}, {"reduction": "sum"})
#: a probability above 1: the oracle rejects it, so a library that raises on it is right
INVALID = CASE.with_inputs(input=np.array([1.5, 0.5]))
BINDINGS = {b.api: b for b in MistakenAdapter.bindings}


guarded = guarded_fixture("_fake_adapter:MistakenAdapter", timeout=20)


def test_a_library_that_refuses_invalid_input_itself_matches(guarded):
    observation = guarded.evaluate("_fake_library.rejects", INVALID)
    assert observation.harness is None
    assert observation.error == ("ValueError", "all elements of input should be between 0 and 1")
    assert judge(BINDINGS["_fake_library.rejects"], INVALID, observation).outcome == "match"
    refused_valid = guarded.evaluate("_fake_library.rejects", CASE)
    assert judge(BINDINGS["_fake_library.rejects"], CASE, refused_valid).outcome == "raises"


@pytest.mark.parametrize(("api", "cause"), [
    ("mistaken.syntax", "the binding's expression is not valid Python ('(' was never closed): "
                        "_fake_library.fine(input, target"),
    ("mistaken.no_such_function", "the binding's expression names "
                                  "_fake_library.no_such_function, which does not exist"),
    ("mistaken.undefined_name", "the binding's expression names 'fake_library', which is not "
                                "defined (not an operand, and not among the adapter's modules)"),
    ("_fake_library.runs_a_missing_compiler", "a program the library runs is missing on this "
                                              "machine: xent-no-such-compiler"),
    ("_fake_library.imports_a_missing_module", "an import failed inside the call: "
                                               "ModuleNotFoundError: No module named "
                                               "'xent_no_such_module'"),
])
def test_a_mistake_of_the_harness_is_never_a_match_nor_a_finding(guarded, api, cause):
    for case in (CASE, INVALID):
        observation = guarded.evaluate(api, case)
        assert observation.harness == cause
        verdict = judge(BINDINGS[api], case, observation)
        assert verdict.outcome == "harness-error"
        assert verdict.observed["cause"] == cause


def test_a_library_that_is_not_installed_is_the_harness(tmp_path):
    with IsolatedAdapter("_fake_adapter:UnimportableAdapter", timeout=20) as unimportable:
        observation = unimportable.evaluate("_fake_library.fine", CASE)
    assert observation.harness == ("the library could not be imported: ModuleNotFoundError: No "
                                   "module named 'xent_no_such_library'")


def test_a_worker_that_cannot_load_the_adapter_is_the_harness_not_a_crash():
    # a module this process has but a fresh worker cannot import (as with a sys.path that
    # differs between the two): the worker fails before any call
    module = types.ModuleType("xent_only_in_this_process")
    module.Adapter = type("Adapter", (FakeAdapter,), {})
    sys.modules[module.__name__] = module
    try:
        with IsolatedAdapter("xent_only_in_this_process:Adapter", timeout=20) as worker:
            observation = worker.evaluate("_fake_library.fine", CASE)
    finally:
        del sys.modules[module.__name__]
    assert observation.harness.startswith("the worker process could not load the adapter "
                                          "xent_only_in_this_process:Adapter: ")
    assert "No module named 'xent_only_in_this_process'" in observation.harness
    assert judge(BINDINGS["_fake_library.fine"], CASE, observation).outcome == "harness-error"


def test_a_crash_inside_the_library_is_still_the_library(guarded):
    observation = guarded.evaluate("_fake_library.segfault", CASE)
    assert observation.harness is None
    assert observation.error == ("Crash", "the worker process died (signal SIGSEGV)")


def test_a_leaking_call_is_stopped_at_the_memory_limit_and_the_worker_replaced():
    limit = 256 * 2**20
    with IsolatedAdapter("_fake_adapter:FakeAdapter", timeout=60,
                         memory_limit=limit) as limited:
        observation = limited.evaluate("_fake_library.leak", CASE)
        assert observation.harness is None
        kind, message = observation.error
        assert kind == "Crash"
        assert message.startswith("out of memory: the worker process held ")
        assert message.endswith("over the limit of 256 MiB (XENT_MEMORY_LIMIT); it was stopped "
                                "and replaced")
        assert judge(BINDINGS["_fake_library.leak"], CASE, observation).outcome == "crash"
        assert "_fake_library.leak(input, target)" in observation.reproducer
        assert limited.evaluate("_fake_library.fine", CASE).value == 0.75


def test_a_call_out_of_memory_replaces_the_worker(guarded):
    observation = guarded.evaluate("_fake_library.out_of_memory", CASE)
    assert observation.error == ("Crash", "out of memory: the call raised MemoryError (cannot "
                                          "allocate 8 EiB); the worker was replaced")
    assert guarded._process is None  # stopped: the next call starts a fresh worker
    assert guarded.evaluate("_fake_library.fine", CASE).value == 0.75


def test_a_harness_error_is_recorded_apart_and_fails_with_its_cause(tmp_path, guarded):
    # an entry that would explain any exception of the library explains none of these
    suite = fake_suite(tmp_path, guarded, deviation(
        id="fake-raises-anything", apis=["*"], kind="bug", reason="any exception",
        actual='{ raises = "Exception" }'), MistakenAdapter())
    binding = BINDINGS["_fake_library.runs_a_missing_compiler"]
    verdict = suite.check("fake", binding, INVALID, "probability-above-1", "edge_cases")
    assert verdict.outcome == "harness-error"
    with pytest.raises(HarnessError) as raised:
        suite.assert_explained()
    assert str(raised.value) == (
        "the harness failed on 1 case(s), which have no verdict (not the library's behaviour); "
        "the first: _fake_library.runs_a_missing_compiler [edge_cases, case "
        "probability-above-1, float64, value]: a program the library runs is missing on this "
        "machine: xent-no-such-compiler [_fake_library.runs_a_missing_compiler(input, target)]")
    suite.recorder.close()
    document = recorder.merge("fake-env", suite.registries, tmp_path)
    (finding,) = document["findings"]
    assert (finding["outcome"], finding["deviation"]) == ("harness-error", None)
    assert finding["observed"]["cause"] == ("a program the library runs is missing on this "
                                            "machine: xent-no-such-compiler")
    (row,) = document["summary"]
    assert (row["cases"], row["findings"], row["harness_errors"]) == (0, 0, 1)


def test_the_call_timeout_is_the_runs_setting(tmp_path, guarded):
    suite = fake_suite(tmp_path, guarded, limits=Limits(timeout=1.0))
    verdict = suite.check("fake", BINDINGS["_fake_library.hang"], CASE, "a-case", "edge_cases")
    assert verdict.outcome == "timeout"
    assert verdict.observed == {"error": "Timeout", "message": "no answer within 1 s"}
    suite.unexplained.clear()


@pytest.mark.parametrize(("text", "size"), [
    ("4G", 4 * 2**30), ("512M", 512 * 2**20), ("2GiB", 2 * 2**30), ("1.5g", 3 * 2**29),
    ("300", 300 * 2**20), ("none", None), ("NONE", None)])
def test_memory_limits_read_as_sizes(text, size):
    assert parse_memory(text) == size


@pytest.mark.parametrize("text", ["lots", "4 apples", "0", "-1G", "512K"])
def test_a_bad_memory_limit_says_what_is_expected(text):
    with pytest.raises(LimitError, match=rf"^XENT_MEMORY_LIMIT='{text}': expected a size"):
        parse_memory(text)


@pytest.mark.parametrize("text", ["soon", "0", "-5", "inf", "nan"])
def test_a_bad_timeout_says_what_is_expected(text):
    with pytest.raises(LimitError, match=rf"^XENT_TIMEOUT='{text}': expected a number of "
                                         "seconds above 0"):
        parse_timeout(text)


def test_limits_default_to_the_bindings_timeouts_and_a_share_of_the_memory():
    limits = Limits.from_environment({})
    assert limits.timeout is None
    assert limits.memory is None or 2**20 <= limits.memory <= 8 * 2**30
    assert Limits.from_environment({"XENT_TIMEOUT": "2.5", "XENT_MEMORY_LIMIT": "1G"}) == \
        Limits(2.5, 2**30)


def _raised(source: str, api: str = "lib.api", **namespace) -> BaseException:
    """What evaluating ``source`` as binding ``api``'s expression raises."""
    with pytest.raises(Exception) as raised:  # noqa: PT011 - any: the type is under test
        eval(compile(source, harness.expression_file(api), "eval"), namespace)
    return raised.value


def test_only_the_expressions_own_frame_makes_a_missing_name_the_harnesss():
    def library_code():
        return undefined_in_the_library  # noqa: F821 - the library's own bug

    assert harness.cause_of(_raised("f()", f=library_code), "lib.api") is None
    # numpy raises it from its module's __getattr__, beyond the expression's frame
    missing = _raised("np.no_such", np=np)
    assert harness.cause_of(missing, "lib.api") == ("the binding's expression names "
                                                    "numpy.no_such, which does not exist")
    assert harness.cause_of(missing, "other.api") is None

"""What a run checks before its first case (``conformance.preflight``), through whole runs of
``python -m conformance`` on a user's adapter with one mistake each.

A mistake in the adapter's declarations or its registry stops the run before any case runs:
exit status 4 (pytest's usage error), one line naming the file, the entry and the problem, no
test run, no results file. A registry written for another version, or none at all, is said in
the run's header and its results. A library the run requires that does not import fails the
run once, and the results file says why. The run records the hypothesis profile in force.
"""

from __future__ import annotations

import textwrap

import pytest
from _registry_text import deviation
from _runs import USER_ADAPTER, run_suite, user_module

#: the binding of the user's adapter, as USER_ADAPTER writes it
_DECLARED = ('reductions={"none": ""}, dtypes=("float64",)',
             'expression="np.logaddexp(0, input) - target * input"')
REGISTRY_HEADER = '[registry]\nlibrary = "mine"\nversion = "{version}"\n'
ENTRY = deviation(
    id="mine-infinite-logits-nan", apis=["mine.bce"], kind="bug",
    reason="logaddexp(0, inf) - inf is inf - inf",
    link="https://numpy.org/doc/stable/reference/generated/numpy.logaddexp.html",
    match='{ outcome = "nonfinite" }', actual="{ nan_or_oracle = {} }")


def _run(tmp_path, adapter: str = USER_ADAPTER, registry: str | None = None,
         version: str = "", *args: str, **variables: str):
    user_module(tmp_path, "user_xent", adapter)
    if registry is not None:
        header = REGISTRY_HEADER.format(version=version or _numpy_version())
        (tmp_path / "mine.toml").write_text(header + textwrap.dedent(registry))
    return run_suite("user_xent:Adapter", tmp_path / "results", *args, extra_path=tmp_path,
                     **variables)


def _numpy_version() -> str:
    import numpy  # the user adapter reports numpy's version: its modules' first

    return numpy.__version__


def _stopped_before_any_case(code: int, output: str, document) -> str:
    """The problem lines of a run that stopped before its first case."""
    assert code == 4, output[-3000:]
    assert "ERROR: xent-conformance: the run cannot start:" in output
    assert " passed" not in output
    assert " failed" not in output
    assert document is None
    return output


@pytest.mark.parametrize(("change", "problem"), [
    ((_DECLARED[0], 'reductions={"avg": ""}, dtypes=("float64",)'),
     "binding 'mine.bce': reductions: 'avg' is not a reduction of the oracle"),
    ((_DECLARED[0], 'reductions={"none": ""}, dtypes=("float32", "f64")'),
     "binding 'mine.bce': dtypes: 'f64' is not a dtype (float16, bfloat16, float32, float64); "
     "did you mean 'float64'?"),
    ((_DECLARED[0], 'reductions={"none": ""}, options={"pos_wieght": "pos_weight=pos_weight"}, '
                    'dtypes=("float64",)'),
     "binding 'mine.bce': options: 'pos_wieght' is not a keyword of the oracle's "
     "binary_cross_entropy_with_logits (did you mean 'pos_weight'?)"),
    ((_DECLARED[1], 'expression="np.logaddexp(0, input) - target * input)"'),
     "binding 'mine.bce': expression: unmatched ')'"),
    ((_DECLARED[1], 'expression="np.logaddexp0(0, input) - target * input"'),
     "binding 'mine.bce': the expression names np.logaddexp0, which does not exist"),
])
def test_a_misdeclared_binding_stops_the_run_before_any_case(tmp_path, change, problem):
    output = _stopped_before_any_case(*_run(tmp_path, USER_ADAPTER.replace(*change, 1)))
    assert f"user_xent.py: {problem}" in output


@pytest.mark.parametrize(("registry", "problem"), [
    (ENTRY.replace('kind = "bug"', 'kind = "feature"'),
     "mine.toml entry 1 (mine-infinite-logits-nan): kind 'feature' is not one of"),
    (ENTRY.replace("[[deviation]]", "[[deviation]"), "mine.toml: not valid TOML"),
    (ENTRY.replace('outcome = "nonfinite"', 'outcome = "non-finite"'),
     "match.outcome 'non-finite' is none of deviates, nonfinite, raises, accepts_invalid, "
     "status, unsupported, crash, timeout; did you mean 'nonfinite'?"),
    (ENTRY.replace("nan_or_oracle = {}", "oracle = { log_clmp = -100.0 }"),
     "oracle.log_clmp is no keyword of the oracle; did you mean 'log_clamp'?"),
])
def test_a_broken_registry_stops_the_run_before_any_case(tmp_path, registry, problem):
    output = _stopped_before_any_case(*_run(tmp_path, registry=registry))
    assert problem in output


def test_a_registry_of_another_version_is_said_in_the_header_and_the_results(tmp_path):
    code, output, document = _run(tmp_path, USER_ADAPTER, ENTRY, "0.9", "-k", "test_reductions")
    assert code == 0, output[-3000:]
    warning = (f"mine.toml was written for mine 0.9; {_numpy_version()} is installed: its "
               "entries state what 0.9 did")
    assert f"warning: {warning}" in output
    assert document["warnings"] == [warning]


def test_a_missing_registry_is_said(tmp_path):
    _, output, document = _run(tmp_path, USER_ADAPTER, None, "", "-k", "test_reductions")
    (warning,) = document["warnings"]
    assert warning == (f"mine has no registry file ({tmp_path / 'mine'}.toml): every difference "
                       "from the oracle fails the run")
    assert f"warning: {warning}" in output


def test_an_unavailable_library_fails_the_run_once_with_its_reason(tmp_path):
    absent = USER_ADAPTER.replace('modules = {"np": "numpy"}',
                                  'modules = {"np": "numpy", "lib": "no_such_library_xent"}')
    code, output, document = _run(tmp_path, absent)
    reason = "unavailable: ModuleNotFoundError: No module named 'no_such_library_xent'"
    assert code == 4, output[-3000:]
    assert output.count(f"mine is required in env mine but {reason}") == 1
    assert document["unavailable"] == {"mine": reason}
    assert document["summary"] == []
    assert document["findings"] == []


@pytest.mark.parametrize(("variables", "problem"), [
    ({"XENT_TIMEOUT": "soon"}, "XENT_TIMEOUT='soon': expected a number of seconds above 0"),
    ({"XENT_MEMORY_LIMIT": "lots"}, "XENT_MEMORY_LIMIT='lots': expected a size of at least 1 "
                                    "MiB"),
])
def test_a_bad_limit_stops_the_run(tmp_path, variables, problem):
    code, output, document = _run(tmp_path, **variables)
    assert code == 4, output[-3000:]
    assert f"ERROR: {problem}" in output
    assert document is None


@pytest.mark.parametrize("profile", ["ci", "dev"])
def test_the_profile_in_force_is_recorded(tmp_path, profile):
    _, output, document = _run(tmp_path, USER_ADAPTER, ENTRY, "",
                               f"--hypothesis-profile={profile}", "-k", "test_reductions")
    assert document["environment"]["hypothesis_profile"] == profile, output[-3000:]


def test_a_failure_is_short(tmp_path):
    """An unexplained difference prints the call, the values, the reproducer and the drawn
    case: not hypothesis's advice to decorate the test (an installed suite cannot), nor every
    field of the suite and the binding, nor the suite's own code."""
    user_module(tmp_path, "unregistered_xent", """
        from adapters.example.adapter import TinylossAdapter

        class Adapter(TinylossAdapter):
            registry_directory = "no-registry-here"
        """)
    code, output, _ = run_suite("unregistered_xent:Adapter", tmp_path / "results", "-x", "-k",
                                "test_values and softmax and float32", extra_path=tmp_path)
    assert code == 1, output[-3000:]
    assert "UnexplainedDifference: 1 unregistered difference(s); the first: " \
           "tinyloss.softmax_cross_entropy [values, case draw:cross_entropy:" in output
    assert "reproducer:\nE   import numpy as np" in output
    assert "suite=Suite(env='tinyloss')" in output
    assert "binding=Binding('tinyloss.softmax_cross_entropy')" in output
    for noise in ("reproduce_failure", "documented_signatures", "def assert_explained"):
        assert noise not in output

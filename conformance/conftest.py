"""pytest plumbing of the conformance suite: adapter selection, profiles, the checks before the
first case, the session's Suite, the results file.

Run it per backend env (``tox -e torch`` runs ``pytest conformance -n auto``), or on your own
adapter in any environment (``XENT_ADAPTER=mypkg.xent:Adapter python -m conformance``, or
``--xent-adapter mypkg.xent:Adapter``; ``conformance.selection`` says what each chooses). The
run's name names the results file ``reports/results/<env>.json`` (``XENT_RESULTS_DIR`` moves
the folder), which the controller process writes at the end from the journals of every worker,
whatever happened to them.

Before the first case the controller checks what the run is given (``conformance.preflight``):
a mistake in an adapter's declarations or a registry file stops the run at once with one line
per problem; a library the env requires that cannot be imported fails the run once, with its
reason, in the terminal and in the results file.
"""

from __future__ import annotations

import os
import platform
import sys

import pytest
from hypothesis import HealthCheck, Phase, settings

from adapters import AdapterSpecError
from conformance import draws, limits, results, selection
from conformance.preflight import PreflightError, preflight
from conformance.recorder import Recorder, merge
from conformance.suite import Suite

SEED = 20261122

# print_blob off: the failure names the case and carries a runnable reproducer, and an
# installed suite cannot use hypothesis's @reproduce_failure advice
_COMMON = dict(deadline=None, database=None, print_blob=False,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
# ci: derandomised, so every run and every xdist layout draws the same cases; no shrinking,
# since the failure message already carries the case and its reproducer.
settings.register_profile("ci", derandomize=True, max_examples=6,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
draws.without_local_constants()

#: command-line options that set an environment variable, so every process of the run (the
#: xdist workers too) reads the same setting
_OPTIONS = {"xent_adapter": selection.VARIABLE, "xent_timeout": limits.TIMEOUT_VARIABLE,
            "xent_memory_limit": limits.MEMORY_VARIABLE}


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_addoption(parser):
    group = parser.getgroup("xent", "xent-conformance")
    group.addoption("--xent-adapter", metavar="MODULE:CLASS", default=None,
                    help="run the suite on exactly this adapter (as $XENT_ADAPTER does), e.g. "
                         "mypkg.xent:Adapter")
    group.addoption("--xent-timeout", metavar="SECONDS", default=None,
                    help="seconds a library call may take before it counts as a hang (as "
                         "$XENT_TIMEOUT does; default 60, 300 for a compiled binding)")
    group.addoption("--xent-memory-limit", metavar="SIZE", default=None,
                    help="resident memory a worker may hold while it computes, e.g. 4G or "
                         "512M, or none (as $XENT_MEMORY_LIMIT does; default 40%% of the "
                         "machine's memory, at most 8G)")


@pytest.hookimpl(trylast=True)  # after hypothesis has loaded --hypothesis-profile
def pytest_configure(config):
    for option, variable in _OPTIONS.items():
        value = config.getoption(option)
        if value:
            os.environ[variable] = value
    try:
        chosen = selection.current()
        limits.Limits.from_environment()
    except (AdapterSpecError, limits.LimitError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if not _is_controller(config):
        return
    results.remove_journals(chosen.env)
    try:
        checked = preflight(chosen)
    except PreflightError as exc:
        raise pytest.UsageError(f"xent-conformance: the run cannot start:\n{exc}") from None
    config._xent_preflight = checked
    recorder = Recorder(chosen.env, "controller")
    recorder.environment({
        "started": results.now(), "libraries": _versions(checked),
        "python": sys.version.split()[0], "platform": platform.platform(),
        "device": "cpu", "seed": SEED, "hypothesis_profile": settings.get_current_profile_name(),
    })
    for name, reason in checked.unavailable.items():
        recorder.unavailable(name, reason)
    for warning in checked.warnings:
        recorder.warning(warning)
    recorder.close()
    missing = sorted(set(checked.unavailable) & chosen.required)
    if missing:
        # the env cannot do its job: one failure, with the reason, and a results file that
        # says so (the report shows the env as unavailable, not as findings)
        merge(chosen.env, {})
        raise pytest.UsageError("; ".join(
            f"{name} is required in env {chosen.env} but {checked.unavailable[name]}"
            for name in missing))


def _versions(checked) -> dict:
    import numpy

    return {**checked.versions, "numpy": checked.versions.get("numpy", numpy.__version__)}


def pytest_report_header(config):
    checked = getattr(config, "_xent_preflight", None)
    if checked is None:
        return None
    chosen = selection.current()
    lines = [f"xent-conformance: env {chosen.env}, hypothesis profile "
             f"{settings.get_current_profile_name()!r}, "
             + ", ".join(f"{k} {v}" for k, v in sorted(checked.versions.items()))]
    lines += [f"  {name}: {reason} (not checked)" for name, reason in
              sorted(checked.unavailable.items())]
    lines += [f"  warning: {warning}" for warning in checked.warnings]
    return lines


@pytest.hookimpl(hookwrapper=True, trylast=True)
def pytest_runtest_call(item):
    """Draws the same cases however the suite is started (``conformance.draws``): runs after
    hypothesis set the digest it seeds a parametrised test with from the node id, and puts
    the id as a checkout names it in its place."""
    inner = getattr(getattr(getattr(item, "obj", None), "hypothesis", None), "inner_test", None)
    if inner is not None and hasattr(inner, "_hypothesis_internal_add_digest"):
        inner._hypothesis_internal_add_digest = draws.canonical_id(item.path,
                                                                   item.nodeid).encode()
    yield


@pytest.fixture(scope="session")
def suite():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    session = Suite(Recorder(selection.current().env, worker))
    yield session
    session.close()


def pytest_sessionfinish(session, exitstatus):
    checked = getattr(session.config, "_xent_preflight", None)
    if not _is_controller(session.config) or checked is None:
        return
    document = merge(selection.current().env, checked.registries)
    session.config._xent_results = document


def pytest_terminal_summary(terminalreporter, config):
    document = getattr(config, "_xent_results", None)
    if document is None:
        return
    write = terminalreporter.write_line
    findings = document["findings"]
    differences = [f for f in findings if f["outcome"] not in ("match", "harness-error")]
    registered = sum(1 for f in differences if f["deviation"])
    harness = [f for f in findings if f["outcome"] == "harness-error"]
    cases = sum(row["cases"] for row in document["summary"])
    terminalreporter.write_sep("-", "conformance results: "
                                    f"{results.RESULTS_DIR / document['env']}.json")
    write(f"{cases} cases judged, {cases - len(differences)} match, {len(differences)} differ "
          f"({registered} registered, {len(differences) - registered} unregistered)")
    if harness:
        causes = sorted({f["observed"]["cause"] for f in harness})
        write(f"the harness failed on {len(harness)} case(s), which have no verdict: "
              + "; ".join(causes[:3]) + (f" (and {len(causes) - 3} more causes)"
                                         if len(causes) > 3 else ""))
    for ident, failure in document["failed_claims"].items():
        write(f"registry entry {ident}: its claim failed on {failure['failed']} of the "
              f"{failure['selected']} findings its match selected: {failure['why']}")
    if document["stale_deviations"]:
        write("stale registry entries (their match selected nothing): "
              + ", ".join(document["stale_deviations"]))
    for adapter, reason in document["unavailable"].items():
        write(f"{adapter}: {reason}")
    for warning in document["warnings"]:
        write(f"warning: {warning}")


def available(suite, name: str):
    """The adapter pair (the suite collects the bindings of available adapters only)."""
    entry = suite.adapter(name)
    if isinstance(entry, str):  # pragma: no cover - collection left it out
        pytest.fail(f"{name} {entry}")
    return entry

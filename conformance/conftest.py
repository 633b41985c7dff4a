"""pytest plumbing of the conformance suite: adapter selection, profiles, the session's
Suite, the results file.

Run it per backend env (``tox -e torch`` runs ``pytest conformance -n auto``), or on your own
adapter in any environment (``XENT_ADAPTER=mypkg.xent:Adapter python -m conformance``, or
``--xent-adapter mypkg.xent:Adapter``; ``conformance.selection`` says what each chooses). The
run's name names the results file ``reports/results/<env>.json`` (``XENT_RESULTS_DIR`` moves
the folder), which the controller process writes at the end from the journals of every worker,
whatever happened to them.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys

import pytest
from hypothesis import HealthCheck, Phase, settings

from adapters import AdapterSpecError, load_adapter
from conformance import results, selection
from conformance.recorder import Recorder, merge
from conformance.runner import Suite

SEED = 20261122

_COMMON = dict(deadline=None, database=None, print_blob=True,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.filter_too_much])
# ci: derandomised, so every run and every xdist layout draws the same cases; no shrinking,
# since the failure message already carries the case and its reproducer.
settings.register_profile("ci", derandomize=True, max_examples=6,
                          phases=[Phase.explicit, Phase.reuse, Phase.generate], **_COMMON)
settings.register_profile("dev", max_examples=25, **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def _is_controller(config) -> bool:
    return not hasattr(config, "workerinput")


def pytest_addoption(parser):
    parser.addoption("--xent-adapter", metavar="MODULE:CLASS", default=None,
                     help="run the suite on exactly this adapter (as $XENT_ADAPTER does), e.g. "
                          "mypkg.xent:Adapter")


def pytest_configure(config):
    path = config.getoption("xent_adapter")
    if path:
        # exported, so that every process of the run (xdist workers) makes the same choice
        os.environ[selection.VARIABLE] = path
    try:
        chosen = selection.current()
    except AdapterSpecError as exc:
        raise pytest.UsageError(str(exc)) from None
    if _is_controller(config):
        shutil.rmtree(results.RESULTS_DIR / f".journal-{chosen.env}", ignore_errors=True)
        recorder = Recorder(chosen.env, "controller")
        recorder.environment({
            "started": results.now(), "libraries": _library_versions(),
            "python": sys.version.split()[0], "platform": platform.platform(),
            "device": "cpu", "seed": SEED,
            "hypothesis_profile": settings._current_profile or "ci",
        })
        recorder.close()


def _library_versions() -> dict:
    versions = {}
    chosen = selection.current()
    for name in sorted(chosen.checked):
        adapter = load_adapter(chosen.paths[name])
        if adapter.unavailable() is None:
            versions[adapter.library] = adapter.version()
    import numpy
    versions.setdefault("numpy", numpy.__version__)
    return versions


@pytest.fixture(scope="session")
def suite():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    session = Suite(Recorder(selection.current().env, worker))
    yield session
    session.close()


def pytest_sessionfinish(session, exitstatus):
    if not _is_controller(session.config):
        return
    chosen = selection.current()
    registries = {}
    for name in sorted(chosen.checked):
        adapter = load_adapter(chosen.paths[name])
        if adapter.unavailable() is None:
            registries[adapter.library] = chosen.registry(adapter.library)
    document = merge(chosen.env, registries)
    session.config._xent_results = document


def pytest_terminal_summary(terminalreporter, config):
    document = getattr(config, "_xent_results", None)
    if document is None:
        return
    findings = document["findings"]
    differences = [f for f in findings if f["outcome"] != "match"]
    registered = sum(1 for f in differences if f["deviation"])
    cases = sum(row["cases"] for row in document["summary"])
    env = document["env"]
    terminalreporter.write_sep("-", f"conformance results: {results.RESULTS_DIR / env}.json")
    terminalreporter.write_line(
        f"{cases} cases judged, {cases - len(differences)} match, {len(differences)} differ "
        f"({registered} registered, {len(differences) - registered} unregistered)")
    if document["stale_deviations"]:
        terminalreporter.write_line(
            "stale registry entries (matched nothing): " + ", ".join(document["stale_deviations"]))
    for adapter, reason in document["unavailable"].items():
        terminalreporter.write_line(f"{adapter}: {reason}")


def available(suite, name: str):
    """The adapter pair, or skip (fail where the run requires it) with its reason."""
    chosen = selection.current()
    if name not in chosen.checked:
        pytest.skip(f"{name} is not a backend of env {chosen.env}")
    entry = suite.adapter(name)
    if isinstance(entry, str):
        if name in chosen.required:
            pytest.fail(f"{name} is required in env {chosen.env} but {entry}")
        pytest.skip(f"{name} {entry}")
    return entry

"""A Suite over the fake library (tests/_fake_adapter.py), with a registry written for the test,
and the fake adapter in a worker process: what the runner's, the harness's and the guard's
tests judge, record and call with."""

from __future__ import annotations

import textwrap

import pytest
from _fake_adapter import FakeAdapter

from adapters.guard import IsolatedAdapter
from conformance.deviations import DeviationRegistry
from conformance.limits import Limits
from conformance.recorder import Recorder
from conformance.suite import Suite

REGISTRY_HEADER = '[registry]\nlibrary = "fake"\nversion = "1.0"\n'


def fake_suite(tmp_path, guarded, registry_text: str = "", adapter: FakeAdapter | None = None,
               limits: Limits | None = None) -> Suite:
    """A Suite of env "fake-env" recording under ``tmp_path``, calling ``guarded``, with the
    registry entries ``registry_text`` (TOML) for library "fake"."""
    (tmp_path / "fake.toml").write_text(REGISTRY_HEADER + textwrap.dedent(registry_text))
    suite = Suite(Recorder("fake-env", "main", tmp_path), limits=limits or Limits())
    suite.adapters["fake"] = (adapter or FakeAdapter(), guarded)
    suite.registries["fake"] = DeviationRegistry.load("fake", "fake-env", tmp_path)
    return suite


def guarded_fixture(adapter: str, timeout: float):
    """A module-scoped fixture named ``guarded``: the adapter ``adapter`` ("module:Class") in a
    worker process (``IsolatedAdapter``) with the call timeout ``timeout``. A test module
    assigns it: ``guarded = guarded_fixture("_fake_adapter:FakeAdapter", timeout=5)``."""

    @pytest.fixture(scope="module", name="guarded")
    def fixture():
        with IsolatedAdapter(adapter, timeout=timeout) as isolated:
            yield isolated

    return fixture

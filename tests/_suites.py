"""A Suite over the fake library (tests/_fake_adapter.py), with a registry written for the test:
what the runner's tests and the harness's tests judge and record with."""

from __future__ import annotations

import textwrap

from _fake_adapter import FakeAdapter

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

"""The suite's one operation: run a case on a binding, judge it, explain it, record it.

``Suite.check`` calls the library in its guarded worker process, judges the observation
against the oracle, looks a difference up in the backend's deviation registry, journals the
outcome, and keeps every unexplained difference; ``Suite.assert_explained`` fails the test
with the first of them (the call, inputs, expected, observed, error, and the reproducer).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from adapters import load_adapter
from adapters.core import Binding, Case
from adapters.guard import IsolatedAdapter, timeout_for
from conformance import fitting, selection
from conformance.budget import past_draw_budget
from conformance.compare import Verdict, judge
from conformance.deviations import DeviationRegistry
from conformance.recorder import Recorder
from conformance.selection import Selection


class UnexplainedDifference(AssertionError):
    """A library differs from the oracle and no registry entry explains it."""


@dataclass
class Unexplained:
    api: str
    case_name: str
    category: str
    check: str
    wrt: str | None
    dtype: str
    verdict: Verdict
    call: str
    reproducer: str

    def sentence(self) -> str:
        error = self.verdict.error or {}
        ratio = error.get("bound_ratio")
        measured = (f"; error {error.get('ulp', float('nan')):.3g} ulp, "
                    f"{ratio:.3g}x the allowed bound" if ratio is not None else "")
        what = "value" if self.check == "value" else f"gradient wrt {self.wrt}"
        return (f"{self.api} [{self.category}, case {self.case_name}, {self.dtype}, {what}]: "
                f"{self.verdict.outcome}: observed {_short(self.verdict.observed)}, expected "
                f"{_short(self.verdict.expected)}{measured} [{self.call}]")


def _short(value) -> str:
    if isinstance(value, (str, dict)):
        return str(value)[:300]
    return np.array2string(np.asarray(value), precision=17, threshold=12)[:300]


@dataclass
class Suite:
    recorder: Recorder
    adapters: dict = field(default_factory=dict)  # name -> (declarations, guarded adapter)
    registries: dict = field(default_factory=dict)  # library -> DeviationRegistry
    unexplained: list = field(default_factory=list)
    #: which adapters, by which "module:Class" paths, and their registries' folders
    chosen: Selection = field(default_factory=selection.current)

    def adapter(self, name: str):
        """(declaring adapter, guarded adapter), or the reason the library is unavailable."""
        if name not in self.adapters:
            path = self.chosen.paths[name]
            declaring = load_adapter(path)
            reason = declaring.unavailable()
            if reason:
                self.recorder.unavailable(name, reason)
                self.adapters[name] = reason
            else:
                guarded = IsolatedAdapter(path)
                self.adapters[name] = (declaring, guarded)
        return self.adapters[name]

    def registry(self, library: str) -> DeviationRegistry:
        if library not in self.registries:
            self.registries[library] = DeviationRegistry.load(
                library, self.recorder.env, self.chosen.registry_directory(library))
        return self.registries[library]

    def check(self, adapter_name: str, binding: Binding, case: Case, case_name: str,
              category: str, check: str = "value", wrt: str = "input",
              magnitude: float | None = None) -> Verdict | None:
        """Run, judge, explain and record one case; None when the API cannot express it."""
        _, guarded = self.adapter(adapter_name)
        if category in ("stability", "edge_cases"):
            case = fitting.fit(binding, case, check, wrt)
        if binding.supports(case, check, wrt) is not None:
            self.recorder.unsupported(binding.api, category, case.dtype)
            return None
        if self.over_budget((category, binding.api, case.dtype), case_name, category,
                            [(binding, case)]):
            return None
        observation = guarded.evaluate(binding.api, case, check, wrt, timeout_for(binding))
        verdict = judge(binding, case, observation, check)
        deviation = None
        if verdict.outcome != "match":
            deviation = self.registry(binding.library).explain(
                binding, case, case_name, category, check, observation, verdict)
            if deviation is None:
                self.unexplained.append(Unexplained(
                    binding.api, case_name, category, check, observation.wrt, case.dtype,
                    verdict, binding.call_source(case), observation.reproducer))
        self.recorder.record(binding=binding, observation=observation, case=case,
                             case_name=case_name, category=category, check=check,
                             verdict=verdict, deviation=deviation, magnitude=magnitude)
        return verdict

    def over_budget(self, scope: tuple, case_name: str, category: str, calls) -> bool:
        """True, and each (binding, case) of ``calls`` counted as not run, when the drawn case
        is past a compiled binding's budget in the ci profile (``conformance.budget``)."""
        if not past_draw_budget(scope, case_name, *(binding for binding, _ in calls)):
            return False
        for binding, case in calls:
            self.recorder.over_budget(binding.api, category, case.dtype)
        return True

    def assert_explained(self) -> None:
        """Fail with the first unexplained difference since the last call (all are recorded)."""
        found, self.unexplained = self.unexplained, []
        if not found:
            return
        first = found[0]
        error = UnexplainedDifference(
            f"{len(found)} unregistered difference(s); the first: {first.sentence()}")
        error.add_note("reproducer:\n" + first.reproducer)
        for other in found[1:6]:
            error.add_note("also: " + other.sentence())
        raise error

    def close(self) -> None:
        for entry in self.adapters.values():
            if isinstance(entry, tuple):
                entry[1].close()
        self.recorder.close()

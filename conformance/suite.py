"""The suite's one operation: run a case on a binding, judge it, explain it, record it.

``Suite.check`` calls the library in its guarded worker process, judges the observation
against the oracle, looks a difference up in the backend's deviation registry, journals the
outcome, and keeps every unexplained difference; ``Suite.assert_explained`` fails the test
with the first of them (the call, inputs, expected, observed, error, and the reproducer).

A case the harness failed on (``harness-error``: the adapter's expression, an import, a program
the library runs, the worker) is recorded apart and fails the test with its cause: it is never
looked up in the registry, and never a verdict about the library.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from adapters import load_adapter
from adapters.binding import DERIVATIVE_CHECKS, DIRECTIONAL_CHECKS, Binding, Case, Observation
from adapters.guard import DEFAULT_TIMEOUT, IsolatedAdapter, timeout_for
from conformance import directions, restate, selection
from conformance.budget import past_draw_budget
from conformance.deviations import DeviationRegistry, Explanation
from conformance.judge import Verdict, judge
from conformance.limits import Limits
from conformance.recorder import Recorder, finding_id
from conformance.selection import Selection


class UnexplainedDifference(AssertionError):
    """A library differs from the oracle and no registry entry explains it."""


class HarnessError(AssertionError):
    """The harness, not the library, failed on a case: the run has no verdict there."""


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
    #: registry entries whose match selected the case but whose claim failed: {"id", "why"}
    failed_claims: list = field(default_factory=list)

    def where(self) -> str:
        what = "value" if self.check == "value" else f"{self.check} wrt {self.wrt}"
        return f"{self.api} [{self.category}, case {self.case_name}, {self.dtype}, {what}]"

    def sentence(self) -> str:
        if self.verdict.outcome == "harness-error":
            return f"{self.where()}: {self.verdict.observed['cause']} [{self.call}]"
        error = self.verdict.error or {}
        ratio = error.get("bound_ratio")
        measured = (f"; error {error.get('ulp', float('nan')):.3g} ulp, "
                    f"{ratio:.3g}x the allowed bound" if ratio is not None else "")
        claims = "".join(f"; registry entry {c['id']} selected it, but its claim failed: "
                         f"{c['why']}" for c in self.failed_claims)
        return (f"{self.where()}: {self.verdict.outcome}: observed "
                f"{_short(self.verdict.observed)}, expected {_short(self.verdict.expected)}"
                f"{measured}{claims} [{self.call}]")


def _short(value) -> str:
    if isinstance(value, (str, dict)):
        return str(value)[:300]
    return np.array2string(np.asarray(value), precision=17, threshold=12)[:300]


class Judged(NamedTuple):
    """One checked case: as the API was called on it, what it did, and the verdict."""

    case: Case
    observation: Observation
    verdict: Verdict


@dataclass(repr=False)
class Suite:
    recorder: Recorder
    adapters: dict = field(default_factory=dict)  # name -> (declarations, guarded adapter)
    registries: dict = field(default_factory=dict)  # library -> DeviationRegistry
    unexplained: list = field(default_factory=list)
    #: cases the harness failed on since the last ``assert_explained`` (``Unexplained`` records)
    harness_errors: list = field(default_factory=list)
    #: which adapters, by which "module:Class" paths, and their registries' folders
    chosen: Selection = field(default_factory=selection.current)
    #: the call timeout and the worker memory limit of the run
    limits: Limits = field(default_factory=Limits.from_environment)

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
                guarded = IsolatedAdapter(path, self.limits.timeout or DEFAULT_TIMEOUT,
                                          self.limits.memory)
                self.adapters[name] = (declaring, guarded)
        return self.adapters[name]

    def timeout(self, binding: Binding) -> float | None:
        """A call's timeout: the one the user set, else what the binding needs (a compiled
        binding's first call compiles), else the worker's."""
        return self.limits.timeout or timeout_for(binding)

    def registry(self, library: str) -> DeviationRegistry:
        if library not in self.registries:
            self.registries[library] = DeviationRegistry.load(
                library, self.recorder.env, self.chosen.registry_directory(library))
        return self.registries[library]

    def check(self, adapter_name: str, binding: Binding, case: Case, case_name: str,
              category: str, check: str = "value", wrt: str = "input",
              magnitude: float | None = None) -> Verdict | None:
        """Run, judge, explain and record one case; None when the API cannot express it."""
        judged = self.judged(adapter_name, binding, case, case_name, category, check, wrt,
                             magnitude)
        return None if judged is None else judged.verdict

    def judged(self, adapter_name: str, binding: Binding, case: Case, case_name: str,
               category: str, check: str = "value", wrt: str = "input",
               magnitude: float | None = None) -> Judged | None:
        """``check``'s work, returning the case as the API was called on it (restated, with
        its direction), the observation and the verdict."""
        declaring, guarded = self.adapter(adapter_name)
        if category in ("stability", "edge_cases", "derivatives"):
            case = restate.fit(binding, case, check, wrt)
        if check in DIRECTIONAL_CHECKS:
            case = directions.along(case, check, wrt)
        if (binding.supports(case, check, wrt)
                or declaring.derivative_unsupported(binding, check)) is not None:
            self.recorder.unsupported(binding.api, category, case.dtype, finding_id(
                binding.api, category, check, wrt if check in DERIVATIVE_CHECKS else None,
                case.dtype, case_name, case))
            return None
        if self.over_budget((category, binding.api, case.dtype), case_name, category,
                            [(binding, case)]):
            return None
        observation = guarded.evaluate(binding.api, case, check, wrt, self.timeout(binding))
        verdict = judge(binding, case, observation, check)
        explanation = self.explain(binding, case, case_name, category, check, observation,
                                   verdict)
        self.recorder.record(binding=binding, observation=observation, case=case,
                             case_name=case_name, category=category, check=check,
                             verdict=verdict, deviation=explanation.entry,
                             magnitude=magnitude, failed_claims=explanation.failed_claims)
        return Judged(case, observation, verdict)

    def explain(self, binding: Binding, case: Case, case_name: str, category: str,
                check: str, observation, verdict: Verdict,
                examine: Callable[[], Explanation] | None = None) -> Explanation:
        """What the registry says of a verdict; a difference it leaves unexplained, and a
        harness error, are kept for ``assert_explained``. ``examine`` asks the registries
        where the binding's own entries for this case are not the whole answer (a pair of
        paths, ``conformance.equivalence``: either side's entries may explain it)."""
        if verdict.outcome == "match":
            return Explanation(None, [])
        explanation = Explanation(None, [])
        if verdict.outcome != "harness-error":
            explanation = examine() if examine is not None else self.registry(
                binding.library).examine(binding, case, case_name, category, check,
                                         observation, verdict)
        if explanation.entry is None:
            self.keep(Unexplained(binding.api, case_name, category, check, observation.wrt,
                                  case.dtype, verdict, binding.call_source(case),
                                  observation.reproducer,
                                  explanation.failed_claims))
        return explanation

    def keep(self, record: Unexplained) -> None:
        """Keep a case with no verdict or no explanation for ``assert_explained``."""
        (self.harness_errors if record.verdict.outcome == "harness-error"
         else self.unexplained).append(record)

    def over_budget(self, scope: tuple, case_name: str, category: str, calls) -> bool:
        """True, and each (binding, case) of ``calls`` counted as not run, when the drawn case
        is past a compiled binding's budget in the ci profile (``conformance.budget``)."""
        if not past_draw_budget(scope, case_name, *(binding for binding, _ in calls)):
            return False
        for binding, case in calls:
            self.recorder.over_budget(binding.api, category, case.dtype,
                                      finding_id(binding.api, category, "", None, case.dtype,
                                                 case_name, case))
        return True

    def __repr__(self) -> str:
        return f"Suite(env={self.recorder.env!r})"

    def _repr_pretty_(self, printer, cycle) -> None:
        """What a failure's "Falsifying example" prints of it (hypothesis would list fields)."""
        printer.text(repr(self))

    def assert_explained(self) -> None:
        """Fail with the first harness error, else the first unexplained difference, since the
        last call (all are recorded)."""
        __tracebackhide__ = True  # the failure says it all; this function's code does not
        failed, self.harness_errors = self.harness_errors, []
        found, self.unexplained = self.unexplained, []
        if failed:
            error = HarnessError(
                f"the harness failed on {len(failed)} case(s), which have no verdict (not the "
                f"library's behaviour); the first: {failed[0].sentence()}")
            detail = failed[0].verdict.observed.get("message", "")
            if detail:
                error.add_note(detail[-3000:])
            raise error
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

"""Status equivalence: two derivative paths of one library on one case, one raising while the
other returns a value.

A library's forward-mode derivative (``jvp``) and its Hessian-vector product (``hvp``) differentiate
the same loss its reverse gradient does: on a case where one of them returns numbers, the others
should too, and where one refuses the inputs, so should the others. A path that raises while its
pair returns (or returns while its pair raises) is a finding of its own kind, outcome "status",
recorded in the equivalence category under the derivative path's API with both paths' results,
so the report lists it with the other inconsistent paths; a pair with the same status is
counted, not kept. How far the numbers are from the oracle is each path's own check (the
``gradients`` and ``derivatives`` categories), so a finding shows each path's exception or the
loss value it returned.
"""

from __future__ import annotations

import dataclasses

from adapters.binding import Binding, Case, Observation
from conformance.judge import Verdict
from conformance.recorder import finding_id
from conformance.suite import Suite

#: the reverse gradient, as the status finding names the pair's other path
REVERSE = "reverse gradient"


def _result(observation: Observation):
    """What a path did, as the finding shows it: the exception it raised, or the loss value it
    returned with its derivative (the derivative itself, which can have 32 000 elements a row,
    is the ``derivatives`` and ``gradients`` categories' to judge)."""
    if observation.error is None:
        return observation.value
    return {"error": observation.error[0], "message": observation.error[1]}


def compare(suite: Suite, binding: Binding, case: Case, case_name: str, path: Observation,
            reverse: Observation) -> None:
    """Judge and record whether ``path`` (a jvp or hvp observation on ``case``) and the
    library's ``reverse`` gradient on the same case agree on raising."""
    if path.harness is not None or reverse.harness is not None:
        return  # no verdict about the library on either side: each check says why
    check = path.derivative
    same = (path.error is None) == (reverse.error is None)
    verdict = Verdict("match" if same else "status", _result(reverse), _result(path))
    name = f"same-status-as {REVERSE}: {case_name}"
    statements = [
        {"api": f"{binding.api} [{check}]", "options": dict(case.options),
         "observed": _result(path), "oracle": None},
        {"api": f"{binding.api} [{REVERSE}]", "options": dict(case.options),
         "observed": _result(reverse), "oracle": None}]
    if same:  # counted, not kept: the same status says nothing a reader needs to see
        suite.recorder.count(binding.api, "equivalence", case.dtype, verdict, finding_id(
            binding.api, "equivalence", check, path.wrt, case.dtype, name, case))
        return
    seen = dataclasses.replace(path, reproducer=_both(path, reverse))
    explanation = suite.explain(binding, case, name, "equivalence", check, seen, verdict)
    suite.recorder.record(binding=binding, observation=seen, case=case, case_name=name,
                          category="equivalence", check=check, verdict=verdict,
                          deviation=explanation.entry, paths=statements,
                          failed_claims=explanation.failed_claims)


def _both(path: Observation, reverse: Observation) -> str:
    """One script running both paths, each result kept apart and both printed."""
    parts = []
    for label, seen in (("this", path), ("reverse", reverse)):
        parts.append(f"# --- {label}\n" + (seen.reproducer or "result = None\n").replace(
            "print(result)", f"result_{label} = result"))
    parts.append("print(result_this)\nprint(result_reverse)\n")
    return "\n".join(parts)

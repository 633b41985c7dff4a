"""Equivalence: two paths of one library that should agree, judged against each other.

``pairs`` finds them among the bindings of a run: two paths of one library that differ in one
step (functional vs module, eager vs compiled, sparse vs categorical with one-hot targets, and a
logits binding against a probabilities binding fed softmax(z) or sigmoid(z), the loss's
``probability_twin``), and the class-index path of an API that also takes probability rows
against its one-hot path.

``restated`` gives a case as each side can express it: as ``conformance.restate`` restates it
(the reduction, the rank, indices vs one-hot rows) and, for a probability twin, with softmax(z)
or sigmoid(z) of its logits computed in float64. ``compare`` evaluates both sides, judges each
against the other within the sum of both error bounds, and explains and records the verdict
under each API as ``Suite.check`` does one path's (``Suite.explain``, the recorder), with both
observations, what the oracle says for each side, and a reproducer running both calls.

Two paths that disagree while each follows its own documentation (torch's class-weighted mean
divides by the summed weights of the class indices, but by N for probability rows) are the
finding a maintainer most needs: the report lists them as inconsistent paths.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import numpy as np

from adapters.binding import Binding, Case, Observation, one_hot
from conformance import restate
from conformance.deviations import Explanation
from conformance.judge import Verdict, agree, expected, judge, own_bound
from conformance.suite import Suite
from reference.specs import dtype_spec, loss_spec, softmax


def _logits_first(b1: Binding, b2: Binding) -> tuple[bool, Binding, Binding] | None:
    """The pair in the order cases flow (the logits side first, whose case the twin gets as
    probabilities), or None when the two bindings compute unrelated losses."""
    if b1.loss == b2.loss:
        return False, b1, b2
    if loss_spec(b1.loss).probability_twin == b2.loss:
        return False, b1, b2
    if loss_spec(b2.loss).probability_twin == b1.loss:
        return True, b2, b1
    return None


def _aspects(binding: Binding) -> tuple:
    """What tells two paths of one library apart: the form of the call (a loss object, or a
    function), the loss (on logits, or its probability twin), the target kinds taken and the
    execution mode (eager, or a compiler's)."""
    return binding.calls_an_object, binding.loss, tuple(sorted(binding.targets)), binding.mode


def pairs(bindings: Iterable[tuple[str, Binding]]
          ) -> Iterator[tuple[str, tuple[str, Binding, str, Binding]]]:
    """(id, (adapter name, first binding, adapter name, second binding)) for every pair of
    ``bindings`` (adapter name, binding) to compare, the logits side first.

    Two paths of one library that differ in at most one aspect (``_aspects``): each
    difference is then pinned to one step (functional vs module, logits vs probabilities,
    indices vs one-hot rows, eager vs compiled), and a path that differs in two is
    connected to the other through the pairs between. Across libraries, agreement is what
    the oracle already judges."""
    bindings = list(bindings)
    for (n1, b1), (n2, b2) in itertools.combinations(bindings, 2):
        ordered = _logits_first(b1, b2)
        if ordered is None or b1.fixed_options != b2.fixed_options:
            continue  # different definitions (Keras's last-axis mean): not comparable
        if b1.library != b2.library:
            continue
        if sum(a != b for a, b in zip(_aspects(b1), _aspects(b2), strict=True)) > 1:
            continue
        if (b1.compiled or b2.compiled) and b1.mode == b2.mode:
            continue  # a compiled path meets its eager twin, whose other pairs stand for it
        swapped, first, second = ordered
        names = (n2, n1) if swapped else (n1, n2)
        yield f"{first.api} == {second.api}", (names[0], first, names[1], second)
    for name, binding in bindings:
        # one API taking class indices and probability rows: its two paths (eager)
        if not binding.compiled and {"indices", "probabilities"} <= set(binding.targets) \
                and {"indices", "probabilities"} <= set(loss_spec(binding.loss).targets):
            yield (f"{binding.api} [indices] == {binding.api} [one-hot]",
                   (name, binding, name, binding))


def _as_twin(case: Case, loss: str) -> Case:
    """``case`` (on logits) for the loss ``loss`` computes: the same case, or the softmax or
    sigmoid of its logits (rounded to the case's dtype first) as probabilities for the
    probability twin, with the classes (of the probabilities and of probability targets)
    moved to the twin's class axis."""
    if case.loss == loss:
        return case
    # the logits as the dtype holds them (as a user has them): float16 logits of 1e6 are inf
    z = dtype_spec(case.dtype).round(np.asarray(case.inputs["input"], dtype=np.float64))
    if loss_spec(case.loss).family == "binary":
        with np.errstate(over="ignore"):
            p = 1.0 / (1.0 + np.exp(-z))
        return dataclasses.replace(case, loss=loss, inputs={**case.inputs, "input": p})
    source, twin = case.class_axis, loss_spec(loss).class_axis(z.ndim)
    arrays = {"input": np.moveaxis(softmax(z, source), source, twin)}
    if case.target_kind == "probabilities":
        arrays["target"] = np.moveaxis(np.asarray(case.inputs["target"]), source, twin)
    return dataclasses.replace(case, loss=loss, inputs={**case.inputs, **arrays})


def _one_hot_twin(case: Case) -> Case | None:
    """``case`` with its class indices as one-hot probability rows on the class axis; None
    where rows cannot say the same (no valid indices, or some ignored)."""
    target = np.asarray(case.inputs["target"])
    if not case.is_index("target") or "ignore_index" in case.options:
        return None
    x = np.asarray(case.inputs["input"])
    classes = x.shape[case.class_axis] if x.ndim else 0
    if not np.all((target >= 0) & (target < classes)):
        return None
    rows = np.moveaxis(one_hot(target, classes), -1, case.class_axis)
    return case.with_inputs(target=rows)


def restated(first: Binding, second: Binding, case: Case) -> tuple[Case, Case] | None:
    """The case as each side can express it, or None where one side cannot (the same
    binding on both sides: its class-index path against its one-hot path)."""
    case1 = restate.fit(first, case)
    if first is second:
        case2 = _one_hot_twin(case1)
        if case2 is None or first.supports(case1) is not None \
                or second.supports(case2) is not None:
            return None
        return case1, case2
    case2 = restate.fit(second, _as_twin(case1, second.loss))
    if case2.options.get("reduction") != case1.options.get("reduction"):
        case1 = restate.fit(first, dataclasses.replace(
            case1, options={**case1.options, "reduction": case2.options["reduction"]}))
    if case2.options.get("reduction") != case1.options.get("reduction"):
        return None  # no reduction both offer
    if first.supports(case1) is not None or second.supports(case2) is not None:
        return None
    return case1, case2


def drawing(first: Binding, second: Binding) -> Binding:
    """What a case both sides can take is drawn from: the first side's declaration with only
    the options, reductions and ranks the second offers too."""
    if first is second:  # class indices, which the one-hot side gets as rows
        return dataclasses.replace(first, targets=("indices",))
    shared = {k: v for k, v in first.options.items() if second.offers(k)}
    operands = {k: v for k, v in first.operand_options.items() if second.offers(k)}
    return dataclasses.replace(
        first, options=shared, operand_options=operands,
        reductions={r: v for r, v in first.reductions.items() if r in second.reductions}
        or first.reductions,
        ranks=tuple(r for r in first.ranks if r in second.ranks) or first.ranks,
        required=tuple(r for r in first.required if r in shared or r in operands))


class _Path(NamedTuple):
    binding: Binding
    case: Case
    seen: Observation
    label: str  # the API, and its target kind where the API takes both


def _label(binding: Binding, case: Case) -> str:
    if {"indices", "probabilities"} <= set(binding.targets) and loss_spec(
            binding.loss).family == "categorical":
        return f"{binding.api} [{'indices' if case.is_index('target') else 'probabilities'}]"
    return binding.api


def compare(suite: Suite, guarded, bindings, cases, case_name: str, source: str) -> None:
    """Evaluate both sides (``guarded``: each side's guarded adapter), judge each against the
    other, explain and record both (``source``: the category the case comes from)."""
    if suite.over_budget(("equivalence", *(b.api for b in bindings)), case_name, "equivalence",
                         list(zip(bindings, cases, strict=True))):
        return
    paths = tuple(_Path(b, c, g.evaluate(b.api, c, timeout=suite.timeout(b)), _label(b, c))
                  for g, b, c in zip(guarded, bindings, cases, strict=True))
    bounds = [own_bound(_with_fixed(p), p.seen) if p.seen.error is None else None
              for p in paths]
    verdicts = [_against(paths[1], paths[0], bounds[::-1]), _against(paths[0], paths[1], bounds)]
    # agreement is one fact about the pair: each side is measured in its own ulps and its own
    # bound, which can overflow to inf (and call anything a match) on one side only
    differing = [v for v in verdicts if v.outcome != "match"]
    if differing:
        verdicts = [v if v.outcome != "match" else dataclasses.replace(
            v, outcome=differing[0].outcome) for v in verdicts]
    statements = [_statement(p) for p in paths]
    for i in (0, 1):
        this, other = paths[i], paths[1 - i]
        _explain_and_record(suite, this, other, verdicts[i], verdicts[1 - i], case_name,
                            source, statements if i == 0 else statements[::-1])


def _with_fixed(path: _Path) -> Case:
    """The path's case with the options its binding always applies (what its oracle is)."""
    return dataclasses.replace(path.case, options={**path.case.options,
                                                   **path.binding.fixed_options})


def _against(other: _Path, this: _Path, bounds: list) -> Verdict:
    """``this`` path judged against ``other``, each bound from its own case (``bounds``:
    other's, then this one's; None where a side raised)."""
    return agree(_with_fixed(other), other.seen, _with_fixed(this), this.seen,
                 bounds=None if any(b is None for b in bounds) else tuple(bounds))


def _statement(path: _Path) -> dict:
    """One side as the finding shows it: its API, options, what it returned or raised, and
    what the oracle says for its case."""
    seen = path.seen
    observed = (seen.value if seen.error is None
                else {"error": seen.error[0], "message": seen.error[1]})
    oracle, _ = expected(path.binding, path.case, seen.fed or dict(path.case.inputs), "value",
                         None)
    return {"api": path.label, "options": dict(_with_fixed(path).options),
            "observed": observed, "oracle": oracle}


def _explain(suite: Suite, this: _Path, other: _Path, verdict: Verdict, reverse: Verdict,
             case_name: str, source: str) -> Explanation:
    """The entry that explains ``this`` path's difference from ``other``: in this library's
    registry (``_registered``), or else in the other's, for the other path judged against this
    one (``reverse``): when textbook NumPy adds 1e-9 inside its logs, SciPy disagrees with it
    because of that registered convention, not a fault of its own."""
    explanation = _registered(suite, this, verdict, case_name, source)
    if explanation.entry is None and reverse.outcome != "match":
        explanation = explanation.then(_registered(suite, other, reverse, case_name, source))
    return explanation


def _registered(suite: Suite, path: _Path, verdict: Verdict, case_name: str,
                source: str) -> Explanation:
    """The registry entry of ``path``'s library that explains its side of a difference: one
    written for the pair (category equivalence, judged on the pair's verdict), or the entry
    that explains this path's own difference from the oracle on this case in the category the
    case comes from (a registered departure from the oracle makes it disagree with any path
    that follows the oracle). Case globs name the source case ("logit-magnitude-*"). The
    entries whose match selected the difference but whose claim failed come with it."""
    registry = suite.registry(path.binding.library)
    pair = registry.examine(path.binding, path.case, case_name, "equivalence", "value",
                            path.seen, verdict)
    if pair.entry is not None:
        return pair
    own = judge(path.binding, path.case, path.seen)
    if own.outcome == "match":
        return pair  # this side is the oracle's: the other side must explain the difference
    return pair.then(registry.examine(path.binding, path.case, case_name, source, "value",
                                      path.seen, own))


def _explain_and_record(suite: Suite, this: _Path, other: _Path, verdict: Verdict,
                        reverse: Verdict, case_name: str, source: str,
                        statements: list[dict]) -> None:
    """Record ``this`` path's verdict against ``other`` under ``this`` API, explained
    (``_explain``) or kept unexplained as ``Suite.explain`` keeps one path's. Where only the
    other path raised there is nothing to judge this one against; the other direction records
    the raise against the API that raised it."""
    if other.seen.error is not None and this.seen.error is None:
        return
    name = f"agrees-with {other.label}: {case_name}"
    seen = dataclasses.replace(this.seen, reproducer=_both(this, other))
    explanation = suite.explain(
        this.binding, this.case, name, "equivalence", "value", seen, verdict,
        examine=lambda: _explain(suite, this, other, verdict, reverse, case_name, source))
    suite.recorder.record(binding=this.binding, observation=seen, case=this.case,
                          case_name=name, category="equivalence", check="value",
                          verdict=verdict, deviation=explanation.entry,
                          paths=statements if verdict.outcome != "match" else None,
                          failed_claims=explanation.failed_claims)


def _both(this: _Path, other: _Path) -> str:
    """One script running both calls: each path's reproducer, its result kept as
    ``result_this`` or ``result_other``, both printed at the end."""
    parts = []
    for label, path in (("this", this), ("other", other)):
        parts.append(f"# --- {label}: {path.label}\n" + path.seen.reproducer.replace(
            "print(result)", f"result_{label} = result"))
    parts.append("print(result_this)\nprint(result_other)\n")
    return "\n".join(parts)

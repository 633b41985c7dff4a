"""equivalence: paths that should agree do agree, within the sum of their bounds.

Pairs come from the declarations of the adapters available in the env: two bindings of the
same loss (functional vs module, tf.nn vs keras, sparse vs categorical with one-hot targets),
and a logits binding against a probabilities binding fed softmax(z) or sigmoid(z). Both paths
are evaluated in a form both offer (the most telling reduction both have; rank 1 if one takes
only that), and the verdict is recorded for each of the two APIs, judged against the other.
"""

import dataclasses
import itertools
from typing import NamedTuple

import numpy as np
import pytest

from adapters.core import Binding, Case, Observation, one_hot
from conformance._params import BINDINGS
from conformance.compare import agree
from conformance.conftest import available
from reference.specs import EXAMPLE_INDICES, loss_spec


def _case(loss: str, kind: str | None) -> Case:
    """The loss's regular example, unreduced; a categorical loss's target as class indices or
    as their one-hot rows (``kind``; None: one-hot where the loss takes probabilities), so
    that every pair of paths meets the same distribution."""
    spec = loss_spec(loss)
    inputs = spec.example()
    if spec.family == "categorical":
        kind = kind or ("probabilities" if "probabilities" in spec.targets else "indices")
        classes = inputs["input"].shape[spec.class_axis(inputs["input"].ndim)]
        inputs["target"] = (EXAMPLE_INDICES if kind == "indices"
                            else one_hot(EXAMPLE_INDICES, classes))
    return Case(loss, inputs, {"reduction": "none"})


def _pairs():
    """Two bindings of one loss, or of a loss on logits and its probability twin."""
    for (n1, b1), (n2, b2) in itertools.combinations(BINDINGS, 2):
        twins = {loss_spec(b1.loss).probability_twin, loss_spec(b2.loss).probability_twin}
        if b1.loss == b2.loss or b1.loss in twins or b2.loss in twins:
            yield pytest.param(n1, b1, n2, b2, id=f"{b1.api} == {b2.api}")


def _target_kinds(first: Binding, second: Binding) -> list[str | None]:
    """Both target kinds where a side computes softmax cross-entropy from logits (indices vs
    one-hot is a path of its own there); else the loss's own example."""
    on_logits = [loss_spec(b.loss) for b in (first, second)
                 if loss_spec(b.loss).family == "categorical"
                 and loss_spec(b.loss).input_kind == "logits"]
    return list(on_logits[0].targets) if on_logits else [None]


@pytest.mark.parametrize(("name1", "first", "name2", "second"), list(_pairs()))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equivalence(suite, name1, first, name2, second, dtype):
    _, guarded1 = available(suite, name1)
    _, guarded2 = available(suite, name2)
    kinds = _target_kinds(first, second)
    for kind1, kind2 in itertools.product(kinds, kinds):
        case1 = dataclasses.replace(_case(first.loss, kind1), dtype=dtype)
        case2 = dataclasses.replace(_case(second.loss, kind2), dtype=dtype)
        case1, case2 = _common_form(first, case1, second, case2)
        if first.supports(case1) or second.supports(case2):
            continue
        if first.fixed_options != second.fixed_options:
            continue  # different definitions (e.g. Keras's last-axis mean): not comparable
        paths = (_Path(first, case1, guarded1.evaluate(first.api, case1), kind1),
                 _Path(second, case2, guarded2.evaluate(second.api, case2), kind2))
        verdicts = (_against(paths[1], paths[0]), _against(paths[0], paths[1]))
        for this, other, verdict, reverse in ((*paths, *verdicts), (*paths[::-1], *verdicts[::-1])):
            _explain_and_record(suite, this, other, verdict, reverse)
    suite.assert_explained()


def _common_form(first, case1, second, case2):
    """Both cases in one reduction and rank that both APIs offer (else unchanged)."""
    for reduction in ("none", "sum", "mean"):
        if reduction in first.reductions and reduction in second.reductions:
            case1, case2 = (dataclasses.replace(c, options={**c.options, "reduction": reduction})
                            for c in (case1, case2))
            break
    binary = all(loss_spec(c.loss).family == "binary" for c in (case1, case2))
    if binary and 1 in first.ranks \
            and 1 in second.ranks and not (2 in first.ranks and 2 in second.ranks):
        case1, case2 = (c.with_inputs(**{k: np.ravel(v) for k, v in c.inputs.items()})
                        for c in (case1, case2))
    return case1, case2


class _Path(NamedTuple):
    binding: Binding
    case: Case
    seen: Observation
    kind: str | None


def _against(other: _Path, this: _Path):
    """``this`` path judged against ``other``, each bound from its own case and the options
    its binding always applies."""
    return agree(
        dataclasses.replace(other.case, options={**other.case.options,
                                                 **other.binding.fixed_options}), other.seen,
        dataclasses.replace(this.case, options={**this.case.options,
                                                **this.binding.fixed_options}), this.seen)


def _explain_and_record(suite, this: _Path, other: _Path, verdict, reverse) -> None:
    """Record ``this`` path's verdict against ``other`` under ``this`` API.

    A difference is explained by this library's registry, or else by the other's, for the
    other path judged against this one: when textbook NumPy adds 1e-9 inside its logs, SciPy
    disagrees with it because of that registered convention, not a fault of its own. Where
    only the other path raised there is nothing to judge this one against; the other
    direction records the raise against the API that raised it.
    """
    if other.seen.error is not None and this.seen.error is None:
        return
    name = f"agrees-with {other.binding.api}" + (
        f" ({other.kind} vs {this.kind})" if this.kind else "")
    deviation = None
    if verdict.outcome != "match":
        deviation = suite.registry(this.binding.library).explain(
            this.binding, this.case, name, "equivalence", "value", this.seen, verdict)
        if deviation is None and reverse.outcome != "match":
            deviation = suite.registry(other.binding.library).explain(
                other.binding, other.case, f"agrees-with {this.binding.api}", "equivalence",
                "value", other.seen, reverse)
        if deviation is None:
            from conformance.runner import Unexplained
            suite.unexplained.append(Unexplained(
                this.binding.api, name, "equivalence", "value", None, this.case.dtype, verdict,
                this.binding.call_source(this.case), this.seen.reproducer))
    suite.recorder.record(binding=this.binding, observation=this.seen, case=this.case,
                          case_name=name, category="equivalence", check="value",
                          verdict=verdict, deviation=deviation)

"""equivalence: paths that should agree do agree, within the sum of their bounds.

Pairs come from the declarations of the adapters available in the env: two bindings of the
same loss (functional vs module, tf.nn vs keras, sparse vs categorical with one-hot targets),
and a logits binding against a probabilities binding fed softmax(z) or sigmoid(z).
"""

import dataclasses
import itertools

import numpy as np
import pytest

from conformance._params import BINDINGS
from conformance.compare import agree
from conformance.conftest import available

_PROBABILITY_TWIN = {"cross_entropy": "categorical_cross_entropy",
                     "binary_cross_entropy_with_logits": "binary_cross_entropy"}
_Z = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])
_Y = np.array([2, 0])


def _case(loss, kind):
    from adapters.core import Case

    if loss in ("cross_entropy", "categorical_cross_entropy"):
        target = _Y if kind == "indices" else np.eye(3)[_Y]
        z = _Z if loss == "cross_entropy" else np.exp(_Z) / np.exp(_Z).sum(1, keepdims=True)
        return Case(loss, {"input": z, "target": target}, {"reduction": "none"})
    t = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
    z = _Z if loss == "binary_cross_entropy_with_logits" else 1 / (1 + np.exp(-_Z))
    return Case(loss, {"input": z, "target": t}, {"reduction": "none"})


def _pairs():
    for (n1, b1), (n2, b2) in itertools.combinations(BINDINGS, 2):
        same = b1.loss == b2.loss
        twins = _PROBABILITY_TWIN.get(b1.loss) == b2.loss
        twins = twins or _PROBABILITY_TWIN.get(b2.loss) == b1.loss
        if same or twins:
            yield pytest.param(n1, b1, n2, b2, id=f"{b1.api} == {b2.api}")


@pytest.mark.parametrize(("name1", "first", "name2", "second"), list(_pairs()))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_equivalence(suite, name1, first, name2, second, dtype):
    _, guarded1 = available(suite, name1)
    _, guarded2 = available(suite, name2)
    kinds = ["indices", "probabilities"] if "cross_entropy" in (first.loss, second.loss) else [None]
    for kind1, kind2 in itertools.product(kinds, kinds):
        case1 = dataclasses.replace(_case(first.loss, kind1), dtype=dtype)
        case2 = dataclasses.replace(_case(second.loss, kind2), dtype=dtype)
        if first.supports(case1) or second.supports(case2):
            continue
        if first.fixed_options != second.fixed_options:
            continue  # different definitions (e.g. Keras's last-axis mean): not comparable
        o1 = guarded1.evaluate(first.api, case1)
        o2 = guarded2.evaluate(second.api, case2)
        # each path's bound comes from its own case, with what its binding always applies
        verdict = agree(
            dataclasses.replace(case1, options={**case1.options, **first.fixed_options}), o1,
            dataclasses.replace(case2, options={**case2.options, **second.fixed_options}), o2)
        deviation = None
        name = f"agrees-with {first.api}" + (f" ({kind1} vs {kind2})" if kind1 else "")
        if verdict.outcome != "match":
            deviation = suite.registry(second.library).explain(
                second, case2, name, "equivalence", "value", o2, verdict)
            if deviation is None:
                from conformance.runner import Unexplained
                suite.unexplained.append(Unexplained(
                    second.api, name, "equivalence", "value", None, dtype, verdict,
                    second.call_source(case2), o2.reproducer))
        suite.recorder.record(binding=second, observation=o2, case=case2, case_name=name,
                              category="equivalence", check="value", verdict=verdict,
                              deviation=deviation)
    suite.assert_explained()

"""What is NumPy's, SciPy's and scikit-learn's own (``adapters/numpy/``): no gradients and no
bfloat16, and the semantics their registries rely on."""

from __future__ import annotations

import _tested
import numpy as np
import pytest
from _examples import ordinary_case

from adapters import FOLDERS, load_adapter
from adapters.binding import Case
from conformance.judge import expected, judge


def _adapter(name: str):
    if name not in _tested.tested():
        pytest.skip(f"{name} is not covered by this run")
    return load_adapter(name)


@pytest.mark.parametrize("name", FOLDERS["numpy"])
def test_no_gradient_and_no_bfloat16(name):
    # NumPy has neither: no binding declares them, and asked for them, each call raises
    adapter = _adapter(name)
    assert all(not b.gradients and "bfloat16" not in b.dtypes for b in adapter.bindings)
    binding = adapter.bindings[0]
    observation = adapter.evaluate(binding, ordinary_case(binding), check="gradient")
    assert observation.error == ("NotImplementedError",
                                 f"{adapter.library} has no automatic differentiation")
    assert "NotImplementedError" in observation.reproducer
    for binding in adapter.bindings:
        error = adapter.evaluate(binding, ordinary_case(binding, dtype="bfloat16")).error
        assert error[0] == "TypeError", error
        assert "bfloat16" in error[1]


def test_textbook_binary_has_no_epsilon():
    # p = 1, y = 1: the exact loss is -log(1) = 0, but (1 - y) * log(1 - p) = 0 * -inf = nan
    adapter = _adapter("numpy")
    binding = adapter.binding("textbook.binary_cross_entropy_loss")
    case = Case("binary_cross_entropy", {"input": np.array([1.0]), "target": np.array([1.0])})
    observation = adapter.evaluate(binding, case)
    assert np.isnan(observation.value)
    assert expected(binding, case, observation.fed, "value", None)[0] == 0.0


def test_scipy_xlogy_is_exact_at_zero_and_one():
    # xlogy(0, 0) = 0 and xlog1py(0, -1) = 0: p in {0, 1} with a matching label costs 0; a
    # certain-wrong prediction costs inf, as in the oracle
    adapter = _adapter("scipy")
    binding = adapter.binding("scipy.special.xlogy[binary]")
    case = Case("binary_cross_entropy",
                {"input": np.array([0.0, 1.0, 0.0]), "target": np.array([0.0, 1.0, 1.0])},
                {"reduction": "none"})
    observation = adapter.evaluate(binding, case)
    np.testing.assert_array_equal(observation.value, [0.0, 0.0, np.inf])
    np.testing.assert_array_equal(observation.value,
                                  expected(binding, case, observation.fed, "value", None)[0])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_loss_clips_at_machine_epsilon(dtype):
    # A zero probability at the true class costs -log(eps) = 52 log 2 = 36.04 in float64
    # (23 log 2 = 15.94 in float32): log_loss clips y_proba to [eps, 1 - eps] of its dtype.
    adapter = _adapter("scikit-learn")
    binding = adapter.binding("sklearn.metrics.log_loss")
    case = Case("categorical_cross_entropy",
                {"input": np.array([[0.0, 1.0], [0.25, 0.75]]), "target": np.array([0, 1])},
                {"reduction": "sum"}, dtype)
    observation = adapter.evaluate(binding, case)
    assert judge(binding, case, observation).expected == np.inf
    eps = float(np.finfo(dtype).eps)
    clipped = judge(binding, case, observation, extra={"clip_epsilon": (eps, 1 - eps)})
    assert clipped.outcome == "match", observation.reproducer


def test_log_loss_neither_renormalises_nor_takes_soft_labels():
    # Rows summing to 0.5: the loss is -mean(log p_y), not -mean(log(p_y / 0.5)).
    adapter = _adapter("scikit-learn")
    binding = adapter.binding("sklearn.metrics.log_loss")
    case = Case("categorical_cross_entropy",
                {"input": np.array([[0.35, 0.1, 0.05], [0.05, 0.4, 0.05]]),
                 "target": np.array([0, 1])})
    assert judge(binding, case, adapter.evaluate(binding, case)).outcome == "match"
    # Why no log_loss binding offers probability targets: a label-indicator y_true gives the
    # class-index loss, but soft labels are refused by its label binarisation.
    sklearn = adapter.namespace()["sklearn"]
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert sklearn.metrics.log_loss(np.eye(2)[[0, 1]], p) == sklearn.metrics.log_loss([0, 1], p)
    with pytest.raises(ValueError, match="label binarization"):
        sklearn.metrics.log_loss(np.array([[0.5, 0.5], [0.0, 1.0]]), p)

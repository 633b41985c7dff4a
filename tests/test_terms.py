"""The terms of the losses in float64 (``reference.terms``): each is the oracle's, as its
docstring states it, and the oracle's value is their sum."""

import numpy as np
import pytest

import reference
from reference import terms
from reference.specs import loss_spec, softmax

Z, INDICES = loss_spec("cross_entropy").example("indices").values()
SOFT = loss_spec("cross_entropy").example("probabilities")["target"]


def test_smoothing():
    # e = 0.3 over 3 classes: a certain target becomes 0.7 + 0.1 = 0.8, the others 0.1
    assert np.allclose(terms.smoothed([0.0, 1.0, 0.0], 0.3, 3), [0.1, 0.8, 0.1], rtol=1e-15)
    # a binary target smooths over 2: y = 1 with e = 0.1 is 0.9 + 0.05 = 0.95
    assert terms.smoothed(1.0, 0.1, 2) == pytest.approx(0.95, rel=1e-15)
    assert terms.smoothing_factors(0.1, 2) == (0.9, 0.05)


def test_target_distribution_of_class_indices():
    # [2, 0] over 3 classes on axis 1, sample 1 ignored: its row holds only the smoothing
    q = terms.target_distribution(INDICES, Z.shape, 1, label_smoothing=0.3, ignore_index=0)
    assert np.allclose(q, [[0.1, 0.1, 0.8], [0.1, 0.1, 0.1]], rtol=1e-15)
    # the classes on axis 0 of a (C, N) input: the rows are columns
    q = terms.target_distribution(INDICES, Z.T.shape, 0)
    assert np.array_equal(q, [[0.0, 1.0], [0.0, 0.0], [1.0, 0.0]])
    assert np.array_equal(terms.target_distribution(SOFT, Z.shape, 1), SOFT)


def test_weighted_target_and_sample_weights_follow_the_class_axis():
    q = terms.target_distribution(INDICES, Z.T.shape, 0)
    a = terms.weighted_target(q, [0.5, 1.0, 2.0], 0)
    assert np.array_equal(a, [[0.0, 0.5], [0.0, 0.0], [2.0, 0.0]])
    sw = terms.sample_weight_per_element(np.array([3.0, 4.0]), 1)
    assert np.array_equal(sw * np.ones((2, 3)), [[3.0] * 3, [4.0] * 3])
    assert terms.sample_weight_per_element(None, 1) == 1.0


def test_cross_entropy_is_the_sum_of_its_terms():
    # l_i = sum_j a_ij (logsumexp(z_i) - z_ij), with smoothing, class and sample weights
    weight, sw = np.array([0.5, 1.0, 2.0]), np.array([0.3, 1.7])
    for target in (INDICES, SOFT):
        kwargs = {"weight": weight, "label_smoothing": 0.2, "sample_weight": sw,
                  "reduction": "none"}
        a = terms.weighted_target(
            terms.target_distribution(target, Z.shape, 1, kwargs["label_smoothing"]),
            weight, 1)
        per_sample = np.sum(a * -np.log(softmax(Z, 1)), axis=1) * sw
        assert np.allclose(reference.cross_entropy(Z, target, **kwargs), per_sample,
                           rtol=1e-14)


def test_clip_bounds():
    assert terms.clip_bounds(None) is None
    assert terms.clip_bounds(1e-7) == (1e-7, 1 - 1e-7)
    assert terms.clip_bounds([1e-7, 0.9999999]) == (1e-7, 0.9999999)
    assert np.array_equal(terms.clipped([0.0, 0.5, 1.0], 0.25), [0.25, 0.5, 0.75])


def test_binary_cross_entropy_is_the_sum_of_its_terms():
    # l = -(y_s log(p' + o) + (1 - y_s) log(1 - p' + o)), clip and offset applied first
    p = np.array([0.0, 0.3, 0.999, 1.0])
    y = np.array([1.0, 0.25, 0.0, 0.5])
    options = {"clip_epsilon": 1e-7, "log_offset": 1e-9, "label_smoothing": 0.1}
    log_a, log_b = terms.binary_logs(p, options["clip_epsilon"], options["log_offset"])
    y_s = terms.smoothed(y, options["label_smoothing"], 2)
    expected = -(y_s * log_a + (1 - y_s) * log_b)
    assert np.allclose(reference.binary_cross_entropy(p, y, reduction="none", **options),
                       expected, rtol=1e-12)


def test_binary_logs_clamp_and_the_logs_of_0_and_of_negatives():
    # p = 0: log 0 = -inf, raised to the clamp -100; p = 1.5: log(-0.5) is NaN
    log_a, log_b = terms.binary_logs(np.array([0.0, 1.5]))
    assert log_a[0] == -np.inf
    assert np.isnan(log_b[1])
    log_a, _ = terms.binary_logs(np.array([0.0, 0.5]), log_clamp=-100.0)
    assert np.array_equal(log_a, [-100.0, np.log(0.5)])

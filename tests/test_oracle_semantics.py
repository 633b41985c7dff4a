"""What the oracle's losses mean: deterministic cases, each value derived by hand beside it.

The accuracy tests measure *how close* the oracle is to the exact value; these pin *which* value
is meant: log(0), limits at infinite logits, 0 * log 0, NaN propagation, empty means, the
divisors of weighted means, label smoothing, library conventions (torch's log clamp, Keras's
clipping and renormalisation), pos_weight, layouts; and the errors raised for invalid input.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import reference
from reference import OracleInputError

INF, NAN = math.inf, math.nan
LOG2, LOG3, LOG4 = math.log(2), math.log(3), math.log(4)


def assert_values(observed, expected, ulps=2):
    """Equal within ``ulps`` relative float64 ulps; NaN matches NaN, infinities match exactly."""
    observed = np.asarray(observed, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert observed.shape == expected.shape, f"shape {observed.shape}, expected {expected.shape}"
    close = np.isclose(observed, expected, rtol=ulps * 2.0**-52, atol=0, equal_nan=True)
    assert np.all(close), f"got {observed.tolist()}, expected {expected.tolist()}"


# --- log(0), limits, 0 * log 0 ----------------------------------------------------------------


def test_log_of_zero_costs_infinity():
    # p = 0 for the true class: -log(0) = +inf, not a clipped constant.
    assert_values(reference.binary_cross_entropy([0.0, 1.0], [1.0, 0.0], reduction="none"),
                  [INF, INF])
    assert_values(reference.categorical_cross_entropy([[0.0, 1.0]], [[1.0, 0.0]],
                                                      reduction="none"), [INF])
    # nll_loss of log-probability -inf at the target: -(-inf) = inf.
    assert_values(reference.nll_loss([[-INF, 0.0]], np.array([0]), reduction="none"), [INF])
    # A -inf logit at the target class has probability 0.
    assert_values(reference.cross_entropy([[-INF, 0.0]], np.array([0]), reduction="none"), [INF])


def test_zero_log_zero_is_zero():
    # p = y = 0 and p = y = 1: the only nonzero term is 0 * log 0 = 0.
    assert_values(reference.binary_cross_entropy([0.0, 1.0], [0.0, 1.0], reduction="none"),
                  [0.0, 0.0])
    # q = [0, 1], p = [0, 1]: -(0 * log 0 + 1 * log 1) = 0.
    assert_values(reference.categorical_cross_entropy([[0.0, 1.0]], [[0.0, 1.0]],
                                                      reduction="none"), [0.0])
    # A -inf logit at a class of target mass 0 costs 0 * inf = 0: softmax([-inf, 0]) = [0, 1].
    assert_values(reference.cross_entropy([[-INF, 0.0]], [[0.0, 1.0]], reduction="none"), [0.0])


def test_logits_take_their_limits_at_infinity():
    # x = +inf, y = 1: softplus(-inf) = 0, and (1 - y) * softplus(inf) = 0 * inf = 0: loss 0.
    # x = -inf, y = 0: symmetric, loss 0. x = +inf, y = 0 and x = -inf, y = 1: +inf.
    x, y = [INF, -INF, INF, -INF], [1.0, 0.0, 0.0, 1.0]
    assert_values(reference.binary_cross_entropy_with_logits(x, y, reduction="none"),
                  [0.0, 0.0, INF, INF])
    # Gradient (1 - y) sigmoid(x) - y sigmoid(-x): 0, 0, 1, -1.
    assert_values(reference.grad("binary_cross_entropy_with_logits", x, y, reduction="none"),
                  [0.0, 0.0, 1.0, -1.0])
    # One +inf logit makes the softmax one-hot: loss 0 at that class, +inf at the other.
    assert_values(reference.cross_entropy([[INF, 0.0], [INF, 0.0]], np.array([0, 1]),
                                          reduction="none"), [0.0, INF])
    # Two +inf logits, or all -inf: the limit does not exist, NaN.
    assert_values(reference.cross_entropy([[INF, INF], [-INF, -INF]], np.array([0, 0]),
                                          reduction="none"), [NAN, NAN])


# --- NaN propagation --------------------------------------------------------------------------


def test_nan_reaches_exactly_the_losses_it_touches():
    z = np.zeros((3, 4))
    z[1, 2] = NAN  # row 2 of 3
    # Uniform rows cost -log(1/4) = log 4; the NaN row is NaN; the others are untouched.
    assert_values(reference.cross_entropy(z, np.array([0, 0, 0]), reduction="none"),
                  [LOG4, NAN, LOG4])
    # Ignored, the NaN row stays 0.
    assert_values(reference.cross_entropy(z, np.array([0, -100, 0]), ignore_index=-100,
                                          reduction="none"), [LOG4, 0.0, LOG4])
    # ... and so does its gradient: softmax - onehot = [-0.75, 0.25, 0.25, 0.25] in the other
    # rows, divided by the 2 non-ignored samples of the mean.
    g = reference.grad("cross_entropy", z, np.array([0, -100, 0]), ignore_index=-100)
    row = np.array([-0.75, 0.25, 0.25, 0.25]) / 2
    assert_values(g, [row, [0.0] * 4, row])
    # Element-wise losses: only the NaN element. -log(0.5) = log 2 elsewhere.
    assert_values(reference.binary_cross_entropy([0.5, NAN, 0.5], [1.0, 1.0, 0.0],
                                                 reduction="none"), [LOG2, NAN, LOG2])
    # The gradient of a NaN loss is NaN, also where a clip or a clamp is set (clip(NaN) is NaN,
    # not a clipped value); the other element keeps -1/p = -2.
    for option in ({"clip_epsilon": 1e-7}, {"log_clamp": -100.0}):
        assert_values(reference.grad("binary_cross_entropy", [NAN, 0.5], [1.0, 1.0],
                                     reduction="sum", **option), [NAN, -2.0])
    # nll_loss reads only input[i, y_i]: a NaN elsewhere in the row does not touch the loss.
    logp = np.log(np.full((2, 4), 0.25))
    logp[:, 3] = NAN  # not the target of row 0, the target of row 1
    assert_values(reference.nll_loss(logp, np.array([0, 3]), reduction="none"), [LOG4, NAN])


# --- reductions ---------------------------------------------------------------------------------


def test_mean_of_nothing_is_empty_mean():
    # Empty batch: 0 / 0 = NaN by default, 0.0 with Keras's divide_no_nan (empty_mean=0.0).
    empty = np.zeros((0,))
    assert_values(reference.binary_cross_entropy(empty, empty), NAN)
    assert_values(reference.binary_cross_entropy(empty, empty, empty_mean=0.0), 0.0)
    assert_values(reference.cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=np.int64)), NAN)
    # The sum of nothing is 0.
    assert_values(reference.binary_cross_entropy(empty, empty, reduction="sum"), 0.0)
    # Every target ignored: the divisor is 0 again.
    z, t = np.zeros((2, 3)), np.array([-100, -100])
    assert_values(reference.cross_entropy(z, t, ignore_index=-100), NAN)
    assert_values(reference.cross_entropy(z, t, ignore_index=-100, empty_mean=0.0), 0.0)
    assert_values(reference.nll_loss(z, t, ignore_index=-100), NAN)
    # Its gradient is 0 * empty_mean everywhere: NaN, or 0 with empty_mean=0.
    assert_values(reference.grad("cross_entropy", z, t, ignore_index=-100), np.full((2, 3), NAN))
    assert_values(reference.grad("cross_entropy", z, t, ignore_index=-100, empty_mean=0.0),
                  np.zeros((2, 3)))


def test_class_index_mean_divides_by_the_summed_weights():
    # Uniform logits over 4 classes: each sample costs weight[y] * log 4.
    # Targets [0, 1, ignored], weight [1, 2, 3, 4]: sum = (1 + 2) log 4, divisor 1 + 2 = 3
    # (not the 2 samples): mean = log 4.
    z, t, w = np.zeros((3, 4)), np.array([0, 1, -100]), np.array([1.0, 2.0, 3.0, 4.0])
    assert_values(reference.cross_entropy(z, t, weight=w, ignore_index=-100), LOG4)
    assert_values(reference.cross_entropy(z, t, weight=w, ignore_index=-100, reduction="sum"),
                  3 * LOG4)
    # sum_over_batch_size divides by the number of non-ignored samples: 3 log 4 / 2.
    assert_values(reference.cross_entropy(z, t, weight=w, ignore_index=-100,
                                          reduction="sum_over_batch_size"), 1.5 * LOG4)
    # With sample weights [2, 1, 5]: sum = (2*1 + 1*2) log 4, divisor 2*1 + 1*2 = 4: log 4.
    sw = np.array([2.0, 1.0, 5.0])
    assert_values(reference.cross_entropy(z, t, weight=w, ignore_index=-100, sample_weight=sw),
                  LOG4)
    # nll_loss, same rule: -w[y] * log(1/4) per sample.
    logp = np.log(np.full((3, 4), 0.25))
    assert_values(reference.nll_loss(logp, t, weight=w, ignore_index=-100), LOG4)
    # Gradient of the weighted mean: -w[y_i] / 3 at the target, 0 elsewhere and when ignored.
    g = reference.grad("nll_loss", logp, t, weight=w, ignore_index=-100)
    assert_values(g, [[-1 / 3, 0, 0, 0], [0, -2 / 3, 0, 0], [0, 0, 0, 0]])


def test_probability_target_mean_divides_by_the_number_of_samples():
    # Uniform logits over 2 classes, weight [1, 3], targets [1, 0] and [0, 1]:
    # sample losses 1 * log 2 and 3 * log 2; the mean is (1 + 3) log 2 / 2 samples = 2 log 2.
    z, q, w = np.zeros((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 3.0])
    assert_values(reference.cross_entropy(z, q, weight=w), 2 * LOG2)
    # Categorical cross-entropy likewise: -log(0.5) and -log(0.25), mean (log 2 + log 4) / 2.
    p = np.array([[0.5, 0.5], [0.75, 0.25]])
    assert_values(reference.categorical_cross_entropy(p, q), (LOG2 + LOG4) / 2)


def test_sample_weight_and_average_last_axis():
    # Keras: BCE averaged over the last axis first, one loss per sample:
    # row 0: p = [0.5, 0.5], y = [1, 0]: (log 2 + log 2) / 2 = log 2;
    # row 1: p = [0.25, 0.5], y = [1, 1]: (log 4 + log 2) / 2 = 1.5 log 2.
    p, y = np.array([[0.5, 0.5], [0.25, 0.5]]), np.array([[1.0, 0.0], [1.0, 1.0]])
    assert_values(reference.binary_cross_entropy(p, y, average_last_axis=True, reduction="none"),
                  [LOG2, 1.5 * LOG2])
    # Sample weights [2, 0]: "sum_over_batch_size" = (2 log 2 + 0) / 2 samples = log 2.
    assert_values(reference.binary_cross_entropy(p, y, average_last_axis=True,
                                                 sample_weight=[2.0, 0.0],
                                                 reduction="sum_over_batch_size"), LOG2)


def test_weighted_mean_divides_by_the_summed_sample_weights():
    # "weighted_mean" = sum_i sw_i l_i / sum_i sw_i (Keras's "mean_with_sample_weight",
    # sklearn's log_loss(normalize=True, sample_weight=sw)). BCE at p = [0.5, 0.25], y = 1:
    # l = [log 2, 2 log 2]; sw = [1, 3]: (log 2 + 6 log 2) / 4 = 1.75 log 2.
    p, y, sw = [0.5, 0.25], [1.0, 1.0], [1.0, 3.0]
    weighted = {"reduction": "weighted_mean", "sample_weight": sw}
    assert_values(reference.binary_cross_entropy(p, y, **weighted), 1.75 * LOG2)
    # ("mean" divides by the 2 samples: 3.5 log 2.)
    assert_values(reference.binary_cross_entropy(p, y, sample_weight=sw), 3.5 * LOG2)
    # Gradient c_i dl_i/dp_i with c_i = sw_i / 4 = [1/4, 3/4] and dl/dp = -1/p = [-2, -4].
    assert_values(reference.grad("binary_cross_entropy", p, y, **weighted), [-0.5, -3.0])
    # Without sample weights it is "mean": (log 2 + 2 log 2) / 2.
    assert_values(reference.binary_cross_entropy(p, y, reduction="weighted_mean"), 1.5 * LOG2)
    # An element weight is part of l_i, not of the divisor: weight 2 doubles the result.
    assert_values(reference.binary_cross_entropy(p, y, weight=[2.0, 2.0], **weighted),
                  3.5 * LOG2)
    # Logits x = 0 cost log 2 whatever the target: the weighted average is log 2.
    assert_values(reference.binary_cross_entropy_with_logits([0.0, 0.0], [1.0, 0.0], **weighted),
                  LOG2)
    # Keras's last-axis mean first: rows cost log 2 and 1.5 log 2 (see above); sw = [2, 1]:
    # (2 log 2 + 1.5 log 2) / 3 = 7/6 log 2, gradient c_i / k = sw_i / (3 * 2) times -1/p for
    # y = 1 and 1 / (1 - p) for y = 0: row 0 [-2, 2] / 3, row 1 [-4, -2] / 6.
    p2, y2 = np.array([[0.5, 0.5], [0.25, 0.5]]), np.array([[1.0, 0.0], [1.0, 1.0]])
    kwargs = {"average_last_axis": True, "sample_weight": [2.0, 1.0], "reduction": "weighted_mean"}
    assert_values(reference.binary_cross_entropy(p2, y2, **kwargs), 7 / 6 * LOG2)
    assert_values(reference.grad("binary_cross_entropy", p2, y2, **kwargs),
                  [[-2 / 3, 2 / 3], [-2 / 3, -1 / 3]])


def test_weighted_mean_of_class_losses():
    # Probability targets: the class weight is inside l_i, so the divisor is sum sw alone.
    # Uniform logits over 2 classes, weight [1, 3], one-hot targets: l = [log 2, 3 log 2];
    # sw = [1, 3]: (log 2 + 9 log 2) / 4 = 2.5 log 2 (PyTorch's "mean": 10 log 2 / 2).
    z, q, w = np.zeros((2, 2)), np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([1.0, 3.0])
    weighted = {"reduction": "weighted_mean", "sample_weight": [1.0, 3.0]}
    assert_values(reference.cross_entropy(z, q, weight=w, **weighted), 2.5 * LOG2)
    # Class indices: the class weight is a per-sample weight (Keras's class_weight becomes the
    # sample weight class_weight[y]), so "weighted_mean" is "mean": targets [0, 1, ignored],
    # weight [1, 2, 3, 4], sw [2, 1, 5]: (2 + 2) log 4 / (2 * 1 + 1 * 2) = log 4.
    z, t, w = np.zeros((3, 4)), np.array([0, 1, -100]), np.array([1.0, 2.0, 3.0, 4.0])
    kwargs = {"weight": w, "ignore_index": -100, "sample_weight": [2.0, 1.0, 5.0]}
    for loss, x in (("cross_entropy", z), ("nll_loss", np.log(np.full((3, 4), 0.25)))):
        f = getattr(reference, loss)
        assert_values(f(x, t, reduction="weighted_mean", **kwargs), LOG4)
        assert_values(reference.grad(loss, x, t, reduction="weighted_mean", **kwargs),
                      reference.grad(loss, x, t, **kwargs))
    # Categorical cross-entropy: -log 0.25, -log 0.5 with sw [1, 3]: (2 + 3) log 2 / 4.
    p = np.array([[0.25, 0.75], [0.5, 0.5]])
    assert_values(reference.categorical_cross_entropy(p, np.array([0, 1]), **weighted),
                  1.25 * LOG2)


def test_weighted_mean_of_zero_or_cancelling_weights():
    # Weights summing to 0: a mean of nothing, empty_mean (Keras's divide_no_nan: 0), and the
    # gradient 0 * empty_mean everywhere, also where the loss's own derivative is infinite (p = 0)
    # or NaN.
    p, y = [0.0, 0.5, NAN], [1.0, 1.0, 1.0]
    for sw in ([0.0, 0.0, 0.0], [1.0, -1.0, 0.0]):
        kwargs = {"reduction": "weighted_mean", "sample_weight": sw}
        assert_values(reference.binary_cross_entropy(p, y, **kwargs), NAN)
        assert_values(reference.binary_cross_entropy(p, y, empty_mean=0.0, **kwargs), 0.0)
        assert_values(reference.grad("binary_cross_entropy", p, y, **kwargs), [NAN] * 3)
        assert_values(reference.grad("binary_cross_entropy", p, y, empty_mean=0.0, **kwargs),
                      [0.0] * 3)
    # Cancelling weights are summed exactly: sw = [2**70, 1, -2**70] gives D = 1 (a longdouble
    # sum would lose the 1 and find 0). Losses [log 2, log 2, 2 log 2]: the value is
    # 2**70 log 2 + log 2 - 2**71 log 2 = (1 - 2**70) log 2, gradient sw_i / 1 * (-1/p_i).
    p, y, sw = [0.5, 0.5, 0.25], [1.0, 1.0, 1.0], [2.0**70, 1.0, -2.0**70]
    kwargs = {"reduction": "weighted_mean", "sample_weight": sw}
    assert_values(reference.binary_cross_entropy(p, y, **kwargs), (1 - 2.0**70) * LOG2)
    assert_values(reference.grad("binary_cross_entropy", p, y, **kwargs),
                  [-(2.0**71), -2.0, 2.0**72])


def test_categorical_ignore_index():
    # Keras's SparseCategoricalCrossentropy(ignore_class=k) on probabilities: an ignored sample
    # costs 0, passes no gradient and leaves the divisor, whatever its probabilities (NaN here).
    p = np.array([[0.25, 0.75], [NAN, 0.5], [0.5, 0.5]])
    t = np.array([0, -100, 1])
    kwargs = {"ignore_index": -100}
    assert_values(reference.categorical_cross_entropy(p, t, reduction="none", **kwargs),
                  [LOG4, 0.0, LOG2])
    # mean over the 2 kept samples: (2 log 2 + log 2) / 2; gradient -q / p / 2 at the target.
    assert_values(reference.categorical_cross_entropy(p, t, **kwargs), 1.5 * LOG2)
    assert_values(reference.grad("categorical_cross_entropy", p, t, **kwargs),
                  [[-2.0, 0.0], [0.0, 0.0], [0.0, -1.0]])
    # weighted_mean: sw [2, 7, 1] of which the ignored 7 leaves the divisor: (4 + 1) log 2 / 3.
    assert_values(reference.categorical_cross_entropy(
        p, t, reduction="weighted_mean", sample_weight=[2.0, 7.0, 1.0], **kwargs), 5 / 3 * LOG2)
    # Renormalised: row 0 [1, 3] is [1/4, 3/4]: -log(p_0 / S), gradient -1/p_0 + 1/S = -3/4 at
    # class 0 and 1/S = 1/4 at class 1; row 2 [0.5, 0.5], class 1: [1, -1]; halved by the
    # mean. The ignored row [0, 0] has no renormalisation (0 / 0) and stays out.
    p = np.array([[1.0, 3.0], [0.0, 0.0], [0.5, 0.5]])
    renormalized = {"renormalize": True, "validate": False, **kwargs}
    assert_values(reference.categorical_cross_entropy(p, t, **renormalized), 1.5 * LOG2)
    assert_values(reference.grad("categorical_cross_entropy", p, t, **renormalized),
                  [[-0.375, 0.125], [0.0, 0.0], [0.5, -0.5]])
    # Clipped to [0.01, 0.99]: row 0 (class 0, ignored) is clipped at both classes and passes
    # nothing; row 1's class 1, p = 0.95, is inside the bounds: -log 0.95, gradient -1/0.95.
    p = np.array([[0.0, 1.0], [0.05, 0.95]])
    t = np.array([0, 1])
    clipped = {"clip_epsilon": 0.01, "ignore_index": 0}
    assert_values(reference.categorical_cross_entropy(p, t, **clipped), -math.log(0.95))
    assert_values(reference.grad("categorical_cross_entropy", p, t, **clipped),
                  [[0.0, 0.0], [0.0, -1 / 0.95]])
    # Every sample ignored: empty_mean, gradient 0 * empty_mean.
    p, t = np.full((2, 3), 1 / 3), np.array([1, 1])
    assert_values(reference.categorical_cross_entropy(p, t, ignore_index=1), NAN)
    assert_values(reference.categorical_cross_entropy(p, t, ignore_index=1, empty_mean=0.0), 0.0)
    assert_values(reference.grad("categorical_cross_entropy", p, t, ignore_index=1),
                  np.full((2, 3), NAN))
    assert_values(reference.grad("categorical_cross_entropy", p, t, ignore_index=1,
                                 empty_mean=0.0), np.zeros((2, 3)))
    # The class axis may be any: axis 0 of a (C, N) input, targets [1, ignored].
    assert_values(reference.categorical_cross_entropy(
        np.array([[0.5, 0.2], [0.5, 0.8]]), np.array([1, 0]), axis=0, ignore_index=0,
        reduction="sum"), LOG2)


# --- smoothing and library conventions ----------------------------------------------------------


def test_label_smoothing():
    # Categorical: q = (1 - e) y + e / C. Logits [log 3, 0] give softmax [3/4, 1/4]; class 0
    # with e = 0.5 gives q = [0.75, 0.25]: -(0.75 log 0.75 + 0.25 log 0.25) = 0.5623.
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert_values(reference.cross_entropy([LOG3, 0.0], np.array(0), label_smoothing=0.5),
                  expected)
    # Same with probabilities as the target, and for categorical_cross_entropy.
    assert_values(reference.cross_entropy([LOG3, 0.0], [1.0, 0.0], label_smoothing=0.5),
                  expected)
    assert_values(reference.categorical_cross_entropy([0.75, 0.25], [1.0, 0.0],
                                                      label_smoothing=0.5), expected)
    # Gradient wrt uniform logits [0, 0]: softmax - q = [0.5 - 0.75, 0.5 - 0.25].
    assert_values(reference.grad("cross_entropy", [0.0, 0.0], np.array(0), label_smoothing=0.5),
                  [-0.25, 0.25])
    # Binary: y_s = (1 - e) y + e / 2. p = 0.25, y = 1, e = 0.5: y_s = 0.75, loss
    # -(0.75 log 0.25 + 0.25 log 0.75) = 1.1116.
    assert_values(reference.binary_cross_entropy([0.25], [1.0], label_smoothing=0.5),
                  -(0.75 * math.log(0.25) + 0.25 * math.log(0.75)))
    # e = 1: every target becomes 1/2; at x = 0 the loss is log 2 whatever y.
    assert_values(reference.binary_cross_entropy_with_logits([0.0, 0.0], [0.0, 1.0],
                                                             label_smoothing=1.0,
                                                             reduction="none"), [LOG2, LOG2])


def test_torch_log_clamp():
    # torch clamps each log at -100: p = 0, y = 1 costs -(-100) = 100 instead of inf ...
    assert reference.binary_cross_entropy(0.0, 1.0, log_clamp=-100) == 100.0
    # ... and a clamped log passes no gradient.
    assert_values(reference.grad("binary_cross_entropy", [0.0], [1.0], log_clamp=-100), [0.0])


def test_torch_backward_floor():
    # torch's BCE backward is (p - y) / max(p (1 - p), 1e-12), whatever the clamp did to the
    # value: p = 0, y = 1 has gradient -1e12; in float16 the floor rounds to 0, and p = y = 0
    # gives 0 / 0.
    g = reference.grad("binary_cross_entropy", [0.0, 1e-50, 0.5], [1.0, 1.0, 0.0],
                       reduction="none", log_clamp=-100, gradient_floor=1e-12)
    assert_values(g, [-1e12, -1e12, 2.0])
    g = reference.grad("binary_cross_entropy", [0.0, 0.0], [1.0, 0.0], reduction="none",
                       gradient_floor=0.0)
    assert g[0] == -np.inf
    assert np.isnan(g[1])
    assert reference.binary_cross_entropy(0.0, 1.0, log_clamp=-100, gradient_floor=1e-12) == 100


def test_keras_clipping_and_renormalisation():
    # Binary: p = 1 is clipped to 1 - 1e-7, so y = 0 costs -log(1 - (1 - 1e-7)) = -log(1e-7)
    # = 16.1181 (the exact 1 - eps: the pair form is for a bound rounded elsewhere).
    assert_values(reference.binary_cross_entropy([1.0], [0.0], clip_epsilon=1e-7),
                  -math.log(1e-7))
    # Categorical: [0.2, 0.2, 0.4] renormalises to [0.25, 0.25, 0.5]; class 2 costs log 2.
    p = np.array([[0.2, 0.2, 0.4]])
    assert_values(reference.categorical_cross_entropy(p, [[0.0, 0.0, 1.0]], renormalize=True),
                  LOG2)
    # Without renormalisation it costs -log(0.4).
    assert_values(reference.categorical_cross_entropy(p, [[0.0, 0.0, 1.0]]), -math.log(0.4))
    # Clipping after renormalising: [1, 0] with class 1 costs -log(1e-7), not inf.
    assert_values(reference.categorical_cross_entropy([[1.0, 0.0]], [[0.0, 1.0]],
                                                      clip_epsilon=1e-7, renormalize=True),
                  -math.log(1e-7))
    # Textbook NumPy: -log(0.5 + 1e-9) = log 2 - log1p(2e-9) with log_offset.
    assert_values(reference.categorical_cross_entropy([[0.5, 0.5]], [[1.0, 0.0]],
                                                      log_offset=1e-9),
                  LOG2 - math.log1p(2e-9))
    # Gradient through the renormalisation, p = [0.25, 0.75], class 0, S = 1:
    # d/dp_k of -log(p_0 / S) = -1/p_0 + 1/S at k = 0, 1/S at k = 1: [-3, 1].
    assert_values(reference.grad("categorical_cross_entropy", [[0.25, 0.75]], [[1.0, 0.0]],
                                 renormalize=True), [[-3.0, 1.0]])


def test_clipped_probability_keeps_its_exact_complement_in_the_offset_log():
    # p = 1 clipped to 1 - 1e-7, y = 0, log offset 1: -log(1 - p' + 1) = -log1p(1e-7), from the
    # exact complement 1e-7 (1 - 1e-7 itself rounds: log1p(1 - p') was 184 ulp off).
    assert_values(reference.binary_cross_entropy(1.0, 0.0, clip_epsilon=1e-7, log_offset=1.0),
                  -math.log1p(1e-7), ulps=1)


def test_keras_numpy_logits_sigmoid_then_clip():
    # Keras's NumPy backend: p = sigmoid(x) clipped to [lo, hi], then the probability formula.
    lo, hi = 1e-7, 1 - 1e-7
    # sigmoid(-30) = 9.4e-14 < lo: y = 1 costs -log(lo), not 30; x = -inf the same, not inf.
    assert_values(reference.binary_cross_entropy_with_logits(
        [-30.0, -INF], [1.0, 1.0], reduction="none", probability_clip=1e-7),
        [-math.log(lo), -math.log(lo)])
    # sigmoid(40) > hi: y = 0 costs -log(1 - hi) = -log(1e-7); y = 0.25 mixes both logs.
    assert_values(reference.binary_cross_entropy_with_logits(
        [40.0, 40.0], [0.0, 0.25], reduction="none", probability_clip=(lo, hi)),
        [-math.log1p(-hi), -(0.25 * math.log(hi) + 0.75 * math.log1p(-hi))])
    # Inside the bounds the clip does not act: x = 0 costs log 2, x = 15 (sigmoid 1 - 3.1e-7)
    # with y = 0 costs softplus(15).
    assert_values(reference.binary_cross_entropy_with_logits(
        [0.0, 15.0], [1.0, 0.0], reduction="none", probability_clip=1e-7),
        [LOG2, 15.0 + math.log1p(math.exp(-15.0))])
    # Gradients: 0 wrt x where clipped, sigmoid(x) - y elsewhere; wrt y, -(log p' - log(1-p'))
    # where clipped: log(1 - lo) - log(lo) at x = -30.
    assert_values(reference.grad("binary_cross_entropy_with_logits", [-30.0, 0.0], [1.0, 1.0],
                                 reduction="sum", probability_clip=1e-7), [0.0, -0.5])
    assert_values(reference.grad("binary_cross_entropy_with_logits", [-30.0, 0.0], [1.0, 1.0],
                                 wrt="target", reduction="sum", probability_clip=1e-7),
                  [math.log1p(-lo) - math.log(lo), 0.0])


def test_keras_clip_then_renormalise():
    # renormalize="after_clip" (Keras's TensorFlow sparse loss): c = clip(p), p'' = c / sum(c).
    # [0.5, 0.5, 0] with eps = 0.1 clips to [0.5, 0.5, 0.1], sum 1.1: class 0 costs
    # -log(0.5 / 1.1) = log 2.2. Dividing first (renormalize=True) leaves the row, whose clip
    # costs log 2.
    p = [[0.5, 0.5, 0.0]]
    assert_values(reference.categorical_cross_entropy(p, np.array([0]), clip_epsilon=0.1,
                                                      renormalize="after_clip"), math.log(2.2))
    assert_values(reference.categorical_cross_entropy(p, np.array([0]), clip_epsilon=0.1,
                                                      renormalize=True), LOG2)
    # Keras's float64 bounds (1e-7, 0.9999999): [1 - 3.3e-12, 3.3e-12] clips to [hi, lo], and
    # class 0 costs -log(hi / (hi + lo)) = log1p(lo / hi) = 1.00000005e-7.
    assert_values(reference.categorical_cross_entropy(
        [[0.9999999999967324, 3.2676901527601267e-12]], np.array([0]),
        clip_epsilon=(1e-7, 0.9999999), renormalize="after_clip"), math.log1p(1e-7 / 0.9999999))
    # Gradient: [0.5, 0.3, 0] clips to [0.5, 0.3, 0.1], S = 0.9. For class 0,
    # d/dc_k of -log(c_0 / S) is -1/c_0 + 1/S = -8/9 at k = 0 and 1/S = 10/9 at k = 1; p_2 is
    # clipped and passes nothing, though its bound is in S.
    assert_values(reference.grad("categorical_cross_entropy", [[0.5, 0.3, 0.0]], np.array([0]),
                                 clip_epsilon=0.1, renormalize="after_clip"),
                  [[-8 / 9, 10 / 9, 0.0]])
    # Both entries clipped: [0.95, 0.05] is [0.9, 0.1], sum 1, -log 0.9; no gradient passes.
    assert_values(reference.categorical_cross_entropy([[0.95, 0.05]], np.array([0]),
                                                      clip_epsilon=0.1, renormalize="after_clip"),
                  -math.log(0.9))
    assert_values(reference.grad("categorical_cross_entropy", [[0.95, 0.05]], np.array([0]),
                                 clip_epsilon=0.1, renormalize="after_clip"), [[0.0, 0.0]])
    # With respect to soft targets: -log p'' of [5/9, 3/9, 1/9].
    assert_values(reference.grad("categorical_cross_entropy", [[0.5, 0.3, 0.0]],
                                 [[0.0, 1.0, 0.0]], wrt="target", clip_epsilon=0.1,
                                 renormalize="after_clip"),
                  [[-math.log(5 / 9), LOG3, math.log(9)]])
    with pytest.raises(OracleInputError, match="renormalize"):
        reference.categorical_cross_entropy(p, np.array([0]), renormalize="before_clip")


def test_pos_weight():
    # x = 0: softplus(0) = log 2. y = 1 costs pos_weight * log 2 = 3 log 2; y = 0 costs log 2.
    assert_values(reference.binary_cross_entropy_with_logits([0.0, 0.0], [1.0, 0.0],
                                                             pos_weight=[3.0],
                                                             reduction="none"),
                  [3 * LOG2, LOG2])
    # Gradient (1 - y) sigmoid(x) - pos_weight y sigmoid(-x) at x = 0: [-1.5, 0.5].
    assert_values(reference.grad("binary_cross_entropy_with_logits", [0.0, 0.0], [1.0, 0.0],
                                 pos_weight=[3.0], reduction="none"), [-1.5, 0.5])


def test_uniform_logits_gradient():
    # Uniform over 4 classes: -log(0.25) = 1.386; gradient softmax - onehot
    # = [0.25, 0.25, 0.25, -0.75].
    assert_values(reference.cross_entropy(np.zeros(4), np.array(3)), LOG4)
    assert_values(reference.grad("cross_entropy", np.zeros(4), np.array(3)),
                  [0.25, 0.25, 0.25, -0.75])
    # value_and_grad gives the same pair in one call.
    value, g = reference.value_and_grad("cross_entropy", np.zeros(4), np.array(3))
    assert_values(value, LOG4)
    assert_values(g, [0.25, 0.25, 0.25, -0.75])
    # Soft target: the gradient wrt the target is weight_j (logsumexp(z) - z_j) = log 4 each.
    assert_values(reference.grad("cross_entropy", np.zeros(4), np.full(4, 0.25), wrt="target"),
                  np.full(4, LOG4))


def test_scalar_inputs():
    # 0-d input and target are one element. d/dp of -(y_s log p + (1 - y_s) log(1 - p)) at
    # p = 0.25 with y_s = 0.75 (y = 1, e = 0.5): (p - y_s) / (p (1 - p)) = -0.5 / 0.1875 = -8/3.
    assert_values(reference.grad("binary_cross_entropy", 0.25, 1.0, label_smoothing=0.5),
                  -8 / 3)
    # With log_offset 1e-7: -(1/(p + o)) for y = 1: -1 / 0.2500001.
    assert_values(reference.grad("binary_cross_entropy", 0.25, 1.0, log_offset=1e-7),
                  -1 / (0.25 + 1e-7))
    # Logits, e = 1: y_s = 1/2 whatever y, so at x = 0 the gradient is 0.5 * 0.5 - 0.5 * 0.5 = 0.
    assert_values(reference.grad("binary_cross_entropy_with_logits", 0.0, 1.0,
                                 label_smoothing=1.0), 0.0)
    assert_values(reference.binary_cross_entropy_with_logits(0.0, 1.0, label_smoothing=1.0),
                  LOG2)


@pytest.mark.parametrize("target_kind", ["indices", "probabilities"])
def test_spatial_layout_is_the_moved_axis_batch(target_kind):
    # (N, C, d1) logits are N * d1 samples of C classes: moving the class axis last and
    # flattening gives the same per-sample losses, the same mean and the same gradient.
    rng = np.random.default_rng(0)
    z = rng.normal(size=(2, 3, 4))
    if target_kind == "indices":
        t = rng.integers(0, 3, size=(2, 4))
        flat_t = t.reshape(8)
    else:
        t = rng.uniform(size=(2, 3, 4))
        flat_t = np.moveaxis(t, 1, -1).reshape(8, 3)
    flat_z = np.moveaxis(z, 1, -1).reshape(8, 3)
    w = np.array([0.5, 1.0, 2.0])
    assert_values(reference.cross_entropy(z, t, weight=w, reduction="none").reshape(8),
                  reference.cross_entropy(flat_z, flat_t, weight=w, reduction="none"))
    assert_values(reference.cross_entropy(z, t, weight=w),
                  reference.cross_entropy(flat_z, flat_t, weight=w))
    g = reference.grad("cross_entropy", z, t, weight=w)
    flat_g = reference.grad("cross_entropy", flat_z, flat_t, weight=w)
    assert_values(np.moveaxis(g, 1, -1).reshape(8, 3), flat_g)


# --- outside the domain: validate=False ---------------------------------------------------------


def test_validate_false_changes_nothing_inside_the_domain():
    # Every loss accepts validate=False; on valid input the values and gradients are the same,
    # bit for bit (the same code path).
    rng = np.random.default_rng(13)
    p, y = rng.uniform(size=(3, 4)), rng.uniform(size=(3, 4))
    z, t = rng.normal(size=(3, 4)), np.array([0, 3, 1])
    cases = [
        ("binary_cross_entropy", (p, y), {"label_smoothing": 0.1, "clip_epsilon": 1e-7,
                                          "log_offset": 1e-3}, ("input", "target")),
        ("binary_cross_entropy_with_logits", (z, y), {"pos_weight": [1.0, 2.0, 0.5, 3.0]},
         ("input", "target")),
        ("cross_entropy", (z, y / y.sum(axis=1, keepdims=True)), {"label_smoothing": 0.2},
         ("input", "target")),
        ("cross_entropy", (z, t), {"weight": [1.0, 2.0, 0.5, 3.0]}, ("input",)),
        ("nll_loss", (-p, t), {}, ("input",)),
        ("categorical_cross_entropy", (p, y), {"renormalize": True, "clip_epsilon": 1e-7},
         ("input", "target")),
    ]
    for name, args, kwargs, wrts in cases:
        loss = getattr(reference, name)
        for reduction in ("none", "mean"):
            assert np.array_equal(loss(*args, reduction=reduction, **kwargs),
                                  loss(*args, reduction=reduction, validate=False, **kwargs))
        for wrt in wrts:
            assert np.array_equal(reference.grad(name, *args, wrt=wrt, **kwargs),
                                  reference.grad(name, *args, wrt=wrt, validate=False, **kwargs))


def test_validate_false_binary_targets_and_smoothing():
    none = {"reduction": "none", "validate": False}
    # y = 1.5, p = 0.5: -(1.5 log 0.5 + (-0.5) log 0.5) = -log 0.5 = log 2 = 0.6931.
    # y = -1, p = 0.25: -(-1 log 0.25 + 2 log 0.75) = log(0.25 / 0.75**2) = log(4/9) = -0.8109.
    assert_values(reference.binary_cross_entropy([0.5, 0.25], [1.5, -1.0], **none),
                  [LOG2, math.log(4 / 9)])
    # d/dp = (p - y) / (p (1 - p)): (0.5 - 1.5) / 0.25 = -4; (0.25 + 1) / 0.1875 = 20/3.
    assert_values(reference.grad("binary_cross_entropy", [0.5, 0.25], [1.5, -1.0], **none),
                  [-4.0, 20 / 3])
    # d/dy = -(log p - log(1 - p)): 0 at p = 1/2; log 3 at p = 1/4.
    assert_values(reference.grad("binary_cross_entropy", [0.5, 0.25], [1.5, -1.0],
                                 wrt="target", **none), [0.0, LOG3])
    # e = -0.5: y_s = 1.5 y - 0.25 = 1.25 at y = 1, 1 - y_s = -0.25; p = 0.25:
    # -(1.25 log 0.25 - 0.25 log 0.75) = 1.6609.
    assert_values(reference.binary_cross_entropy([0.25], [1.0], label_smoothing=-0.5, **none),
                  [-1.25 * math.log(0.25) + 0.25 * math.log(0.75)])
    # Logits x = log 3 (sigmoid 3/4), y = 2: 2 softplus(-x) - softplus(x)
    # = 2 log(4/3) - log 4 = log(4/9); gradient sigmoid(x) - y = 0.75 - 2 = -1.25.
    assert_values(reference.binary_cross_entropy_with_logits([LOG3], [2.0], **none),
                  [math.log(4 / 9)])
    assert_values(reference.grad("binary_cross_entropy_with_logits", [LOG3], [2.0], **none),
                  [-1.25])
    # A negative pos_weight: x = 0, y = 1, pos_weight -1: -softplus(0) = -log 2.
    assert_values(reference.binary_cross_entropy_with_logits([0.0], [1.0], pos_weight=[-1.0],
                                                             **none), [-LOG2])


def test_validate_false_probabilities_outside_the_unit_interval():
    none = {"reduction": "none", "validate": False}
    # p = 1.5: log(1 - p) = log(-0.5) is NaN (IEEE), the loss too, and so is its gradient.
    # p = -0.5 with y = 0: log(1.5) is fine, but y * log(-0.5) = 0 * NaN is NaN as well.
    assert_values(reference.binary_cross_entropy([1.5, -0.5], [1.0, 0.0], **none), [NAN, NAN])
    assert_values(reference.grad("binary_cross_entropy", [1.5, -0.5], [1.0, 0.0], **none),
                  [NAN, NAN])
    # Keras clips first: p = 1.5 is 1 - 1e-7 and p = -0.5 is 1e-7, both in the domain again:
    # y = 0 at 1 - 1e-7 costs -log(1e-7) = 16.118, y = 1 at 1e-7 the same; gradient 0 (clipped).
    clip = {"clip_epsilon": 1e-7, **none}
    assert_values(reference.binary_cross_entropy([1.5, -0.5], [0.0, 1.0], **clip),
                  [-math.log(1e-7), -math.log(1e-7)])
    assert_values(reference.grad("binary_cross_entropy", [1.5, -0.5], [0.0, 1.0], **clip),
                  [0.0, 0.0])
    # Categorical: q = [1.5, -0.5], p = [0.5, 0.5]: -(1.5 - 0.5) log 0.5 = log 2; gradient
    # -q / p = [-3, 1].
    assert_values(reference.categorical_cross_entropy([[0.5, 0.5]], [[1.5, -0.5]], **none),
                  [LOG2])
    assert_values(reference.grad("categorical_cross_entropy", [[0.5, 0.5]], [[1.5, -0.5]],
                                 **none), [[-3.0, 1.0]])
    # p = [1.5, -0.5] renormalises to itself (sum 1) and clips to [1 - 1e-7, 1e-7]: class 0
    # costs -log(1 - 1e-7) = 1.00000005e-7 (Keras's order: divide, clip, log).
    assert_values(reference.categorical_cross_entropy(
        [[1.5, -0.5]], [[1.0, 0.0]], renormalize=True, clip_epsilon=1e-7, **none),
        [-math.log1p(-1e-7)])
    # Unclipped, log(-0.5) is NaN: the loss is NaN (0 * NaN at class 0); the gradient is NaN at
    # that class only, -0 / 1.5 = -0 at the other; renormalised, every p''_j depends on every
    # p_k, and the whole row of the gradient is NaN.
    p, q = [[-0.5, 1.5]], [[0.0, 1.0]]
    assert_values(reference.categorical_cross_entropy(p, q, **none), [NAN])
    assert_values(reference.grad("categorical_cross_entropy", p, q, **none), [[NAN, -1 / 1.5]])
    assert_values(reference.grad("categorical_cross_entropy", p, q, renormalize=True, **none),
                  [[NAN, NAN]])


def test_validate_false_class_losses():
    none = {"reduction": "none", "validate": False}
    # Soft target [1.5, -0.5] on logits [log 3, 0] (softmax [3/4, 1/4]):
    # -(1.5 log 0.75 - 0.5 log 0.25) = -0.2616; gradient softmax * sum(q) - q
    # = [0.75 - 1.5, 0.25 + 0.5] = [-0.75, 0.75].
    assert_values(reference.cross_entropy([LOG3, 0.0], [1.5, -0.5], **none),
                  -1.5 * math.log(0.75) + 0.5 * math.log(0.25))
    assert_values(reference.grad("cross_entropy", [LOG3, 0.0], [1.5, -0.5], **none),
                  [-0.75, 0.75])
    # Class index 0 smoothed by e = 1.5 over C = 2: q = -0.5 * [1, 0] + 0.75 = [0.25, 0.75]:
    # -(0.25 log 0.75 + 0.75 log 0.25) = 1.1116.
    assert_values(reference.cross_entropy([LOG3, 0.0], np.array(0), label_smoothing=1.5,
                                          **none), -(0.25 * math.log(0.75) + 0.75 * math.log(0.25)))
    # A negative class weight: weight [-1, 2], uniform logits, targets [0, 1]: losses -log 2
    # and 2 log 2; the weighted mean divides by -1 + 2 = 1: log 2.
    assert_values(reference.cross_entropy(np.zeros((2, 2)), np.array([0, 1]), weight=[-1.0, 2.0],
                                          validate=False), LOG2)
    # nll_loss of a positive log-probability: -0.5, gradient -1 at the target class.
    assert_values(reference.nll_loss([[0.5, -1.0]], np.array([0]), **none), [-0.5])
    assert_values(reference.grad("nll_loss", [[0.5, -1.0]], np.array([0]), validate=False),
                  [[-1.0, 0.0]])


# --- invalid input ------------------------------------------------------------------------------


def _raises(call, *args, names: str, value: str, **kwargs):
    """``call`` raises OracleInputError whose message names the argument and the value."""
    with pytest.raises(OracleInputError) as info:
        call(*args, **kwargs)
    message = str(info.value)
    assert re.search(rf"\b{names}\b", message), f"{message!r} does not name {names!r}"
    assert value in message, f"{message!r} does not show the offending value {value!r}"


# Errors of the value domain: validate=False lifts them (see test_validate_false_*).
DOMAIN_ERRORS = [
    # probabilities outside [0, 1], in the input and in the target
    ("binary_cross_entropy", ([1.5], [1.0]), {}, "input", "1.5"),
    ("binary_cross_entropy", ([0.5], [-0.25]), {}, "target", "-0.25"),
    ("binary_cross_entropy_with_logits", ([0.0], [2.0]), {}, "target", "2.0"),
    ("categorical_cross_entropy", ([[0.5, 1.25]], [[1.0, 0.0]]), {}, "input", "1.25"),
    ("categorical_cross_entropy", ([[0.5, 0.5]], [[1.0, -0.5]]), {}, "target", "-0.5"),
    ("cross_entropy", ([[0.0, 0.0]], [[1.5, 0.0]]), {}, "target", "1.5"),
    # log-probabilities must be <= 0
    ("nll_loss", (np.array([[0.5, -1.0]]), np.array([0])), {}, "input", "0.5"),
    # label smoothing outside [0, 1]
    ("cross_entropy", (np.zeros((1, 3)), np.array([0])), {"label_smoothing": 1.5},
     "label_smoothing", "1.5"),
    ("binary_cross_entropy", ([0.5], [1.0]), {"label_smoothing": -0.1}, "label_smoothing",
     "-0.1"),
    ("binary_cross_entropy_with_logits", ([0.5], [1.0]), {"label_smoothing": 2.0},
     "label_smoothing", "2.0"),
    ("categorical_cross_entropy", ([[0.5, 0.5]], [[1.0, 0.0]]), {"label_smoothing": -1.0},
     "label_smoothing", "-1.0"),
]


@pytest.mark.parametrize(
    ("name", "args", "kwargs", "argument", "value"),
    [
        *DOMAIN_ERRORS,
        # class indices out of range, and negative (not the ignore_index)
        ("cross_entropy", (np.zeros((2, 3)), np.array([0, 3])), {}, "target", "3"),
        ("cross_entropy", (np.zeros((2, 3)), np.array([0, -1])), {}, "target", "-1"),
        ("nll_loss", (np.zeros((2, 3)), np.array([7, 0])), {}, "target", "7"),
        ("cross_entropy", (np.zeros((2, 3)), np.array([-5, 0])), {"ignore_index": -100},
         "target", "-5"),
        ("categorical_cross_entropy", (np.full((2, 3), 0.5), np.array([0, 3])), {}, "target",
         "3"),
        # mismatched shapes
        ("binary_cross_entropy", ([0.5, 0.5], [1.0, 0.0, 1.0]), {}, "target", "(3,)"),
        ("categorical_cross_entropy", ([[0.5, 0.5]], [[1.0, 0.0, 0.0]]), {}, "target", "(1, 3)"),
        ("cross_entropy", (np.zeros((2, 3)), np.array([0, 1, 2])), {}, "target", "(3,)"),
        # wrong weight shapes
        ("cross_entropy", (np.zeros((2, 3)), np.array([0, 1])), {"weight": [1.0, 2.0]},
         "weight", "(2,)"),
        ("binary_cross_entropy", ([0.5, 0.5], [1.0, 0.0]), {"weight": [1.0, 2.0, 3.0]},
         "weight", "(3,)"),
        ("binary_cross_entropy_with_logits", ([0.5, 0.5], [1.0, 0.0]),
         {"pos_weight": [1.0, 2.0, 3.0]}, "pos_weight", "(3,)"),
        # reductions
        ("binary_cross_entropy", ([0.5], [1.0]), {"reduction": "avg"}, "reduction", "'avg'"),
        ("cross_entropy", (np.zeros((1, 3)), np.array([0])), {"reduction": "elementwise_mean"},
         "reduction", "'elementwise_mean'"),
    ],
)
def test_invalid_input_is_named(name, args, kwargs, argument, value):
    _raises(getattr(reference, name), *args, names=argument, value=value, **kwargs)


STRUCTURAL_ERRORS = [
    # class indices have no formula outside [0, C)
    ("cross_entropy", (np.zeros((2, 3)), np.array([0, 3])), {}, "target", "3"),
    ("nll_loss", (np.zeros((2, 3)), np.array([-1, 0])), {}, "target", "-1"),
    ("categorical_cross_entropy", (np.full((2, 3), 0.5), np.array([0, 3])), {}, "target", "3"),
    # shapes, dtypes, names and settings
    ("binary_cross_entropy", ([0.5, 0.5], [1.0, 0.0, 1.0]), {}, "target", "(3,)"),
    ("binary_cross_entropy_with_logits", ([0.5, 0.5], [1.0, 0.0]),
     {"pos_weight": [1.0, 2.0, 3.0]}, "pos_weight", "(3,)"),
    ("cross_entropy", (np.zeros((2, 3)), np.array([0, 1])), {"weight": [1.0, 2.0]},
     "weight", "(2,)"),
    ("cross_entropy", (np.zeros((2, 2)), np.array([True, False])), {}, "target", "boolean"),
    ("cross_entropy", (np.zeros((2, 2)), [[1.0, 0.0], [0.0, 1.0]]), {"ignore_index": 0},
     "ignore_index", "0"),
    ("categorical_cross_entropy", ([[0.5, 0.5]], [[1.0, 0.0]]), {"ignore_index": 0},
     "ignore_index", "0"),
    ("categorical_cross_entropy", ([[0.5, 0.5]], np.array([0])), {"ignore_index": 0.5},
     "ignore_index", "0.5"),
    ("categorical_cross_entropy", (np.full((2, 3), 0.5), np.array([-1, 0])),
     {"ignore_index": -100}, "target", "-1"),
    ("binary_cross_entropy", ([0.5], [1.0]), {"reduction": "mean_with_sample_weight"},
     "reduction", "'mean_with_sample_weight'"),
    ("nll_loss", (np.zeros((2, 3)), np.array([0, 1])), {"reduction": "avg"}, "reduction",
     "'avg'"),
    ("binary_cross_entropy", ([0.5], [1.0]), {"clip_epsilon": 0.75}, "clip_epsilon", "0.75"),
    ("categorical_cross_entropy", ([[0.5, 0.5]], [[1.0, 0.0]]), {"log_offset": -1e-9},
     "log_offset", "-1e-09"),
    ("categorical_cross_entropy", ([[0.5, 0.5]], [[1.0, 0.0]]), {"renormalize": "yes"},
     "renormalize", "'yes'"),
    # smoothing outside [0, 1] is a value, NaN or an infinity a broken setting
    ("binary_cross_entropy", ([0.5], [1.0]), {"label_smoothing": NAN}, "label_smoothing",
     "nan"),
    ("cross_entropy", (np.zeros((1, 3)), np.array([0])), {"label_smoothing": INF},
     "label_smoothing", "inf"),
]


@pytest.mark.parametrize(("name", "args", "kwargs", "argument", "value"), STRUCTURAL_ERRORS)
def test_validate_false_keeps_the_structural_checks(name, args, kwargs, argument, value):
    _raises(getattr(reference, name), *args, names=argument, value=value, validate=False,
            **kwargs)


@pytest.mark.parametrize(("name", "args", "kwargs", "argument", "value"), DOMAIN_ERRORS)
def test_validate_true_raises_and_false_evaluates(name, args, kwargs, argument, value):
    _raises(getattr(reference, name), *args, names=argument, value=value, validate=True,
            **kwargs)
    result = getattr(reference, name)(*args, validate=False, **kwargs)
    assert np.shape(result) == ()  # a value (finite or NaN: see the cases below), no error
    reference.grad(name, *args, validate=False, **kwargs)


@pytest.mark.parametrize("validate", [0, 1, "no", None])
def test_validate_is_a_boolean(validate):
    for name in reference.LOSSES:
        args = ([[0.0, 0.0]], np.array([0])) if name in ("cross_entropy", "nll_loss") else (
            [[0.5, 0.5]], [[1.0, 0.0]])
        _raises(getattr(reference, name), *args, names="validate", value=repr(validate),
                validate=validate)


def test_gradient_of_invalid_input_raises_too():
    _raises(reference.grad, "binary_cross_entropy", [1.5], [1.0], names="input", value="1.5")
    _raises(reference.grad, "cross_entropy", np.zeros((2, 3)), np.array([0, 3]),
            names="target", value="3")

"""The mpmath twin checked on its own: hand-computed values, its analytic gradients against
``mpmath.diff``, and its precision (an under-precise reference would blame the oracle falsely).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from mpmath import mpf

from reference import mpmath_twin as twin

INF, NAN = math.inf, math.nan


def assert_digits(value, expected, digits=48):
    """``value`` equals ``expected`` to ``digits`` significant digits (or both are 0)."""
    value, expected = mpf(value), mpf(expected)
    assert abs(value - expected) <= abs(expected) * mpf(10) ** -digits, (
        f"{mpmath.nstr(value, 60)} != {mpmath.nstr(expected, 60)}")


def mp_list(array) -> list:
    return [mpf(v) for v in np.asarray(array, dtype=object).flat]


# --- values worked out by hand ------------------------------------------------------------------


def test_hand_computed_values():
    with mpmath.workdps(70):
        log2, log4 = mpmath.log(2), mpmath.log(4)
        # BCE, p = 0.25, y = 1: -log(0.25) = log 4.
        assert_digits(twin.binary_cross_entropy(0.25, 1.0), log4)
        # Smoothed: y_s = (1 - 0.5) * 1 + 0.25 = 0.75: -(0.75 log 0.25 + 0.25 log 0.75).
        assert_digits(twin.binary_cross_entropy(0.25, 1.0, label_smoothing=0.5),
                      -(mpf(0.75) * mpmath.log(0.25) + mpf(0.25) * mpmath.log(0.75)))
        # Logits at 0 with pos_weight 3 and y = 1: 3 softplus(0) = 3 log 2.
        assert_digits(twin.binary_cross_entropy_with_logits(0.0, 1.0, pos_weight=3.0),
                      3 * log2)
        # Uniform over 4 classes: log 4, gradient [0.25, 0.25, 0.25, -0.75] exactly.
        value, g = twin.value_and_grad("cross_entropy", np.zeros(4), np.array(3))
        assert_digits(value, log4)
        assert mp_list(g) == [0.25, 0.25, 0.25, -0.75]
        # nll_loss with weights [1, 2] and targets [0, 1]: (1 log 4 + 2 log 4) / (1 + 2).
        logp = np.log(np.full((2, 2), 0.25))
        assert_digits(twin.nll_loss(logp, np.array([0, 1]), weight=[1.0, 2.0]),
                      -mpf(float(logp[0, 0])))
        # Renormalised categorical, p = [0.25, 0.75], class 0: -log(0.25), gradient [-3, 1].
        value, g = twin.value_and_grad("categorical_cross_entropy", [[0.25, 0.75]],
                                       [[1.0, 0.0]], renormalize=True)
        assert_digits(value, log4)
        assert mp_list(g) == [-3, 1]
        # The smallest subnormal as a probability: -log(2**-1074) = 1074 log 2.
        assert_digits(twin.binary_cross_entropy(5e-324, 1.0), 1074 * log2)
        # A tiny offset on a power of two: -log(0.25 + 2**-300) = log 4 - 4 * 2**-300 (an exact
        # 0.25 + 2**-300 once made mpmath's log drop the log 0.25).
        assert_digits(twin.binary_cross_entropy(0.25, 1.0, log_offset=2.0**-300), log4)


def test_conventions():
    none = {"reduction": "none"}
    # log 0 costs +inf; 0 log 0 = 0.
    assert mp_list(twin.binary_cross_entropy([0.0, 0.0], [1.0, 0.0], **none)) == [INF, 0]
    # Limits at infinite logits.
    assert mp_list(twin.binary_cross_entropy_with_logits([INF, -INF, INF], [1.0, 0.0, 0.0],
                                                         **none)) == [0, 0, INF]
    assert mp_list(twin.cross_entropy([[INF, 0.0], [INF, 0.0]], np.array([0, 1]), **none)) \
        == [0, INF]
    # A zero weight cancels an infinite loss.
    assert_digits(twin.binary_cross_entropy([0.0, 0.5], [1.0, 1.0], weight=[0.0, 1.0],
                                            reduction="sum"), mpmath.log(2), digits=15)
    # NaN only where it touches; an ignored NaN row stays 0.
    z = np.zeros((3, 2))
    z[1, 0] = NAN
    values = mp_list(twin.cross_entropy(z, np.array([0, 0, -100]), ignore_index=-100, **none))
    assert mpmath.isnan(values[1])
    assert values[2] == 0
    assert_digits(values[0], mpmath.log(2), digits=15)
    # Empty means: the value and the gradient are empty_mean and 0 * empty_mean.
    t = np.array([-100, -100])
    value, g = twin.value_and_grad("cross_entropy", np.zeros((2, 3)), t, ignore_index=-100)
    assert mpmath.isnan(value)
    assert all(mpmath.isnan(v) for v in mp_list(g))
    value, g = twin.value_and_grad("cross_entropy", np.zeros((2, 3)), t, ignore_index=-100,
                                   empty_mean=0.0)
    assert value == 0
    assert mp_list(g) == [0] * 6
    # weighted_mean: sum sw_i l_i / sum sw_i, l = [log 2, log 4], sw = [1, 3]: 7/4 log 2; the
    # class weight of a class index is a sample weight: [0, 1] with weight [1, 3] and sw [1, 3]
    # gives (1 + 9) log 2 / (1 + 9) on uniform logits; a zero sum gives empty_mean.
    with mpmath.workdps(70):
        weighted = {"reduction": "weighted_mean", "sample_weight": [1.0, 3.0]}
        assert_digits(twin.binary_cross_entropy([0.5, 0.25], [1.0, 1.0], **weighted),
                      mpf(7) / 4 * mpmath.log(2), digits=15)
        assert_digits(twin.cross_entropy(np.zeros((2, 2)), np.array([0, 1]), weight=[1.0, 3.0],
                                         **weighted), mpmath.log(2), digits=15)
    value, g = twin.value_and_grad("binary_cross_entropy", [0.0, NAN], [1.0, 1.0],
                                   reduction="weighted_mean", sample_weight=[1.0, -1.0],
                                   empty_mean=0.0)
    assert value == 0
    assert mp_list(g) == [0, 0]
    # categorical_cross_entropy's ignore_index: loss 0 and gradient 0 at the ignored NaN row,
    # which leaves the mean's divisor: -log 0.25 / 1; every sample ignored: empty_mean.
    p = np.array([[0.25, 0.75], [NAN, 0.5]])
    value, g = twin.value_and_grad("categorical_cross_entropy", p, np.array([0, 1]),
                                   ignore_index=1)
    assert_digits(value, mpmath.log(4), digits=15)
    assert mp_list(g) == [-4, 0, 0, 0]
    value, g = twin.value_and_grad("categorical_cross_entropy", p, np.array([1, 1]),
                                   ignore_index=1)
    assert mpmath.isnan(value)
    assert all(mpmath.isnan(v) for v in mp_list(g))
    # An exact zero stays exactly zero: p = y gives dl/dp = (p - y) / (p (1 - p)) = 0.
    assert mp_list(twin.grad("binary_cross_entropy", [0.3], [0.3])) == [0]


def test_outside_the_domain():
    # The twin takes validate and ignores it: it always evaluates the formula as written.
    none = {"reduction": "none", "validate": False}
    with mpmath.workdps(70):
        log2 = mpmath.log(2)
        # y = 1.5, p = 0.5: -(1.5 log 0.5 - 0.5 log 0.5) = log 2; d/dp = (p - y) / (p (1 - p))
        # = -1 / 0.25 = -4.
        value, g = twin.value_and_grad("binary_cross_entropy", [0.5], [1.5], **none)
        assert_digits(value[0], log2)
        assert mp_list(g) == [-4]
        # Soft target [1.5, -0.5] on logits [0, 0]: (1.5 - 0.5) log 2 = log 2; gradient
        # softmax * sum(q) - q = [0.5 - 1.5, 0.5 + 0.5] = [-1, 1].
        value, g = twin.value_and_grad("cross_entropy", [0.0, 0.0], [1.5, -0.5], **none)
        assert_digits(mp_list(value)[0], log2)
        assert mp_list(g) == [-1, 1]
        # Class weights [-1, 2], uniform logits, targets [0, 1]: (-log 2 + 2 log 2) / (-1 + 2).
        assert_digits(twin.cross_entropy(np.zeros((2, 2)), np.array([0, 1]),
                                         weight=[-1.0, 2.0]), log2)
        # Smoothing e = 1.5 of y = 1: y_s = -0.5 + 0.75 = 0.25 at x = 0: log 2 again
        # (y_s + (1 - y_s) = 1).
        assert_digits(twin.binary_cross_entropy_with_logits(0.0, 1.0, label_smoothing=1.5),
                      log2)
    # The log of a negative number is NaN, not complex: p = 1.5 has log(1 - p) = log(-0.5).
    value, g = twin.value_and_grad("binary_cross_entropy", [1.5], [1.0], **none)
    assert mpmath.isnan(value[0])
    assert mpmath.isnan(g[0])
    # Renormalised, p = [-0.5, 1.5] has p' = p: NaN at class 0, which every p_k enters.
    value, g = twin.value_and_grad("categorical_cross_entropy", [[-0.5, 1.5]], [[0.0, 1.0]],
                                   renormalize=True, **none)
    assert mpmath.isnan(value[0])
    assert all(mpmath.isnan(v) for v in mp_list(g))
    # A negative sum renormalises with its sign: [-1, -3] is [1/4, 3/4]; class 0: log 4.
    assert_digits(twin.categorical_cross_entropy([[-1.0, -3.0]], [[1.0, 0.0]],
                                                 renormalize=True), mpmath.log(4), digits=15)


# --- analytic gradients against mpmath.diff ------------------------------------------------------

rng = np.random.default_rng(20240601)
Z23 = rng.normal(size=(2, 3))
P23 = rng.uniform(0.05, 0.95, size=(2, 3))
T23 = rng.uniform(0.0, 1.0, size=(2, 3))

GRADIENT_CASES = [
    ("binary_cross_entropy", {"input": P23, "target": T23, "weight": [2.0, 0.5, 1.0],
                              "label_smoothing": 0.1, "clip_epsilon": 1e-3,
                              "log_offset": 1e-7, "log_clamp": -100.0}),
    ("binary_cross_entropy", {"input": P23, "target": T23, "average_last_axis": True,
                              "sample_weight": [3.0, 0.25], "reduction": "sum_over_batch_size"}),
    ("binary_cross_entropy_with_logits", {"input": Z23, "target": T23,
                                          "pos_weight": [2.0, 0.5, 1.0], "weight": [[1.5], [2.0]],
                                          "label_smoothing": 0.2}),
    ("binary_cross_entropy_with_logits", {"input": 30 * Z23, "target": T23, "reduction": "none",
                                          "sample_weight": [[1.0, 2.0, 3.0], [0.5, 0.5, 0.5]]}),
    ("cross_entropy", {"input": Z23, "target": np.array([2, 0]), "weight": [1.0, 2.0, 0.5],
                       "label_smoothing": 0.3}),
    ("cross_entropy", {"input": Z23, "target": T23, "weight": [1.0, 2.0, 0.5],
                       "reduction": "sum", "sample_weight": [2.0, 0.5]}),
    ("cross_entropy", {"input": rng.normal(size=(2, 3, 2)), "target": np.array([[0, 2], [1, 1]]),
                       "ignore_index": 1}),
    ("nll_loss", {"input": -P23, "target": np.array([1, 2]), "weight": [1.0, 2.0, 0.5]}),
    ("categorical_cross_entropy", {"input": P23, "target": T23, "renormalize": True,
                                   "clip_epsilon": 1e-3, "label_smoothing": 0.1}),
    ("categorical_cross_entropy", {"input": P23, "target": T23, "renormalize": True,
                                   "log_offset": 1e-2, "axis": 0, "reduction": "none"}),
    ("categorical_cross_entropy", {"input": P23, "target": np.array([1, 0]),
                                   "log_offset": 1e-9, "reduction": "sum"}),
    # the weighted average of "weighted_mean", and categorical_cross_entropy's ignore_index
    # through the renormalisation and the clip
    ("binary_cross_entropy", {"input": P23, "target": T23, "average_last_axis": True,
                              "sample_weight": [3.0, 0.25], "reduction": "weighted_mean"}),
    ("cross_entropy", {"input": Z23, "target": T23, "weight": [1.0, 2.0, 0.5],
                       "reduction": "weighted_mean", "sample_weight": [2.0, 0.5]}),
    ("categorical_cross_entropy", {"input": P23, "target": np.array([1, 0, 1]),
                                   "axis": 0, "ignore_index": 0, "renormalize": True,
                                   "clip_epsilon": 0.2, "reduction": "weighted_mean",
                                   "sample_weight": [2.0, 0.5, 1.5]}),
    # outside the domain (validate=False): targets in [-1, 2], signed weights, smoothing
    # outside [0, 1], probabilities above 1 (clipped, or renormalised back below 1)
    ("binary_cross_entropy", {"input": P23, "target": 3 * T23 - 1, "label_smoothing": -0.3,
                              "weight": [2.0, -0.5, 1.0], "log_offset": 1e-7,
                              "validate": False}),
    ("binary_cross_entropy_with_logits", {"input": Z23, "target": 3 * T23 - 1,
                                          "pos_weight": [-2.0, 0.5, 1.0],
                                          "label_smoothing": 1.4, "validate": False}),
    ("cross_entropy", {"input": Z23, "target": 3 * T23 - 1, "weight": [1.0, -2.0, 0.5],
                       "label_smoothing": -0.2, "validate": False}),
    ("nll_loss", {"input": P23, "target": np.array([1, 2]), "weight": [1.0, -2.0, 0.5],
                  "sample_weight": [1.0, -0.5], "validate": False}),
    ("binary_cross_entropy_with_logits", {"input": Z23, "target": T23,
                                          "sample_weight": [[1.0, -2.0, 0.5], [3.0, 1.0, -1.0]],
                                          "reduction": "weighted_mean", "validate": False}),
    ("categorical_cross_entropy", {"input": P23 + 0.5, "target": 3 * T23 - 1,
                                   "renormalize": True, "label_smoothing": 1.2,
                                   "validate": False}),
    ("categorical_cross_entropy", {"input": P23 + 0.5, "target": 3 * T23 - 1,
                                   "clip_epsilon": 1e-3, "log_offset": 1e-2,
                                   "validate": False}),
]


def _case_id(case):
    name, args = case
    return name + "-" + "-".join(k for k in args if k not in ("input", "target"))


@pytest.mark.parametrize("case", GRADIENT_CASES, ids=[_case_id(c) for c in GRADIENT_CASES])
def test_gradients_match_numerical_differentiation(case, monkeypatch):
    name, args = case
    wrts = ["input"] + (["target"] if np.asarray(args["target"]).dtype.kind == "f" else [])
    analytic = {wrt: twin.grad(name, wrt=wrt, **args) for wrt in wrts}
    # The loss is evaluated at points that are not float64 numbers: give it enough digits that
    # the finite differences of mpmath.diff (at 40 digits) do not eat its precision.
    monkeypatch.setattr(twin, "DPS", 90)
    for wrt in wrts:
        point = np.asarray(args[wrt], dtype=np.float64)
        for index in np.ndindex(point.shape):
            def loss_at(t, index=index, point=point, wrt=wrt):
                moved = np.array([mpf(v) for v in point.flat], dtype=object).reshape(point.shape)
                moved[index] = t
                value = twin.evaluate(name, **{**args, wrt: moved})["value"]
                return mpmath.fsum(np.asarray(value, dtype=object).flat)  # "none": the sum
            with mpmath.workdps(40):
                numerical = mpmath.diff(loss_at, mpf(float(point[index])))
            exact = analytic[wrt][index]
            assert abs(numerical - exact) <= mpf(10) ** -30 * (1 + abs(numerical)), (
                f"{name} d/d{wrt}{list(index)}: analytic {mpmath.nstr(exact, 30)}, "
                f"numerical {mpmath.nstr(numerical, 30)}")


# --- precision ----------------------------------------------------------------------------------


def test_precision_is_fifty_digits_and_local():
    assert twin.DPS == 50
    before = mpmath.mp.dps
    twin.cross_entropy(Z23, np.array([0, 1]))
    assert mpmath.mp.dps == before  # the twin changes the precision only inside its calls
    # 50 digits really: the result agrees with closed forms far beyond float64's 17 digits.
    with mpmath.workdps(100):
        assert_digits(twin.binary_cross_entropy(0.3, 1.0), -mpmath.log(mpf(0.3)), digits=48)
        z0, z1 = mpf(float(Z23[0, 0])), mpf(float(Z23[0, 1]))
        exact = mpmath.log(mpmath.exp(z0) + mpmath.exp(z1)) - z1
        assert_digits(twin.cross_entropy(Z23[0, :2], np.array(1)), exact, digits=48)


@pytest.mark.parametrize(
    ("name", "args", "wrt", "exact"),
    [
        # Logits 0 and -1e-300 with target [1/2, 1/2]: d/dz = softmax - 1/2 = +-tanh(d/2)/2,
        # 2.5e-301: the rounded exponentials at 50 and 70 digits agree on a wrong 0 unless the
        # gradient is arranged as (sum A - C A_k) + (M_k sum A - A_k sum M), M = expm1(z - m).
        ("cross_entropy", {"input": [0.0, -1e-300], "target": [0.5, 0.5]}, "input",
         lambda: [mpmath.tanh(mpf(1e-300) / 2) / 2, -mpmath.tanh(mpf(1e-300) / 2) / 2]),
        # Logits 0 and -200: -log softmax_0 = log1p(e^-200) = 1.4e-87 (log Z of a rounded Z is 0).
        ("cross_entropy", {"input": [0.0, -200.0], "target": np.array(0)}, "value",
         lambda: mpmath.log1p(mpmath.exp(-200))),
        # pos_weight * softplus(-x) - softplus(x) at x = -6.6e289 with pos_weight 1.7e-184:
        # pos_weight * |x| = 1.1e106, far below the terms' 6.6e289.
        ("binary_cross_entropy_with_logits",
         {"input": [-6.615436338797684e289], "target": [0.5],
          "pos_weight": [1.7030527221260487e-184], "reduction": "sum"}, "target",
         lambda: [mpf(1.7030527221260487e-184) * mpf(6.615436338797684e289)]),
        # Tiny logit, y_s = 1/2: (1 - y_s) sigmoid(x) - y_s sigmoid(-x) = tanh(x/2)/2 = 2.5e-151.
        ("binary_cross_entropy_with_logits",
         {"input": [1e-150], "target": [1.0], "label_smoothing": 1.0, "reduction": "sum"},
         "input", lambda: [mpmath.tanh(mpf(1e-150) / 2) / 2]),
        # Smoothing by e = 2**-1074 moves y = 1 - 2**-53 by e (y - 1/2): p = y is then off
        # the smoothed target by 2**-1075 (1 - 2**-52), which 50 digits alone cannot see.
        ("binary_cross_entropy",
         {"input": [1 - 2**-53], "target": [1 - 2**-53], "label_smoothing": 5e-324,
          "reduction": "sum"}, "input",
         lambda: [(mpf(2) ** -1074 * (mpf(1) / 2 - mpf(2) ** -53))
                  / ((1 - mpf(2) ** -53) * mpf(2) ** -53)]),
    ],
)
def test_cancellations_are_resolved(name, args, wrt, exact):
    result = twin.evaluate(name, **args)
    got = result["value"] if wrt == "value" else result[wrt]
    with mpmath.workdps(80):
        expected = exact()
        if wrt == "value":
            assert_digits(got, expected, digits=30)
        else:
            for g, e in zip(mp_list(got), expected, strict=True):
                assert_digits(g, e, digits=30)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("binary_cross_entropy", {"input": [5e-324, 1 - 2**-53, 0.5, 1.0],
                                  "target": [1.0, 1 - 2**-53, 1e-300, 0.0],
                                  "label_smoothing": 5e-324, "log_offset": 1e-9,
                                  "clip_epsilon": (1e-300, 1 - 2**-53), "reduction": "sum"}),
        ("binary_cross_entropy_with_logits", {"input": [1e-300, -1e300, 36.7, -745.2],
                                              "target": [0.5, 1.0, 1e-300, 0.0],
                                              "pos_weight": [1.0, 1e-300, 2.0, 1e300],
                                              "reduction": "mean"}),
        ("cross_entropy", {"input": [[-1e-100, 0.0, 1e-100], [0.0, -745.2, 1e300]],
                           "target": [[1.0, 1.0, 1.0], [1e-300, 0.5, 0.0]],
                           "label_smoothing": 1e-300}),
        ("cross_entropy", {"input": [[0.0, 0.0, -INF], [INF, 1.0, 2.0]],
                           "target": np.array([0, 2]), "weight": [1e-300, 1.0, 1e300]}),
        ("categorical_cross_entropy", {"input": [[5e-324, 1.0, 0.25], [1e-300, 1e-300, 1e-300]],
                                       "target": [[0.5, 0.5, 1e-300], [1.0, 0.0, 0.5]],
                                       "renormalize": True, "log_offset": 1e-9}),
        # Outside the domain: terms of opposite signs that cancel to a tiny or a zero result
        # (y = 1/2 + d with e = 2: y_s = -d; targets [1, -1] on equal logits: exactly 0).
        ("binary_cross_entropy", {"input": [0.5, 1e-300, 0.75], "target": [0.5 + 1e-17, 3.0,
                                                                          -2.0],
                                  "label_smoothing": 2.0, "reduction": "none",
                                  "validate": False}),
        ("cross_entropy", {"input": [[1e-300, 0.0], [0.0, -1e-300]],
                           "target": [[1.0, -1.0], [1.0, -1.0 + 2**-52]],
                           "weight": [1e300, 1e300], "reduction": "none", "validate": False}),
    ],
    ids=["bce", "bce_logits", "ce_probabilities", "ce_indices", "categorical",
         "bce_outside", "ce_outside"],
)
def test_fifty_digits_agree_with_two_hundred_fifty(name, args, monkeypatch):
    # Extreme inputs, where a careless formula loses far more than 33 of its 50 digits.
    low = twin.evaluate(name, **args)
    monkeypatch.setattr(twin, "DPS", 250)
    high = twin.evaluate(name, **args)
    for key in ("value", "losses", "input", "target"):
        if low[key] is None:  # no target gradient for class indices
            continue
        for a, b in zip(np.asarray(low[key], dtype=object).flat,
                        np.asarray(high[key], dtype=object).flat, strict=True):
            if mpmath.isnan(b) or mpmath.isinf(b):
                assert a == b or (mpmath.isnan(a) and mpmath.isnan(b)), (key, a, b)
            else:
                assert abs(a - b) <= abs(b) * mpf(2) ** -80 + mpf(2) ** -1100, (key, a, b)

"""``reference.jvp`` and ``reference.hvp`` against the mpmath twin, normwise.

The error of a jvp element is ``|oracle - exact| / ulp(sum_k |g_k t_k|)`` over the terms of that
output element; the error of an hvp element is ``|oracle - exact| / ulp(scale)`` with the scale
``|H| |v|`` taken term by term (the twin's; ``reference.terms.hvp_terms`` is checked against it).
This is the normwise error: an element that cancels is judged against the size of its terms,
which is what its rounding errors are relative to. Bound: 2 ulp. NaN against NaN and equal
infinities are exact, as in ``test_oracle_accuracy``, whose helpers and draws are reused.

The twin's closed forms are themselves checked against central differences of the oracle's
gradient and value (``test_twin_against_finite_differences``), so a wrong sign or a missing
factor in a derivation fails there, and a wrong oracle fails against the twin.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_oracle_accuracy import (
    IN_DOMAIN,
    LOG_PROBABILITIES,
    LOGITS,
    PROBABILITIES_OR_NAN,
    SMOOTHING,
    WEIGHTS,
    _defined_renormalised_gradient,
    arrays,
    draw_binary_cross_entropy,
    draw_binary_cross_entropy_with_logits,
    draw_class_shape,
    draw_class_target,
    draw_reduction,
    ulp,
)

import reference as oracle
from reference import mpmath_twin as twin
from reference import terms

BOUND = 2  # ulp, normwise
DIRECTIONS = st.one_of(st.floats(-4, 4), st.sampled_from([0.0, 1.0, -1.0, 5e-324, -1e-300,
                                                          1e100]))
FEW = settings(max_examples=30)


def normwise_error(observed: float, exact, scale) -> float:
    """|observed - exact| / ulp(scale); 0 for matching NaNs or infinities."""
    observed = float(observed)
    if math.isnan(observed) or mpmath.isnan(exact):
        return 0.0 if math.isnan(observed) and mpmath.isnan(exact) else math.inf
    if mpmath.isinf(exact):
        return 0.0 if observed == exact else math.inf
    if math.isinf(observed):
        return 0.0 if abs(exact) > mpmath.mpf(np.finfo(float).max) and (
            (observed > 0) == (exact > 0)) else math.inf
    return float(abs(mpmath.mpf(observed) - exact) / ulp(scale))


def compare(ulp_record, name, check, call, observed, exact, scale, mask=None) -> float:
    """Record the normwise errors of ``observed`` and fail beyond the bound; the worst."""
    observed = np.asarray(observed, dtype=np.float64)
    exact = exact if isinstance(exact, np.ndarray) else np.array(exact, dtype=object)
    scale = scale if isinstance(scale, np.ndarray) else np.array(scale, dtype=object)
    assert observed.shape == exact.shape, f"{call}: shape {observed.shape}, not {exact.shape}"
    errors = [(normwise_error(observed[i], exact[i], scale[i]), i)
              for i in np.ndindex(observed.shape) if mask is None or mask[i]]
    ulp_record.add(name, check, [e for e, _ in errors], BOUND)
    worst, where = max(errors, default=(0.0, ()))
    assert worst <= BOUND, (
        f"{call}: {check}[{where}] = {observed[where]!r}, exact {mpmath.nstr(exact[where], 20)} "
        f"(terms {mpmath.nstr(scale[where], 5)}): {worst:.3g} ulp normwise, over {BOUND}")
    return worst


FLOAT64_MAX = mpmath.mpf(float(np.finfo(np.float64).max))


def _map_bool(f, values) -> np.ndarray:
    values = values if isinstance(values, np.ndarray) else np.array(values, dtype=object)
    out = np.zeros(values.shape, dtype=bool)
    for i in np.ndindex(values.shape):
        out[i] = bool(f(values[i]))
    return out


def _sample_mask(mask, name, args):
    """The per-sample mask of a jvp with reduction="none" from an element mask (all its
    elements defined)."""
    if mask is None:
        return None
    axis = twin._sample_axis(name, mask.shape, args)
    return mask if axis is None else np.all(mask, axis=axis)


def run_derivative_checks(ulp_record, name, args, data=None, mask=None, direction=None,
                          reductions=None, targets=None):
    """jvp (wrt input; wrt soft targets where the loss has them; with the drawn reduction and
    with "none") and hvp, with ``hvp_terms`` against the twin's scale."""
    shape = np.shape(args["input"])
    if direction is None:
        direction = data.draw(arrays(shape, DIRECTIONS), label="direction")
    call = f"reference.hvp({name!r}, ...)"
    exact = twin.evaluate_hvp(name, **args, vector=direction)
    observed = oracle.hvp(name, **args, vector=direction)
    compare(ulp_record, name, "hvp (normwise)", call, observed, exact["hvp"], exact["scale"],
            mask)
    scale = terms.hvp_terms(name, **args, vector=direction)
    defined = ~np.isnan(observed) & (True if mask is None else mask)
    assert np.all(scale[defined] >= np.abs(observed[defined])), f"{call}: hvp_terms < |hvp|"
    assert np.all(np.isfinite(scale[np.isfinite(observed) & defined])), call
    compare(ulp_record, name, "hvp_terms", f"reference.terms.hvp_terms({name!r}, ...)", scale,
            exact["scale"], exact["scale"], mask)

    if targets is None:
        targets = ["input"]
        if np.asarray(args["target"]).dtype.kind == "f":
            targets.append("target")
    for wrt in targets:
        tangent = direction if wrt == "input" else np.flip(direction)
        for reduction in reductions or dict.fromkeys([args["reduction"], "none"]):
            case = {**args, "reduction": reduction}
            call = f"reference.jvp({name!r}, ..., reduction={reduction!r}, wrt={wrt!r})"
            exact = twin.evaluate_jvp(name, **case, tangent=tangent, wrt=wrt)
            observed = oracle.jvp(name, **case, tangent=tangent, wrt=wrt)
            m = None
            if mask is not None and wrt == "input":
                m = np.all(mask) if reduction != "none" else _sample_mask(mask, name, case)
            # jvp is built from the float64 gradient: where an element of the gradient is
            # beyond float64's range (weights near 1e300 squared), it is left out
            within = _map_bool(lambda g: g <= FLOAT64_MAX, exact["gradient"])
            m = within if m is None else m & within
            compare(ulp_record, name, f"jvp wrt {wrt} (normwise)", call, observed,
                    exact["jvp"], exact["scale"], m)


# --- drawn cases --------------------------------------------------------------------------------


@FEW
@given(data=st.data())
def test_binary_cross_entropy(data, ulp_record):
    args = draw_binary_cross_entropy(data, IN_DOMAIN)
    run_derivative_checks(ulp_record, "binary_cross_entropy", args, data)


@FEW
@given(data=st.data())
def test_binary_cross_entropy_with_logits(data, ulp_record):
    args = draw_binary_cross_entropy_with_logits(data, IN_DOMAIN)
    args["probability_clip"] = data.draw(st.sampled_from([None, 1e-7, 0.3]), label="clip")
    run_derivative_checks(ulp_record, "binary_cross_entropy_with_logits", args, data)


def _small_class_shape(data, layouts):
    shape = draw_class_shape(data, layouts)
    return shape if shape[-1] <= 6 or len(shape) > 2 else (*shape[:-1], 7)


@FEW
@given(data=st.data())
def test_cross_entropy(data, ulp_record):
    shape = _small_class_shape(data, ["(C,)", "(N, C)", "(N, C, d1, d2)"])
    class_axis = 0 if len(shape) == 1 else 1
    target, ignore_index = draw_class_target(data, shape, class_axis, ignore=True)
    args = {
        "input": data.draw(arrays(shape, LOGITS), label="input"),
        "target": target,
        "weight": data.draw(st.none() | arrays((shape[class_axis],), WEIGHTS), label="weight"),
        "ignore_index": ignore_index,
        "label_smoothing": data.draw(SMOOTHING, label="label_smoothing"),
        **draw_reduction(data, shape[:class_axis] + shape[class_axis + 1:]),
    }
    run_derivative_checks(ulp_record, "cross_entropy", args, data)


@FEW
@given(data=st.data())
def test_nll_loss(data, ulp_record):
    shape = _small_class_shape(data, ["(C,)", "(N, C)"])
    class_axis = 0 if len(shape) == 1 else 1
    sample_shape = shape[:class_axis] + shape[class_axis + 1:]
    args = {
        "input": data.draw(arrays(shape, LOG_PROBABILITIES), label="input"),
        "target": data.draw(arrays(sample_shape, st.integers(0, shape[class_axis] - 1),
                                   np.int64), label="target"),
        "weight": data.draw(st.none() | arrays((shape[class_axis],), WEIGHTS), label="weight"),
        "ignore_index": None,
        **draw_reduction(data, sample_shape),
    }
    run_derivative_checks(ulp_record, "nll_loss", args, data)


@pytest.mark.parametrize("renormalize", [False, True, "after_clip"])
@FEW
@given(data=st.data())
def test_categorical_cross_entropy(renormalize, data, ulp_record):
    shape = _small_class_shape(data, ["(C,)", "(N, C)", "(N, C, d1, d2)"])
    class_axis = len(shape) - 1 if len(shape) != 4 else 1
    target, ignore_index = draw_class_target(data, shape, class_axis, ignore=True)
    args = {
        "input": data.draw(arrays(shape, PROBABILITIES_OR_NAN), label="input"),
        "target": target,
        "label_smoothing": data.draw(SMOOTHING, label="label_smoothing"),
        "axis": class_axis,
        "ignore_index": ignore_index,
        "clip_epsilon": data.draw(st.sampled_from([None, 1e-7, 0.0, 0.1, (0.05, 0.6)]),
                                  label="clip_epsilon"),
        "log_offset": data.draw(st.sampled_from([0.0, 1e-7, 0.25]), label="log_offset"),
        "renormalize": renormalize,
        **draw_reduction(data, shape[:class_axis] + shape[class_axis + 1:]),
    }
    run_derivative_checks(ulp_record, "categorical_cross_entropy", args, data,
                          mask=_open_rows(args, class_axis))


def _open_rows(args, class_axis):
    """Rows the oracle leaves open (see ``test_oracle_accuracy._defined_renormalised_gradient``:
    with renormalisation and no offset, a zero probability at a class of positive mass): masked
    out. ``after_clip`` with a zero lower bound is the same."""
    if args["renormalize"] == "after_clip":
        args = {**args, "renormalize": True}
    return _defined_renormalised_gradient(args, class_axis)


# --- the extremes, one by one ---------------------------------------------------------------------

INF, NAN = math.inf, math.nan
EXTREMES = [
    ("cross_entropy", {"input": np.array([[INF, 0.0, -INF], [INF, INF, 0.0], [-INF, -INF, -INF],
                                          [1e300, -1e300, 0.0], [NAN, 0.0, 1.0]]),
                       "target": np.array([0, 1, 2, 2, 1]), "reduction": "none"}),
    ("cross_entropy", {"input": np.array([[INF, 0.0, -INF], [1.0, 2.0, 3.0]]),
                       "target": np.array([[0.2, 0.3, 0.5], [1.0, 0.0, 0.0]]),
                       "label_smoothing": 1.0, "reduction": "mean"}),
    ("cross_entropy", {"input": np.array([[0.5, 1.0, NAN], [1.0, 2.0, 3.0]]),
                       "target": np.array([-100, 1]), "ignore_index": -100,
                       "weight": np.array([0.0, 2.0, 1.0]), "sample_weight": np.array([3.0, 0.0]),
                       "reduction": "weighted_mean"}),
    ("cross_entropy", {"input": np.zeros((0, 4)), "target": np.zeros(0, np.int64),
                       "reduction": "mean"}),
    ("cross_entropy", {"input": np.zeros((2, 3)), "target": np.array([-1, -1]),
                       "ignore_index": -1, "reduction": "mean", "empty_mean": 0.0}),
    ("binary_cross_entropy", {"input": np.array([0.0, 1.0, 5e-324, 1 - 2**-53, 0.0, 1.0, 0.5]),
                              "target": np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5]),
                              "reduction": "none"}),
    ("binary_cross_entropy", {"input": np.array([0.0, 1e-50, 1 - 1e-9, 0.3]),
                              "target": np.array([1.0, 1.0, 0.0, 0.5]), "log_clamp": -100.0,
                              "reduction": "sum"}),
    ("binary_cross_entropy", {"input": np.array([0.0, 1e-20, 1 - 1e-9, 0.3, 1.0]),
                              "target": np.array([1.0, 1.0, 0.0, 0.5, 0.0]),
                              "gradient_floor": 1e-12, "reduction": "sum"}),
    ("binary_cross_entropy", {"input": np.array([0.0, 1e-20, 0.3, 1.0, 1.0]),
                              "target": np.array([1.0, 1.0, 0.3, 0.0, 1.0]),
                              "gradient_floor": 0.0, "reduction": "none"}),
    ("binary_cross_entropy", {"input": np.array([[0.0, 1e-9, 0.5], [1.0, 0.99, 5e-324]]),
                              "target": np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0]]),
                              "clip_epsilon": 1e-7, "log_offset": 1e-9, "label_smoothing": 1.0,
                              "average_last_axis": True, "reduction": "none"}),
    ("binary_cross_entropy", {"input": np.zeros((0, 3)), "target": np.zeros((0, 3)),
                              "reduction": "mean"}),
    ("binary_cross_entropy_with_logits",
     {"input": np.array([INF, -INF, 1e300, -1e300, 0.0, 40.0, -745.2, NAN]),
      "target": np.array([1.0, 0.0, 0.5, 1.0, 0.25, 0.0, 1.0, 1.0]),
      "pos_weight": np.array([3.0]), "weight": np.array([2.0, 0.0, 1.0, 1.0, 1.0, 1.0, 1.0,
                                                         1.0]), "reduction": "none"}),
    ("binary_cross_entropy_with_logits",
     {"input": np.array([[INF, -20.0, 0.0], [-INF, 20.0, 3.0]]),
      "target": np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 1.0]]), "probability_clip": 1e-7,
      "label_smoothing": 0.1, "average_last_axis": True, "sample_weight": np.array([0.0, 2.0]),
      "reduction": "weighted_mean"}),
    ("nll_loss", {"input": np.array([[-INF, 0.0], [NAN, -1.0], [-1.0, -2.0]]),
                  "target": np.array([0, 0, 1]), "reduction": "sum"}),
    ("categorical_cross_entropy", {"input": np.array([[0.0, 1.0, 0.0], [5e-324, 0.5, 0.5],
                                                      [0.2, 0.3, 0.5]]),
                                   "target": np.array([1, 0, 2]), "reduction": "none"}),
    ("categorical_cross_entropy", {"input": np.array([[0.0, 1.0, 0.0], [5e-324, 0.5, 0.5],
                                                      [0.2, 0.3, 0.5]]),
                                   "target": np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0],
                                                       [0.1, 0.2, 0.7]]),
                                   "renormalize": True, "clip_epsilon": 1e-7,
                                   "reduction": "sum"}),
    ("categorical_cross_entropy", {"input": np.array([[1e-300, 0.6, 0.0], [0.25, 0.25, 0.5]]),
                                   "target": np.array([0, 2]), "renormalize": "after_clip",
                                   "clip_epsilon": 0.1, "log_offset": 1e-9,
                                   "reduction": "mean"}),
    ("categorical_cross_entropy", {"input": np.array([[0.5, 0.3, 0.2], [NAN, 0.5, 0.5]]),
                                   "target": np.array([0, 2]), "ignore_index": 2,
                                   "renormalize": True, "reduction": "none"}),
]


@pytest.mark.parametrize(("name", "args"), EXTREMES,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(EXTREMES)])
def test_extremes(name, args, ulp_record):
    full = {**oracle.LOSS_SPECS[name].defaults, **args}
    direction = np.linspace(-1.5, 2.0, np.size(args["input"])).reshape(np.shape(args["input"]))
    run_derivative_checks(ulp_record, name, full, direction=direction)


MANY = 32_000


@pytest.mark.parametrize("name", ["cross_entropy", "categorical_cross_entropy"])
def test_many_classes(name, ulp_record):
    """One sample of 32 000 classes: the hvp's sums over the class axis (p.v, S, sum v)."""
    rng = np.random.default_rng(32_000)
    if name == "cross_entropy":
        args = {"input": rng.uniform(-30, 30, (1, MANY)), "target": np.array([17]),
                "label_smoothing": 0.1}
        args["input"][0, 123] = 40.0
    else:
        args = {"input": rng.uniform(0, 1, (1, MANY)), "target": np.array([3]),
                "renormalize": True, "clip_epsilon": 1e-7, "log_offset": 1e-9}
    full = {**oracle.LOSS_SPECS[name].defaults, **args}
    # hvp only: the twin's gradient of 32 000 classes (for a jvp) costs ten seconds more
    run_derivative_checks(ulp_record, name, full, direction=rng.normal(size=(1, MANY)),
                          reductions=[], targets=[])


# --- the twin's derivations against finite differences -----------------------------------------

REGULAR = [
    ("binary_cross_entropy", {"label_smoothing": 0.2, "weight": [1.0, 2.0, 0.5],
                              "average_last_axis": True, "sample_weight": [2.0, 1.0],
                              "reduction": "mean"}),
    ("binary_cross_entropy", {"log_offset": 0.05, "gradient_floor": 1e-3, "reduction": "sum"}),
    ("binary_cross_entropy", {"gradient_floor": 0.3, "reduction": "sum"}),
    ("binary_cross_entropy_with_logits", {"pos_weight": [3.0, 1.0, 0.5], "label_smoothing": 0.1,
                                          "sample_weight": [[1.0, 2.0, 3.0], [0.5, 1.0, 1.0]],
                                          "reduction": "weighted_mean"}),
    ("cross_entropy", {"weight": [1.0, 2.0, 0.5], "label_smoothing": 0.3, "reduction": "mean"}),
    ("cross_entropy", {"target": "probabilities", "weight": [1.0, 2.0, 0.5],
                       "reduction": "sum"}),
    ("nll_loss", {"reduction": "mean"}),
    ("categorical_cross_entropy", {"label_smoothing": 0.1, "log_offset": 0.05,
                                   "reduction": "sum"}),
    ("categorical_cross_entropy", {"renormalize": True, "log_offset": 0.05, "clip_epsilon": 0.15,
                                   "reduction": "sum"}),
    ("categorical_cross_entropy", {"renormalize": "after_clip", "log_offset": 0.05,
                                   "clip_epsilon": 0.2, "label_smoothing": 0.2,
                                   "reduction": "sum"}),
    ("categorical_cross_entropy", {"renormalize": True, "target": "probabilities",
                                   "reduction": "mean"}),
]


@pytest.mark.parametrize(("name", "options"), REGULAR,
                         ids=[f"{name}-{i}" for i, (name, _) in enumerate(REGULAR)])
def test_twin_against_finite_differences(name, options):
    """Central differences of the oracle's gradient (hvp) and value (jvp), at step 1e-6 with
    errors near 1e-10: a sign or a factor wrong in a closed form is off by far more."""
    spec = oracle.LOSS_SPECS[name]
    options = dict(options)
    target_kind = "probabilities" if options.pop("target", None) else None
    args = {**spec.defaults, **spec.example(target_kind), **options}
    if name == "categorical_cross_entropy":
        args["input"] = args["input"] * np.array([1.3, 0.9, 1.1])  # off the simplex: S != 1
    x = args.pop("input")
    v = np.array([[0.7, -1.2, 0.4], [-0.3, 0.9, 1.5]])
    step = 1e-6
    fd = (oracle.grad(name, x + step * v, **args) - oracle.grad(name, x - step * v, **args))
    exact = np.array(twin.hvp(name, x, **args, vector=v), dtype=float)
    assert np.allclose(fd / (2 * step), exact, rtol=1e-6, atol=1e-8), (fd / (2 * step), exact)
    if name == "binary_cross_entropy" and options.get("gradient_floor") == 0.3:
        return  # the floored gradient (PyTorch's backward) is not the value's: jvp follows it
    loss = getattr(oracle, name)
    fd = (loss(x + step * v, **args) - loss(x - step * v, **args)) / (2 * step)
    exact = np.array(twin.jvp(name, x, **args, tangent=v), dtype=float)
    assert np.allclose(fd, exact, rtol=1e-6, atol=1e-8), (fd, exact)


# --- the checks can fail --------------------------------------------------------------------------


def test_a_wrong_result_fails(ulp_record):
    """A flipped sign or a missing factor 2 is far beyond the bound, also normwise."""
    args = {"input": np.array([[0.5, -1.0, 2.0]]), "target": np.array([1]),
            "reduction": "sum"}
    v = np.array([[1.0, 0.5, -0.25]])
    exact = twin.evaluate_hvp("cross_entropy", **args, vector=v)
    good = oracle.hvp("cross_entropy", **args, vector=v)
    # a record of its own, of the fixture's class (tests/conftest.py; "conftest" names
    # tests/adapters/conftest.py too, so it is not imported by name): the wrong results stay
    # out of the table
    record = type(ulp_record)()
    compare(record, "meta", "hvp (normwise)", "good", good, exact["hvp"], exact["scale"])
    for wrong in (-good, 2 * good, good * (1 + 2**-48)):
        with pytest.raises(AssertionError):
            compare(record, "meta", "hvp (normwise)", "wrong", wrong, exact["hvp"],
                    exact["scale"])


def test_hvp_is_with_respect_to_the_input_only():
    with pytest.raises(oracle.OracleInputError, match="with respect to the input only"):
        oracle.hvp("cross_entropy", np.zeros((1, 3)), np.array([[0.2, 0.3, 0.5]]),
                   vector=np.ones((1, 3)), wrt="target")


def test_shapes():
    x, t = np.zeros((2, 3, 4)), np.zeros((2, 4), np.int64)
    assert oracle.jvp("cross_entropy", x, t, reduction="none", tangent=x).shape == (2, 4)
    assert np.ndim(oracle.jvp("cross_entropy", x, t, tangent=x)) == 0
    assert oracle.hvp("cross_entropy", x, t, vector=x).shape == x.shape
    assert np.ndim(oracle.jvp("cross_entropy", np.zeros(3), np.int64(1), reduction="none",
                              tangent=np.ones(3))) == 0
    assert oracle.jvp("binary_cross_entropy", np.full((2, 3), 0.5), np.ones((2, 3)),
                      reduction="none", average_last_axis=True,
                      tangent=np.ones((2, 3))).shape == (2,)
    with pytest.raises(oracle.OracleInputError, match="tangent"):
        oracle.jvp("cross_entropy", x, t, tangent=np.ones(3))

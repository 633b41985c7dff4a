"""The oracle against its 50-digit mpmath twin: one hypothesis test per public function.

Every example draws inputs from regular values and from the extremes (logits up to +-1e300 and
+-inf, probabilities from subnormals up to 1 - 2**-53, exact 0 and 1, a NaN now and then), draws
every option of the function, and checks:

    value-none       each per-sample loss, reduction="none"              within 1 ulp
    value-reduced    the drawn reduction ("sum", "mean", ...)            within 2 ulp
    gradient-input   each element of the gradient wrt the input          within 2 ulp
    gradient-target  each element of the gradient wrt soft targets       within 2 ulp

The error of an oracle value is |oracle - exact| / ulp(exact), with ulp(v) = 2**(floor(log2|v|)
- 52) for normal |v| and 2**-1074 below; NaN against NaN and equal infinities count as exact; an
exact value beyond the float64 range must come back as the correctly signed infinity. Weights are
drawn non-negative here, and with any sign by the validate=False tests at the end.

The worst errors per function and check are printed at the end of the run (see conftest.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from mpmath import mpf

import reference as oracle
from reference import mpmath_twin as twin
from reference.specs import REDUCTIONS

BOUNDS = {"value-none": 1, "value-reduced": 2, "gradient-input": 2, "gradient-target": 2}

# --- ulp error ----------------------------------------------------------------------------------

FLOAT64_MAX = mpf(float(np.finfo(np.float64).max))


def ulp(v) -> mpf:
    """The float64 ulp at the exact value ``v``: 2**(floor(log2|v|) - 52), 2**-1074 for
    subnormal |v|; the exponent comes from mpmath, so a huge ``v`` cannot overflow it."""
    if v == 0:
        return mpmath.ldexp(1, -1074)
    _, e = mpmath.frexp(v)  # |v| = m 2**e with m in [0.5, 1): floor(log2|v|) = e - 1
    return mpmath.ldexp(1, min(max(e - 1, -1022), 1023) - 52)


def ulp_error(observed: float, exact) -> float:
    """|observed - exact| / ulp(exact), in ulp; 0 for matching NaNs or infinities."""
    observed = float(observed)
    if math.isnan(observed) or mpmath.isnan(exact):
        return 0.0 if math.isnan(observed) and mpmath.isnan(exact) else math.inf
    if mpmath.isinf(exact):
        return 0.0 if observed == exact else math.inf
    if math.isinf(observed):  # right only for an exact value beyond the float64 range
        return 0.0 if abs(exact) > FLOAT64_MAX and (observed > 0) == (exact > 0) else math.inf
    return float(abs(mpf(observed) - exact) / ulp(exact))


# --- describing a call --------------------------------------------------------------------------


def _literal(value) -> str:
    """Python source for an argument, so a failure message can be pasted into a session."""
    if isinstance(value, np.ndarray):
        if value.size > 64:
            return f"<{value.dtype} array of shape {value.shape}: see the hypothesis draws>"
        body = _nested(value.tolist())
        return f"np.array({body}, dtype=np.{value.dtype})"
    if isinstance(value, float):
        return _float(value)
    return repr(value)


def _nested(x) -> str:
    if isinstance(x, list):
        return "[" + ", ".join(_nested(v) for v in x) + "]"
    return _float(x) if isinstance(x, float) else repr(x)


def _float(v: float) -> str:
    if math.isnan(v):
        return "np.nan"
    if math.isinf(v):
        return "np.inf" if v > 0 else "-np.inf"
    return repr(v)


def describe(name: str, args: dict, wrt: str | None = None) -> str:
    parts = [f"{key}={_literal(value)}" for key, value in args.items()]
    if wrt is None:
        return f"reference.{name}({', '.join(parts)})"
    return f"reference.grad({name!r}, {', '.join(parts)}, wrt={wrt!r})"


# --- checking -----------------------------------------------------------------------------------


def _call(call: str, f, *args, **kwargs):
    try:
        return f(*args, **kwargs)
    except Exception as exc:
        exc.add_note(f"raised by {call}")
        raise


def compare(ulp_record, name: str, check: str, call: str, observed, exact, mask=None,
            slack=None) -> None:
    """Record the ulp errors of ``observed`` against ``exact`` and fail beyond the bound.

    ``slack`` (absolute, per element) is an allowance for sums of terms of both signs (see
    ``cancellation_slack``); the error recorded and checked is the part beyond it."""
    bound = BOUNDS[check]
    observed = np.asarray(observed, dtype=np.float64)
    exact = exact if isinstance(exact, np.ndarray) else np.array(exact, dtype=object)
    assert observed.shape == exact.shape, (
        f"{call} has shape {observed.shape}, but should have shape {exact.shape} ({check})"
    )
    errors = np.zeros(observed.shape)
    for index in np.ndindex(observed.shape):
        if mask is None or mask[index]:
            errors[index] = ulp_error(observed[index], exact[index])
            if slack is not None and mpmath.isfinite(exact[index]):
                allowed = float(slack[index] / ulp(exact[index]))
                errors[index] = max(0.0, errors[index] - allowed)
    ulp_record.add(name, check, [errors[i] for i in np.ndindex(errors.shape)
                                 if mask is None or mask[i]], bound)
    if errors.size and np.max(errors) > bound:
        index = np.unravel_index(np.argmax(errors), errors.shape) if errors.ndim else ()
        what = "gradient" if check.startswith("gradient") else "value"
        where = f"[{', '.join(str(int(i)) for i in index)}]" if index else ""
        raise AssertionError(
            f"{call}: {what}{where} = {observed[index]!r}, but the exact value is "
            f"{mpmath.nstr(exact[index], 20)}; the error is {errors[index]:.3g} ulp, over the "
            f"{bound} ulp bound of {check}."
        )


def run_checks(ulp_record, name: str, args: dict, input_gradient_mask=None) -> None:
    """The four checks of one drawn example; ``args`` holds every argument, reduction included.
    Examples drawn with ``validate=False`` are recorded apart, as "name (validate=False)"."""
    loss = getattr(oracle, name)
    exact = twin.evaluate(name, **args)  # value, per-sample losses and gradients in one go
    none_args = {**args, "reduction": "none"}
    call = describe(name, none_args)
    outside = not args.get("validate", True)
    record = f"{name} (validate=False)" if outside else name
    per_sample, reduced = cancellation_slack(name, args, exact) if outside else (None, None)
    compare(ulp_record, record, "value-none", call, _call(call, loss, **none_args),
            exact["losses"], slack=per_sample)
    if args["reduction"] != "none":
        call = describe(name, args)
        compare(ulp_record, record, "value-reduced", call, _call(call, loss, **args),
                exact["value"], slack=None if reduced is None else np.array(reduced))

    rest = {k: v for k, v in args.items() if k not in ("input", "target")}
    for wrt in ("input", "target"):
        if exact[wrt] is None:  # class-index targets have no gradient
            continue
        call = describe(name, args, wrt)
        observed = _call(call, oracle.grad, name, args["input"], args["target"], wrt=wrt, **rest)
        compare(ulp_record, record, f"gradient-{wrt}", call, observed, exact[wrt],
                input_gradient_mask if wrt == "input" else None)


# --- strategies ---------------------------------------------------------------------------------

NAN, INF = math.nan, math.inf
PROBABILITY_EXTREMES = [0.0, 1.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-16, 1e-7, 0.5,
                        1 - 1e-7, 1 - 2**-52, 1 - 2**-53, 0.1, 0.9]
LOGIT_EXTREMES = [0.0, -0.0, 5e-324, -5e-324, 1e-300, -1e-300, 1e-8, -36.7, 36.7, 709.78,
                  -745.2, 1e300, -1e300, 1.7976931348623157e308, -1.7976931348623157e308,
                  INF, -INF]

PROBABILITIES = st.one_of(st.floats(0, 1), st.sampled_from(PROBABILITY_EXTREMES))
PROBABILITIES_OR_NAN = st.one_of(st.floats(0, 1), st.sampled_from([*PROBABILITY_EXTREMES, NAN]))
BINARY_TARGETS = st.one_of(st.sampled_from([0.0, 1.0]), PROBABILITIES)
LOGITS = st.one_of(st.floats(-40, 40), st.floats(allow_nan=False),
                   st.sampled_from([*LOGIT_EXTREMES, NAN]))
LOG_PROBABILITIES = st.one_of(st.floats(-50, 0), st.floats(max_value=0.0, allow_nan=False),
                              st.sampled_from([0.0, -0.0, -5e-324, -1e-300, -100.0, -745.2,
                                               -1e300, -INF, NAN]))
WEIGHTS = st.one_of(st.sampled_from([0.0, 1.0, 2.0, 0.25, 5e-324, 1e300]), st.floats(0, 10),
                    st.floats(0, 1.7976931348623157e308))
SMOOTHING = st.one_of(st.sampled_from([0.0, 1.0, 0.1]), st.floats(0, 1))
CLIP_EPSILONS = st.one_of(
    st.none(),
    st.sampled_from([1e-7, 1e-3, 0.0, 0.5, (1e-7, float(np.float32(1 - 1e-7)))]),
    st.floats(0, 0.5),
    st.tuples(PROBABILITIES, PROBABILITIES).map(lambda pair: tuple(sorted(pair))),
)
LOG_OFFSETS = st.one_of(st.sampled_from([0.0, 1e-7, 1e-9]), st.floats(0, 1))
LOG_CLAMPS = st.one_of(st.none(), st.just(-100.0), st.floats(-1000, 0))
GRADIENT_FLOORS = st.one_of(st.none(), st.sampled_from([1e-12, 0.0]), st.floats(0, 0.25))
EMPTY_MEANS = st.sampled_from([NAN, 0.0])
# Mostly a handful of classes, now and then hundreds. The twin costs ~30 us per class and
# evaluation, and a failing example is replayed hundreds of times while hypothesis shrinks it:
# 50 000 classes are checked by test_many_classes instead, once per loss.
CLASSES = st.sampled_from(["few"] * 40 + ["many"]).flatmap(
    lambda kind: st.integers(1, 6) if kind == "few" else st.sampled_from([257, 1000]))


def arrays(shape, elements, dtype=np.float64):
    return hnp.arrays(dtype, shape, elements=elements)


def broadcasts_to(shape):
    """Shapes that broadcast to ``shape`` without changing it: some leading axes dropped, some
    axes of length 1. (hnp.broadcastable_shapes also gives shapes that *widen* a length-1 axis.)"""
    per_axis = st.tuples(*(st.sampled_from([n, 1]) for n in shape))
    return st.tuples(st.integers(0, len(shape)), per_axis).map(lambda d: d[1][d[0]:])


def weights_for(shape):
    """Non-negative weights, shaped to broadcast to ``shape``."""
    return broadcasts_to(shape).flatmap(lambda s: arrays(s, WEIGHTS))


def draw_reduction(data, sample_shape) -> dict:
    return {
        "reduction": data.draw(st.sampled_from(REDUCTIONS), label="reduction"),
        "sample_weight": data.draw(st.none() | weights_for(sample_shape), label="sample_weight"),
        "empty_mean": data.draw(EMPTY_MEANS, label="empty_mean"),
    }


def draw_class_shape(data, layouts) -> tuple[int, ...]:
    """An input shape from ``layouts`` ("(C,)", "(N, C)", "(N, C, d1, d2)", "(N, d1, C)"); with
    many classes, a single sample."""
    C = data.draw(CLASSES, label="classes")
    if C > 6:  # many classes: a single sample
        return (1, C) if "(N, C)" in layouts else (C,)
    layout = data.draw(st.sampled_from(layouts), label="layout")
    n = data.draw(st.integers(0, 4), label="N")
    if layout == "(C,)":
        return (C,)
    if layout == "(N, C)":
        return (n, C)
    d1, d2 = data.draw(st.tuples(st.integers(0, 3), st.integers(0, 2)), label="d1, d2")
    return (n, C, d1, d2) if layout == "(N, C, d1, d2)" else (n, d1, C)


def draw_class_target(data, shape, class_axis, ignore=False):
    """Class indices (int64, the shape without the class axis) or probabilities (float64)."""
    kind = data.draw(st.sampled_from(["indices", "probabilities"]), label="target kind")
    if kind == "probabilities":
        return data.draw(arrays(shape, PROBABILITIES), label="target"), None
    C = shape[class_axis]
    sample_shape = shape[:class_axis] + shape[class_axis + 1:]
    ignore_index = None
    labels = st.integers(0, C - 1)
    if ignore:
        ignore_index = data.draw(st.sampled_from([None, -100, 0]), label="ignore_index")
        if ignore_index is not None:
            labels = st.one_of(labels, st.just(ignore_index))
    return data.draw(arrays(sample_shape, labels, np.int64), label="target"), ignore_index


# --- the tests ----------------------------------------------------------------------------------

BINARY_SHAPES = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)


@dataclass(frozen=True)
class Domain:
    """Where a binary loss's arrays are drawn from: inside the oracle's domain, or outside it
    (evaluated with ``validate=False``)."""

    probabilities: st.SearchStrategy
    targets: st.SearchStrategy
    smoothing: st.SearchStrategy
    weights_for: Callable[[tuple], st.SearchStrategy]
    draw_reduction: Callable[..., dict]


def draw_binary_cross_entropy(data, domain: Domain) -> dict:
    shape = data.draw(BINARY_SHAPES, label="shape")
    average = len(shape) > 0 and data.draw(st.booleans(), label="average_last_axis")
    return {
        "input": data.draw(arrays(shape, domain.probabilities), label="input"),
        "target": data.draw(arrays(shape, domain.targets), label="target"),
        "weight": data.draw(st.none() | domain.weights_for(shape), label="weight"),
        "label_smoothing": data.draw(domain.smoothing, label="label_smoothing"),
        "clip_epsilon": data.draw(CLIP_EPSILONS, label="clip_epsilon"),
        "log_offset": data.draw(LOG_OFFSETS, label="log_offset"),
        "log_clamp": data.draw(LOG_CLAMPS, label="log_clamp"),
        "gradient_floor": data.draw(GRADIENT_FLOORS, label="gradient_floor"),
        "average_last_axis": average,
        **domain.draw_reduction(data, shape[:-1] if average else shape),
    }


def draw_binary_cross_entropy_with_logits(data, domain: Domain) -> dict:
    shape = data.draw(BINARY_SHAPES, label="shape")
    average = len(shape) > 0 and data.draw(st.booleans(), label="average_last_axis")
    return {
        "input": data.draw(arrays(shape, LOGITS), label="input"),
        "target": data.draw(arrays(shape, domain.targets), label="target"),
        "weight": data.draw(st.none() | domain.weights_for(shape), label="weight"),
        "pos_weight": data.draw(st.none() | domain.weights_for(shape), label="pos_weight"),
        "label_smoothing": data.draw(domain.smoothing, label="label_smoothing"),
        "average_last_axis": average,
        **domain.draw_reduction(data, shape[:-1] if average else shape),
    }


IN_DOMAIN = Domain(PROBABILITIES_OR_NAN, BINARY_TARGETS, SMOOTHING, weights_for, draw_reduction)


@given(data=st.data())
def test_binary_cross_entropy(data, ulp_record):
    run_checks(ulp_record, "binary_cross_entropy", draw_binary_cross_entropy(data, IN_DOMAIN))


@given(data=st.data())
def test_binary_cross_entropy_with_logits(data, ulp_record):
    run_checks(ulp_record, "binary_cross_entropy_with_logits",
               draw_binary_cross_entropy_with_logits(data, IN_DOMAIN))


@given(data=st.data())
def test_cross_entropy(data, ulp_record):
    shape = draw_class_shape(data, ["(C,)", "(N, C)", "(N, C, d1, d2)"])
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
    run_checks(ulp_record, "cross_entropy", args)


@given(data=st.data())
def test_nll_loss(data, ulp_record):
    shape = draw_class_shape(data, ["(C,)", "(N, C)", "(N, C, d1, d2)"])
    class_axis = 0 if len(shape) == 1 else 1
    sample_shape = shape[:class_axis] + shape[class_axis + 1:]
    ignore_index = data.draw(st.sampled_from([None, -100, 0]), label="ignore_index")
    labels = st.integers(0, shape[class_axis] - 1)
    if ignore_index is not None:
        labels = st.one_of(labels, st.just(ignore_index))
    args = {
        "input": data.draw(arrays(shape, LOG_PROBABILITIES), label="input"),
        "target": data.draw(arrays(sample_shape, labels, np.int64), label="target"),
        "weight": data.draw(st.none() | arrays((shape[class_axis],), WEIGHTS), label="weight"),
        "ignore_index": ignore_index,
        **draw_reduction(data, sample_shape),
    }
    run_checks(ulp_record, "nll_loss", args)


@given(data=st.data())
def test_categorical_cross_entropy(data, ulp_record):
    shape = draw_class_shape(data, ["(C,)", "(N, C)", "(N, d1, C)", "(N, C, d1, d2)"])
    # The class axis: the last by default, or named explicitly (also as a negative index).
    class_axis = len(shape) - 1 if len(shape) != 4 else 1
    axis = data.draw(st.sampled_from([class_axis, class_axis - len(shape)]), label="axis")
    target, ignore_index = draw_class_target(data, shape, class_axis, ignore=True)
    args = {
        "input": data.draw(arrays(shape, PROBABILITIES_OR_NAN), label="input"),
        "target": target,
        "label_smoothing": data.draw(SMOOTHING, label="label_smoothing"),
        "axis": axis,
        "ignore_index": ignore_index,
        "clip_epsilon": data.draw(CLIP_EPSILONS, label="clip_epsilon"),
        "log_offset": data.draw(LOG_OFFSETS, label="log_offset"),
        "renormalize": data.draw(st.booleans(), label="renormalize"),
        **draw_reduction(data, shape[:class_axis] + shape[class_axis + 1:]),
    }
    run_checks(ulp_record, "categorical_cross_entropy", args,
               input_gradient_mask=_defined_renormalised_gradient(args, class_axis))


def _defined_renormalised_gradient(args, class_axis):
    """Where the input gradient is defined. With renormalisation, a sample whose unclipped
    probability is exactly 0 at a class of positive target mass has an infinite loss, and the
    derivative of its log(p_j / sum p) with respect to the *other* p_k (finite in the limit,
    NaN by the formula) is left open by the oracle's docstring: such samples are not compared."""
    p = np.asarray(args["input"])
    if not args["renormalize"] or args["log_offset"] != 0:
        return None
    clip = args["clip_epsilon"]
    if clip is not None and (clip if np.ndim(clip) == 0 else clip[0]) > 0:
        return None  # a zero probability is clipped up: the loss stays finite
    e = args["label_smoothing"]
    t = np.asarray(args["target"])
    if t.dtype.kind in "iu":
        ignored = t == args.get("ignore_index")  # gradient 0, defined
        t = np.where(ignored, 0, t)
        t = np.moveaxis(np.eye(p.shape[class_axis])[t], -1, class_axis) if p.size else p
        e = np.expand_dims(np.where(ignored, 0, e), class_axis)
        t = np.where(np.expand_dims(ignored, class_axis), 0, t)
    # (1 - e) t + e / C is not 0 (with validate=False, t and e may have any sign)
    mass = (e != 0) | ((t != 0) & (e != 1))
    open_sample = np.any((p == 0) & mass, axis=class_axis, keepdims=True)
    return np.broadcast_to(~open_sample, p.shape)


MANY = 50_000


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("cross_entropy", {"target": np.array([17]), "weight": "uniform", "reduction": "mean"}),
        ("cross_entropy", {"target": "probabilities", "label_smoothing": 0.1, "reduction": "sum"}),
        ("nll_loss", {"target": np.array([MANY - 1]), "weight": "uniform", "reduction": "mean"}),
        ("categorical_cross_entropy", {"target": np.array([3]), "renormalize": True,
                                       "clip_epsilon": 1e-7, "reduction": "none"}),
    ],
    ids=["cross_entropy-indices", "cross_entropy-probabilities", "nll_loss",
         "categorical_cross_entropy"],
)
def test_many_classes(name, args, ulp_record):
    """One sample of 50 000 classes per loss (too slow for the shrinking hypothesis tests):
    logits spread over [-30, 30] with one large outlier, probabilities from [0, 1]."""
    rng = np.random.default_rng(50_000)
    shape = (1, MANY)
    args = dict(args)
    if name == "cross_entropy":
        args["input"] = rng.uniform(-30, 30, size=shape)
        args["input"][0, 123] = 700.0
    elif name == "nll_loss":
        args["input"] = -rng.exponential(10.0, size=shape)
    else:
        args["input"] = rng.uniform(0, 1, size=shape)
    if isinstance(args.get("target"), str):
        args["target"] = rng.uniform(0, 1, size=shape)
    if isinstance(args.get("weight"), str):
        args["weight"] = rng.uniform(0, 2, size=MANY)
    run_checks(ulp_record, name, args)


# --- the helpers themselves ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("observed", "exact", "expected"),
    [
        (1.0, mpf(1), 0.0),
        (1.0 + 2**-52, mpf(1), 1.0),  # one ulp above 1
        (1.0 - 2**-53, mpf(1), 0.5),  # below 1 the spacing halves, but the ulp is that of 1
        (5e-324, mpf(0), 1.0),  # the smallest subnormal is one ulp of 0
        (0.0, mpf(5e-324) / 2, 0.5),  # subnormal range: ulp 2**-1074
        (math.inf, mpf(10) ** 400, 0.0),  # beyond float64: inf is the right answer
        (1.7976931348623157e308, mpf(10) ** 400, 5.01e107),  # ... and the largest float is not
        (-math.inf, -mpf(10) ** 400, 0.0),
        (math.inf, -mpf(10) ** 400, math.inf),  # wrong sign
        (math.inf, mpf("inf"), 0.0),
        (math.nan, mpf("nan"), 0.0),
        (0.0, mpf("nan"), math.inf),
        (math.nan, mpf(0), math.inf),
        (math.inf, FLOAT64_MAX, math.inf),  # finite exact value: inf is wrong
    ],
)
def test_ulp_error(observed, exact, expected):
    assert ulp_error(observed, exact) == pytest.approx(expected, rel=0.01)


def test_ulp_of_huge_values_does_not_overflow():
    # 10**400 has exponent 1328; the ulp is taken at the top of the float64 range, 2**(1023-52).
    assert ulp(mpf(10) ** 400) == mpmath.ldexp(1, 971)
    assert ulp(mpf(3)) == mpmath.ldexp(1, -51)  # 3 = 1.5 * 2**1


# --- outside the domain (validate=False) --------------------------------------------------------
#
# The same checks on inputs that only validate=False accepts: binary and soft targets in [-2, 3],
# label smoothing in [-0.5, 1.5], probabilities in [-0.5, 1.5] (clipped or not), positive
# log-probabilities, and negative weights of every kind. The terms of a loss then have both
# signs and can cancel. Fewer examples than above: the twin settles such cancellations at
# rising precision, and these tests add no more than a few seconds to the suite.
#
# The oracle recomputes exactly an element or a row whose terms cancel, so per-sample values and
# gradients keep their bounds. A *sum* of per-sample losses of both signs (a reduction, or Keras's
# mean over the last axis) is not recomputed: it is the longdouble sum of per-sample values that
# are each within about 2**-64 of their size, so its error is bounded by (n + 1) 2**-64 sum|L_i|
# plus the final rounding, which is 2 ulp of the result unless the sum cancels by more than about
# 2**9. Signed weights drawn from a continuous range do not come near that;
# test_a_cancelling_sum_keeps_an_absolute_bound builds such a sum.

OUTSIDE = settings(max_examples=max(10, settings.default.max_examples // 4))
OUTSIDE_PROBABILITIES = st.one_of(
    st.floats(-0.5, 1.5), st.sampled_from([-0.5, -5e-324, 0.0, 0.5, 1.0, 1 + 2**-52, 1.5, NAN]))
OUTSIDE_TARGETS = st.one_of(st.floats(-2, 3),
                            st.sampled_from([-2.0, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0]))
OUTSIDE_SMOOTHING = st.one_of(st.floats(-0.5, 1.5), st.sampled_from([-0.5, 0.0, 1.0, 1.5]))
# Keras's NumPy backend clips sigmoid(x) to these bounds (in float64 and float32)
KERAS_CLIPS = st.sampled_from([None, 1e-7, (1e-7, float(np.float32(1 - 1e-7)))])
SIGNED_WEIGHTS = st.one_of(st.floats(-10, 10), st.sampled_from([-2.0, -1.0, 0.0, 1.0, 2.0]))
SIGNED_LOG_PROBABILITIES = st.one_of(st.floats(-50, 50),
                                     st.sampled_from([0.0, 5e-324, 1.0, 100.0, -100.0, NAN]))


def cancellation_slack(name, args, exact):
    """Allowances (per-sample array or None, reduced) for sums of per-sample losses that cancel.

    Outside the domain per-sample losses have both signs, and their sum is not recomputed
    exactly: each term is within 2**-64 of its size, and the longdouble sum of n terms is within
    (n + 1) 2**-64 sum|terms| of the exact one, before the final rounding (which the ulp bound
    covers). That is far below 1 ulp unless the sum cancels by more than about 2**9. The same
    holds for Keras's mean over the last axis (``average_last_axis``), a sum of k elements.
    """
    eps = mpmath.ldexp(1, -64)
    sw = args.get("sample_weight")
    losses = exact["losses"]
    per_sample = None
    if args.get("average_last_axis"):
        elements = twin.evaluate(name, **{**args, "average_last_axis": False, "reduction": "none",
                                          "sample_weight": None})["losses"]
        k = elements.shape[-1]
        scale = np.abs(np.broadcast_to(1.0 if sw is None else sw, losses.shape))
        sizes, per_sample = (np.empty(losses.shape, dtype=object) for _ in range(2))
        for i in np.ndindex(losses.shape):
            sizes[i] = mpf(float(scale[i])) * mpmath.fsum(abs(v) for v in elements[i]) / max(k, 1)
            per_sample[i] = (k + 1) * eps * sizes[i]
    else:
        sizes = np.array([abs(v) for v in np.ravel(losses)], dtype=object)
    n = sizes.size
    divisor = _mean_divisor(name, args, losses.shape)
    if divisor == 0:  # an empty mean: the value is empty_mean, nothing to allow
        return per_sample, mpf(0)
    extra = mpmath.fsum(per_sample.flat) if per_sample is not None else 0
    return per_sample, ((n + 1) * eps * mpmath.fsum(sizes.flat) + extra) / abs(divisor)


def _mean_divisor(name, args, sample_shape):
    """The exact divisor D of the drawn reduction (1 for none and sum): the summed
    ``sample_weight_i * weight[y_i]`` of a class-index "mean" of cross_entropy and nll_loss, the
    summed ``sample_weight_i`` (times that class weight) of "weighted_mean", else the number of
    samples; ignored samples left out (see reference._reduction)."""
    reduction, t = args["reduction"], np.asarray(args["target"])
    if reduction in ("none", "sum"):
        return mpf(1)
    indices = t.dtype.kind in "iu"
    active = (np.ones(sample_shape, dtype=bool) if not indices or args.get("ignore_index") is None
              else t != args["ignore_index"])
    class_weighted = indices and name in ("cross_entropy", "nll_loss")
    if reduction == "sum_over_batch_size" or (reduction == "mean" and not class_weighted):
        return mpf(int(np.count_nonzero(active)))
    sw = args.get("sample_weight")
    scale = np.broadcast_to(1.0 if sw is None else sw, sample_shape)
    w = args.get("weight") if class_weighted else None
    return mpmath.fsum(mpmath.fmul(float(scale[i]), 1 if w is None else float(w[t[i]]),
                                   exact=True)  # summed once, exactly: D can cancel
                       for i in np.ndindex(sample_shape) if active[i])


def signed_weights_for(shape):
    return broadcasts_to(shape).flatmap(lambda s: arrays(s, SIGNED_WEIGHTS))


def draw_signed_reduction(data, sample_shape) -> dict:
    return {
        "reduction": data.draw(st.sampled_from(REDUCTIONS), label="reduction"),
        "sample_weight": data.draw(st.none() | signed_weights_for(sample_shape),
                                   label="sample_weight"),
        "empty_mean": data.draw(EMPTY_MEANS, label="empty_mean"),
        "validate": False,
    }


def draw_outside_class_target(data, shape, class_axis, kind):
    """Class indices (and an ``ignore_index`` that some of them may equal), or soft targets in
    [-2, 3] whose rows need not sum to 1."""
    if kind == "probabilities":
        return data.draw(arrays(shape, OUTSIDE_TARGETS), label="target"), None
    sample_shape = shape[:class_axis] + shape[class_axis + 1:]
    labels = st.integers(0, shape[class_axis] - 1)
    ignore_index = data.draw(st.sampled_from([None, -100, 0]), label="ignore_index")
    if ignore_index is not None:
        labels = st.one_of(labels, st.just(ignore_index))
    return data.draw(arrays(sample_shape, labels, np.int64), label="target"), ignore_index


OUTSIDE_DOMAIN = Domain(OUTSIDE_PROBABILITIES, OUTSIDE_TARGETS, OUTSIDE_SMOOTHING,
                        signed_weights_for, draw_signed_reduction)


@OUTSIDE
@given(data=st.data())
def test_binary_cross_entropy_outside_the_domain(data, ulp_record):
    run_checks(ulp_record, "binary_cross_entropy",
               draw_binary_cross_entropy(data, OUTSIDE_DOMAIN))


@OUTSIDE
@given(data=st.data())
def test_binary_cross_entropy_with_logits_outside_the_domain(data, ulp_record):
    args = draw_binary_cross_entropy_with_logits(data, OUTSIDE_DOMAIN)
    args["probability_clip"] = data.draw(KERAS_CLIPS, label="probability_clip")
    run_checks(ulp_record, "binary_cross_entropy_with_logits", args)


# The target kind is a parameter, not a draw: with this few examples hypothesis's draws of it
# come out far from even.
TARGET_KINDS = pytest.mark.parametrize("kind", ["indices", "probabilities"])


@TARGET_KINDS
@OUTSIDE
@given(data=st.data())
def test_cross_entropy_outside_the_domain(kind, data, ulp_record):
    shape = draw_class_shape(data, ["(C,)", "(N, C)", "(N, C, d1, d2)"])
    class_axis = 0 if len(shape) == 1 else 1
    target, ignore_index = draw_outside_class_target(data, shape, class_axis, kind)
    args = {
        "input": data.draw(arrays(shape, LOGITS), label="input"),
        "target": target,
        "ignore_index": ignore_index,
        "weight": data.draw(st.none() | arrays((shape[class_axis],), SIGNED_WEIGHTS),
                            label="weight"),
        "label_smoothing": data.draw(OUTSIDE_SMOOTHING, label="label_smoothing"),
        **draw_signed_reduction(data, shape[:class_axis] + shape[class_axis + 1:]),
    }
    run_checks(ulp_record, "cross_entropy", args)


@OUTSIDE
@given(data=st.data())
def test_nll_loss_outside_the_domain(data, ulp_record):
    shape = draw_class_shape(data, ["(C,)", "(N, C)", "(N, C, d1, d2)"])
    class_axis = 0 if len(shape) == 1 else 1
    sample_shape = shape[:class_axis] + shape[class_axis + 1:]
    args = {
        "input": data.draw(arrays(shape, SIGNED_LOG_PROBABILITIES), label="input"),
        "target": data.draw(arrays(sample_shape, st.integers(0, shape[class_axis] - 1),
                                   np.int64), label="target"),
        "weight": data.draw(st.none() | arrays((shape[class_axis],), SIGNED_WEIGHTS),
                            label="weight"),
        **draw_signed_reduction(data, sample_shape),
    }
    run_checks(ulp_record, "nll_loss", args)


@TARGET_KINDS
@OUTSIDE
@given(data=st.data())
def test_categorical_cross_entropy_outside_the_domain(kind, data, ulp_record):
    shape = draw_class_shape(data, ["(C,)", "(N, C)", "(N, d1, C)"])
    class_axis = len(shape) - 1
    target, ignore_index = draw_outside_class_target(data, shape, class_axis, kind)
    args = {
        "input": data.draw(arrays(shape, OUTSIDE_PROBABILITIES), label="input"),
        "target": target,
        "ignore_index": ignore_index,
        "label_smoothing": data.draw(OUTSIDE_SMOOTHING, label="label_smoothing"),
        "clip_epsilon": data.draw(CLIP_EPSILONS, label="clip_epsilon"),
        "log_offset": data.draw(LOG_OFFSETS, label="log_offset"),
        "renormalize": data.draw(st.sampled_from([False, True, "after_clip"]),
                                 label="renormalize"),
        **draw_signed_reduction(data, shape[:-1]),
    }
    run_checks(ulp_record, "categorical_cross_entropy", args,
               input_gradient_mask=_defined_renormalised_gradient(args, class_axis))


def test_a_cancelling_sum_keeps_an_absolute_bound():
    # y = 1.5 at p = 0.3 costs l_0 = -(1.5 log 0.3 - 0.5 log 0.7) = 1.6276; y = -1 at p = 0.6
    # costs l_1 = -(-log 0.6 + 2 log 0.4) = 1.3218. Weighted by [1, -l_0 / l_1] (rounded), the
    # sum is 7.2e-17, 2**-54 of its terms: the oracle is off by thousands of billions of ulp of
    # that, but within (n + 1) 2**-64 = 3 * 2**-64 of the terms' size sum|L_i|.
    p, y = np.array([0.3, 0.6]), np.array([1.5, -1.0])
    losses = oracle.binary_cross_entropy(p, y, reduction="none", validate=False)
    args = {"input": p, "target": y, "weight": [1.0, -losses[0] / losses[1]], "reduction": "sum",
            "validate": False}
    exact = twin.evaluate("binary_cross_entropy", **args)
    size = mpmath.fsum(abs(v) for v in exact["losses"])
    error = abs(mpf(float(oracle.binary_cross_entropy(**args))) - exact["value"])
    assert ulp_error(oracle.binary_cross_entropy(**args), exact["value"]) > 1e6
    assert error <= 3 * mpmath.ldexp(size, -64)


def test_the_logit_gradient_near_its_target_is_within_an_ulp_for_every_half_precision_logit():
    # sigmoid(x) - y cancels for every small x at y = 1/2 and near x = logit(y) elsewhere: the
    # accuracy tables ask for all 65,536 float16 logits at once (every 7th checked here, and
    # every one below 2**-6 at y = 1/2, where the cancellation is)
    x = np.arange(2**16, dtype=np.uint16).view(np.float16).astype(np.float64)
    x = x[np.isfinite(x)]
    for y in (0.5, 0.1, 0.9):
        gradient = oracle.grad("binary_cross_entropy_with_logits", wrt="input", input=x,
                               target=np.full_like(x, y), reduction="none")
        chosen = np.abs(x) < 2**-6 if y == 0.5 else np.arange(len(x)) % 7 == 0
        with mpmath.workdps(400):
            for xi, gi in zip(x[chosen][::3], gradient[chosen][::3], strict=True):
                exact = 1 / (1 + mpmath.exp(-mpf(xi))) - mpf(y)
                assert ulp_error(gi, exact) <= 1, (xi, y, gi, exact)

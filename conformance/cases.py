"""The cases: hypothesis strategies for regular inputs, and named, deterministic cases.

Everything is in the oracle's layout (class axis 1 for ``cross_entropy``/``nll_loss``, last for
``categorical_cross_entropy``) and in float64; the adapter rounds to the tested dtype. The
named cases pin known edges for every loss (hypothesis plus xfail is flaky: a failing input
may not be drawn); the strategies explore around them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adapters.core import Binding, Case, class_axis

CLASS_LOSSES = ("cross_entropy", "nll_loss", "categorical_cross_entropy")
_LOGIT_RANGE = {"float16": 8.0, "bfloat16": 8.0, "float32": 30.0, "float64": 30.0}


def _softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# --- hypothesis: regular inputs -------------------------------------------------------------


@st.composite
def regular_cases(draw, binding: Binding, dtype: str, reductions=None, with_options=True):
    """A regular case the binding can express: shapes, values and options drawn with labels."""
    loss = binding.loss
    rank = draw(st.sampled_from([r for r in binding.ranks if 1 <= r <= 3] or binding.ranks),
                label="rank")
    n = draw(st.integers(1, 4), label="batch")
    c = draw(st.integers(2, 6), label="classes")
    spatial = draw(st.integers(1, 3), label="spatial") if rank == 3 else None
    scale = _LOGIT_RANGE[dtype]
    floats = st.floats(-scale, scale, allow_nan=False, allow_infinity=False, width=64)
    if loss in CLASS_LOSSES:
        shape = {1: (c,), 2: (n, c),
                 3: (n, c, spatial) if class_axis(loss, 3) == 1 else (n, spatial, c)}[rank]
    else:
        shape = {0: (), 1: (n,), 2: (n, c), 3: (n, c, spatial or 2)}[rank]
    axis = class_axis(loss, len(shape))
    logits = draw(hnp.arrays(np.float64, shape, elements=floats), label="logits")
    kinds = [k for k in binding.targets if not (loss == "nll_loss" and k == "probabilities")]
    kind = draw(st.sampled_from(kinds), label="target kind") if loss in CLASS_LOSSES else None
    sample_shape = tuple(s for i, s in enumerate(shape) if i != axis)
    if loss in CLASS_LOSSES and kind == "indices":
        target = draw(hnp.arrays(np.int64, sample_shape, elements=st.integers(0, c - 1)),
                      label="target")
    elif loss in CLASS_LOSSES:
        raw = draw(hnp.arrays(np.float64, shape, elements=floats), label="target logits")
        target = _softmax(raw, axis)
    else:
        target = draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)), label="target")
    if loss == "cross_entropy" or loss == "binary_cross_entropy_with_logits":
        inputs = {"input": logits, "target": target}
    elif loss == "nll_loss":
        inputs = {"input": np.log(_softmax(logits, axis)), "target": target}
    elif loss == "binary_cross_entropy":
        inputs = {"input": 1 / (1 + np.exp(-logits)), "target": target}
    else:
        inputs = {"input": _softmax(logits, axis), "target": target}
    offered = list(reductions or binding.reductions)
    options = {"reduction": draw(st.sampled_from(offered), label="reduction")}
    if with_options:
        for name in sorted({*binding.options, *binding.operand_options}):
            if name in binding.required or draw(st.booleans(), label=f"use {name}"):
                value = _option(draw, name, loss, shape, sample_shape, c, kind, target,
                                binding.fixed_options.get("average_last_axis", False))
                if value is not None:
                    (inputs if isinstance(value, np.ndarray) else options)[name] = value
    return Case(loss, inputs, options, dtype)


def _option(draw, name, loss, shape, sample_shape, c, kind, target, per_sample_mean=False):
    positive = st.floats(0.25, 4.0, width=64)
    if name == "weight":
        w_shape = (c,) if loss in CLASS_LOSSES else shape[-1:] if shape else ()
        return draw(hnp.arrays(np.float64, w_shape, elements=positive), label="weight")
    if name == "pos_weight":
        return draw(hnp.arrays(np.float64, shape[-1:] if shape else (), elements=positive),
                    label="pos_weight")
    if name == "sample_weight":
        # one weight per sample: the shape of the loss before reduction (Keras averages binary
        # losses over the last axis first)
        sw_shape = sample_shape if loss in CLASS_LOSSES else (
            shape[:-1] if per_sample_mean else shape[:1])
        return draw(hnp.arrays(np.float64, sw_shape, elements=positive), label="sample_weight")
    if name == "label_smoothing":
        return draw(st.sampled_from([0.05, 0.1, 0.3]), label="label_smoothing")
    if name == "ignore_index" and kind == "indices" and np.size(target):
        return int(draw(st.sampled_from(sorted(set(np.ravel(target).tolist()))),
                        label="ignore_index"))
    return None


# --- named cases ------------------------------------------------------------------------------


def _base(loss: str) -> dict:
    """A small regular (N=2, C=3) example of ``loss`` in the oracle's layout."""
    z = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])
    soft = np.array([[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]])
    binary_target = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
    return {
        "binary_cross_entropy": {"input": 1 / (1 + np.exp(-z)), "target": binary_target},
        "binary_cross_entropy_with_logits": {"input": z, "target": binary_target},
        "cross_entropy": {"input": z, "target": np.array([2, 0])},
        "nll_loss": {"input": np.log(_softmax(z, 1)), "target": np.array([2, 0])},
        "categorical_cross_entropy": {"input": _softmax(z, 1), "target": soft},
    }[loss]


def _with(loss: str, reduction: str = "mean", **inputs) -> Case:
    options = {k: v for k, v in inputs.items() if not isinstance(v, np.ndarray)}
    arrays = {k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}
    return Case(loss, {**_base(loss), **arrays}, {"reduction": reduction, **options})


def reduction_cases(loss: str):
    """(name, case): every reduction, weighted means, per-sample vs per-class weights, empty
    batches, every target ignored."""
    for reduction in ("none", "sum", "mean", "sum_over_batch_size"):
        yield f"reduction-{reduction}", _with(loss, reduction)
        if loss in ("cross_entropy", "nll_loss"):
            yield f"class-weighted-{reduction}", _with(
                loss, reduction, weight=np.array([0.5, 1.0, 2.0]))
            yield f"ignored-one-{reduction}", _with(
                loss, reduction, target=np.array([2, 1]), ignore_index=1)
            yield f"ignored-all-{reduction}", _with(
                loss, reduction, target=np.array([1, 1]), ignore_index=1)
        if loss.startswith("binary"):
            yield f"element-weighted-{reduction}", _with(
                loss, reduction, weight=np.array([0.5, 1.0, 2.0]))
        yield f"sample-weighted-{reduction}", _with(
            loss, reduction, sample_weight=np.array([0.3, 1.7]))
        base = _base(loss)
        empty = {k: np.zeros((0, *np.shape(v)[1:]), dtype=np.asarray(v).dtype)
                 for k, v in base.items()}
        yield f"empty-batch-{reduction}", Case(loss, empty, {"reduction": reduction})


def stability_cases(loss: str, dtype: str):
    """(name, case, magnitude): sweeps towards the dtype's limits."""
    finfo_max = {"float16": 65504.0, "bfloat16": 3.39e38, "float32": 3.4e38, "float64": 1.7e308}
    if loss in ("cross_entropy", "binary_cross_entropy_with_logits"):
        magnitudes = [1.0, 10.0, 1e2, 1e3, 1e4, 1e6, finfo_max[dtype] / 4]
        direction = np.array([[-1.0, 0.25, 1.0], [0.5, -1.0, 0.75]])
        for m in magnitudes:
            yield f"logit-magnitude-{m:.3g}", _with(loss, input=direction * m), m
        if loss == "cross_entropy":
            z = np.random.default_rng(7).standard_normal((2, 32000)) * 3
            yield "classes-32000", _with(loss, input=z, target=np.array([5, 31999])), 32000.0
    if loss in ("binary_cross_entropy", "categorical_cross_entropy"):
        tiny = {"float16": 6e-8, "bfloat16": 1e-40, "float32": 1e-45, "float64": 5e-324}[dtype]
        for k in (1, 4, 8, 16, 30, 60, 150, 300):
            p = 10.0 ** -k
            if p < tiny:
                break
            if loss == "binary_cross_entropy":
                probs = np.array([[p, 1 - p, 0.5], [1 - p, p, 0.5]])
                target = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
                yield f"probability-near-0-and-1-1e-{k}", _with(loss, input=probs,
                                                                 target=target), float(k)
            else:
                probs = np.array([[p, 1 - p - 1e-300, 1e-300], [0.5, 0.5 - p, p]])
                target = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
                yield f"probability-near-0-1e-{k}", _with(loss, input=probs,
                                                          target=target), float(k)


def edge_cases(loss: str):
    """(name, case): log(0), infinities and NaN, and invalid inputs of every kind."""
    base = _base(loss)
    x = base["input"]
    if loss == "binary_cross_entropy":
        yield "log-of-zero", _with(loss, "none", input=np.array([[0.0, 1.0, 0.5]]),
                                   target=np.array([[1.0, 0.0, 0.5]]))
        yield "certain-right", _with(loss, "none", input=np.array([[0.0, 1.0]]),
                                     target=np.array([[0.0, 1.0]]))
        yield "probability-above-1", _with(loss, input=np.where(x > 0.8, 1.5, x))
        yield "probability-below-0", _with(loss, input=np.where(x < 0.3, -0.1, x))
        yield "nan-probability", _with(loss, "none", input=np.where(x > 0.8, np.nan, x))
    if loss == "binary_cross_entropy_with_logits":
        yield "infinite-logits", _with(loss, "none", input=np.array([[np.inf, -np.inf, np.inf]]),
                                       target=np.array([[1.0, 0.0, 0.0]]))
        yield "nan-logit", _with(loss, "none", input=np.where(x > 1.5, np.nan, x))
    if loss in ("binary_cross_entropy", "binary_cross_entropy_with_logits"):
        t = base["target"]
        yield "target-above-1", _with(loss, target=np.where(t == 1.0, 1.5, t))
        yield "target-below-0", _with(loss, target=np.where(t == 0.0, -0.5, t))
        yield "negative-weight", _with(loss, weight=np.array([-1.0, 1.0, 2.0]))
        yield "zero-weight", _with(loss, weight=np.array([0.0, 1.0, 2.0]))
        yield "mismatched-shapes", _with(loss, target=base["target"][:, :2])
    if loss == "cross_entropy":
        yield "positive-infinite-logit", _with(loss, "none",
                                               input=np.array([[np.inf, 0.0, 1.0],
                                                               [np.inf, 0.0, 1.0]]),
                                               target=np.array([0, 1]))
        yield "negative-infinite-logit", _with(loss, "none",
                                               input=np.array([[-np.inf, 0.0, 1.0],
                                                               [-np.inf, 0.0, 1.0]]),
                                               target=np.array([1, 0]))
        yield "nan-logit", _with(loss, "none", input=np.array([[np.nan, 0.0, 1.0],
                                                               [0.5, 0.0, 1.0]]))
    if loss in ("cross_entropy", "nll_loss"):
        yield "class-index-too-large", _with(loss, target=np.array([3, 0]))
        yield "class-index-negative", _with(loss, target=np.array([-1, 0]))
        yield "class-index-equals-ignore-index", _with(loss, "none", target=np.array([1, 0]),
                                                       ignore_index=1)
        yield "negative-class-weight", _with(loss, weight=np.array([1.0, 1.0, -2.0]))
        yield "zero-class-weight", _with(loss, weight=np.array([1.0, 1.0, 0.0]))
        yield "mismatched-batch", _with(loss, target=np.array([2, 0, 1]))
        yield "float-class-indices", _with(loss, target=np.array([2.0, 0.0]))
    if loss == "cross_entropy":
        yield "label-smoothing-above-1", _with(loss, label_smoothing=1.5)
        yield "label-smoothing-negative", _with(loss, label_smoothing=-0.1)
        yield "soft-target-not-summing-to-1", _with(loss, target=np.array([[0.5, 0.3, 0.6],
                                                                           [0.1, 0.1, 0.1]]))
        yield "soft-target-outside-unit-interval", _with(loss, target=np.array(
            [[1.5, -0.5, 0.0], [0.5, 0.25, 0.25]]))
    if loss == "nll_loss":
        yield "positive-log-probability", _with(loss, input=np.abs(x))
    if loss == "categorical_cross_entropy":
        yield "log-of-zero", _with(loss, "none", input=np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]),
                                   target=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]))
        yield "probabilities-not-summing-to-1", _with(loss, input=x * 0.5)
        yield "probability-above-1", _with(loss, input=np.where(x > 0.5, 1.5, x))
        yield "nan-probability", _with(loss, "none", input=np.where(x > 0.5, np.nan, x))
        yield "class-indices", _with(loss, target=np.array([2, 0]))

"""The cases: hypothesis strategies for regular inputs, and named, deterministic cases.

Everything is in the oracle's layout (the class axis that ``LossSpec.class_axis`` gives) and in
float64; the adapter rounds to the tested dtype. The named cases pin known edges (hypothesis
plus xfail is flaky: a failing input may not be drawn); the strategies explore around them.

Nothing here branches on a loss's name: each block of named cases applies to the losses with
the traits it needs (a family, an input kind, an oracle option), read off ``LossSpec``, so a new
loss meets every case its traits call for.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from adapters.binding import Binding, Case
from reference.specs import (
    OPTION_DEFAULTS,
    REDUCTIONS,
    LossSpec,
    dtype_spec,
    loss_spec,
    softmax,
)


@dataclass(frozen=True)
class NamedCase:
    """A deterministic case with a stable name (its test id), and the swept magnitude of a
    stability sweep (the logit's size, or k of a probability 10**-k)."""

    name: str
    case: Case
    magnitude: float | None = None


def _regular_logit_scale(dtype: str) -> float:
    """How large drawn logits get: 30 where exp stays far inside the range (float32 and
    wider), 8 in half precision, whose 11 (float16) or 8 (bfloat16) bits would leave large
    losses no fraction to compare."""
    return 8.0 if dtype_spec(dtype).bits <= 11 else 30.0


# --- hypothesis: regular inputs -------------------------------------------------------------


@st.composite
def regular_cases(draw, binding: Binding, dtype: str, reductions=None, with_options=True):
    """A regular case the binding can express: shapes, values and options drawn with labels."""
    spec = loss_spec(binding.loss)
    categorical = spec.family == "categorical"
    rank = draw(st.sampled_from([r for r in binding.ranks if 1 <= r <= 3] or binding.ranks),
                label="rank")
    n = draw(st.integers(1, 4), label="batch")
    c = draw(st.integers(2, 6), label="classes")
    spatial = draw(st.integers(1, 3), label="spatial") if rank == 3 else None
    scale = _regular_logit_scale(dtype)
    floats = st.floats(-scale, scale, allow_nan=False, allow_infinity=False, width=64)
    options = {}
    if categorical:
        if with_options and binding.offers("axis") and draw(st.booleans(), label="use axis"):
            # the classes on any axis, written either way round (1 or -2 of a rank-2 input)
            options["axis"] = draw(st.integers(-rank, rank - 1), label="axis")
        axis = spec.class_axis(rank, options.get("axis"))
        sample_dims = [n, spatial][:rank - 1]
        shape = (*sample_dims[:axis], c, *sample_dims[axis:])
    else:
        shape = {0: (), 1: (n,), 2: (n, c), 3: (n, c, spatial or 2)}[rank]
        axis = spec.class_axis(len(shape))
    logits = draw(hnp.arrays(np.float64, shape, elements=floats), label="logits")
    kinds = [k for k in binding.targets if k in spec.targets]
    kind = draw(st.sampled_from(kinds), label="target kind") if categorical else None
    sample_shape = tuple(s for i, s in enumerate(shape) if i != axis)
    if categorical and kind == "indices":
        target = draw(hnp.arrays(np.int64, sample_shape, elements=st.integers(0, c - 1)),
                      label="target")
    elif categorical:
        raw = draw(hnp.arrays(np.float64, shape, elements=floats), label="target logits")
        target = softmax(raw, axis)
    else:
        target = draw(hnp.arrays(np.float64, shape, elements=st.floats(0, 1)), label="target")
    inputs = {"input": spec.from_logits(logits, axis), "target": target}
    offered = list(reductions or binding.reductions)
    options["reduction"] = draw(st.sampled_from(offered), label="reduction")
    if with_options:
        for name in sorted({*binding.options, *binding.operand_options} - {"axis"}):
            if name in binding.required or draw(st.booleans(), label=f"use {name}"):
                value = _option(draw, name, spec, shape, sample_shape, c, kind, target,
                                binding.fixed_options.get("average_last_axis", False))
                if value is not None:
                    (inputs if isinstance(value, np.ndarray) else options)[name] = value
    return Case(spec.name, inputs, options, dtype)


#: a value of every option the strategies draw (``_option``, and the class axis in
#: ``regular_cases``), for two samples of three classes: the option-surface check renders
#: calls with these, and the adapter contract tests use the array and scalar ones
OPTION_EXAMPLES = {
    "weight": np.array([0.5, 1.0, 2.0]), "pos_weight": np.array([1.5, 0.5, 2.0]),
    "sample_weight": np.array([0.3, 1.7]), "label_smoothing": 0.1, "ignore_index": 1,
    "axis": 0,
}


def _option(draw, name, spec: LossSpec, shape, sample_shape, c, kind, target,
            per_sample_mean=False):
    if name not in OPTION_EXAMPLES:
        raise ValueError(f"no strategy draws the option {name!r}: add one to _option (and an "
                         "example to OPTION_EXAMPLES), or the binding cannot declare it")
    positive = st.floats(0.25, 4.0, width=64)
    categorical = spec.family == "categorical"
    if name == "weight":
        w_shape = (c,) if categorical else shape[-1:] if shape else ()
        return draw(hnp.arrays(np.float64, w_shape, elements=positive), label="weight")
    if name == "pos_weight":
        return draw(hnp.arrays(np.float64, shape[-1:] if shape else (), elements=positive),
                    label="pos_weight")
    if name == "sample_weight":
        # one weight per sample: the shape of the loss before reduction (Keras averages binary
        # losses over the last axis first)
        sw_shape = sample_shape if categorical else (
            shape[:-1] if per_sample_mean else shape[:1])
        return draw(hnp.arrays(np.float64, sw_shape, elements=positive), label="sample_weight")
    if name == "label_smoothing":
        return draw(st.sampled_from([0.05, 0.1, 0.3]), label="label_smoothing")
    if name == "ignore_index" and kind == "indices" and np.size(target):
        return int(draw(st.sampled_from(sorted(set(np.ravel(target).tolist()))),
                        label="ignore_index"))
    return None


# --- named cases ------------------------------------------------------------------------------
# Each is a variation of the loss's regular (N=2, C=3) example, ``LossSpec.example``:
# logits [[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]] (or their sigmoid, softmax, log-softmax), binary
# targets [[0, 1, 1], [1, 0, 0.5]], class indices [2, 0], soft targets
# [[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]].


def _with(spec: LossSpec, reduction: str = OPTION_DEFAULTS["reduction"], **inputs) -> Case:
    """The loss's example with some arrays replaced and some scalar options set."""
    options = {k: v for k, v in inputs.items() if not isinstance(v, np.ndarray)}
    arrays = {k: v for k, v in inputs.items() if isinstance(v, np.ndarray)}
    return Case(spec.name, {**spec.example(), **arrays}, {"reduction": reduction, **options})


def _reduction_cases(spec: LossSpec) -> Iterator[NamedCase]:
    """Every reduction, weighted means, per-sample vs per-class weights, empty batches, every
    target ignored."""
    for reduction in REDUCTIONS:
        if reduction == "weighted_mean":
            # the mean over the summed sample weights: without them it is "mean", so only the
            # sample-weighted cases tell it apart (weights not summing to N = 2):
            # (0.5 l_0 + 2 l_1) / 2.5, and with sample 1 ignored 0.5 l_0 / 0.5 = l_0 (Keras
            # merges the ignore mask into the sample weights)
            weights = np.array([0.5, 2.0])
            yield NamedCase(f"sample-weighted-{reduction}",
                            _with(spec, reduction, sample_weight=weights))
            if spec.takes("ignore_index"):
                yield NamedCase(f"sample-weighted-ignored-one-{reduction}", _with(
                    spec, reduction, target=np.array([2, 1]), ignore_index=1,
                    sample_weight=weights))
            continue
        yield NamedCase(f"reduction-{reduction}", _with(spec, reduction))
        if spec.family == "categorical" and spec.takes("weight"):
            yield NamedCase(f"class-weighted-{reduction}",
                            _with(spec, reduction, weight=np.array([0.5, 1.0, 2.0])))
        if spec.takes("ignore_index"):
            # [2, 1] with 1 ignored: the mean is the first sample's loss alone
            yield NamedCase(f"ignored-one-{reduction}",
                            _with(spec, reduction, target=np.array([2, 1]), ignore_index=1))
            # no sample left: an unweighted mean of nothing, NaN (0 / 0)
            yield NamedCase(f"ignored-all-{reduction}",
                            _with(spec, reduction, target=np.array([1, 1]), ignore_index=1))
        if spec.family == "binary" and spec.takes("weight"):
            yield NamedCase(f"element-weighted-{reduction}",
                            _with(spec, reduction, weight=np.array([0.5, 1.0, 2.0])))
        yield NamedCase(f"sample-weighted-{reduction}",
                        _with(spec, reduction, sample_weight=np.array([0.3, 1.7])))
        empty = {k: np.zeros((0, *np.shape(v)[1:]), dtype=np.asarray(v).dtype)
                 for k, v in spec.example().items()}
        # sum of nothing: 0; mean of nothing: NaN
        yield NamedCase(f"empty-batch-{reduction}", Case(spec.name, empty,
                                                         {"reduction": reduction}))


def _logit_sweep(spec: LossSpec, dtype: str) -> Iterator[NamedCase]:
    """Logits scaled from 1 to a quarter of the dtype's largest value (z - max z stays finite);
    large classes."""
    magnitudes = [1.0, 10.0, 1e2, 1e3, 1e4, 1e6, dtype_spec(dtype).max / 4]
    direction = np.array([[-1.0, 0.25, 1.0], [0.5, -1.0, 0.75]])
    for m in magnitudes:
        yield NamedCase(f"logit-magnitude-{m:.3g}", _with(spec, input=direction * m), m)
    if spec.family == "categorical":
        z = np.random.default_rng(7).standard_normal((2, 32000)) * 3
        yield NamedCase("classes-32000",
                        _with(spec, input=z, target=np.array([5, 31999])), 32000.0)


def _probability_sweep(spec: LossSpec, dtype: str) -> Iterator[NamedCase]:
    """Probabilities 10**-k towards 0 (and their complements towards 1), down to the dtype's
    smallest subnormal."""
    for k in (1, 4, 8, 16, 30, 60, 150, 300):
        p = 10.0 ** -k
        if p < dtype_spec(dtype).smallest_subnormal:
            break
        if spec.family == "binary":
            # y = 1 at p and 1 - p at y = 0 cost -log p = k log 10 each; the 0.5s cost log 2
            probs = np.array([[p, 1 - p, 0.5], [1 - p, p, 0.5]])
            target = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
            name = f"probability-near-0-and-1-1e-{k}"
        else:
            # the target classes hold p: each sample costs -log p = k log 10
            probs = np.array([[p, 1 - p - 1e-300, 1e-300], [0.5, 0.5 - p, p]])
            target = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
            name = f"probability-near-0-1e-{k}"
        yield NamedCase(name, _with(spec, input=probs, target=target), float(k))


def _binary_probability_edges(spec: LossSpec) -> Iterator[NamedCase]:
    x = spec.example()["input"]
    # p = 0 at y = 1 and p = 1 at y = 0: -log 0 = +inf; p = y = 0.5: log 2 = 0.6931
    yield NamedCase("log-of-zero", _with(spec, "none", input=np.array([[0.0, 1.0, 0.5]]),
                                         target=np.array([[1.0, 0.0, 0.5]])))
    # 0 log 0 = 0 on both sides: the loss is exactly 0
    yield NamedCase("certain-right", _with(spec, "none", input=np.array([[0.0, 1.0]]),
                                           target=np.array([[0.0, 1.0]])))
    yield NamedCase("probability-above-1", _with(spec, input=np.where(x > 0.8, 1.5, x)))
    yield NamedCase("probability-below-0", _with(spec, input=np.where(x < 0.3, -0.1, x)))
    yield NamedCase("nan-probability", _with(spec, "none", input=np.where(x > 0.8, np.nan, x)))


def _binary_logit_edges(spec: LossSpec) -> Iterator[NamedCase]:
    x = spec.example()["input"]
    # the limits: x = +inf at y = 1 and x = -inf at y = 0 cost 0; x = +inf at y = 0 costs +inf
    yield NamedCase("infinite-logits", _with(spec, "none",
                                             input=np.array([[np.inf, -np.inf, np.inf]]),
                                             target=np.array([[1.0, 0.0, 0.0]])))
    yield NamedCase("nan-logit", _with(spec, "none", input=np.where(x > 1.5, np.nan, x)))


def _binary_edges(spec: LossSpec) -> Iterator[NamedCase]:
    t = spec.example()["target"]
    yield NamedCase("target-above-1", _with(spec, target=np.where(t == 1.0, 1.5, t)))
    yield NamedCase("target-below-0", _with(spec, target=np.where(t == 0.0, -0.5, t)))
    yield NamedCase("negative-weight", _with(spec, weight=np.array([-1.0, 1.0, 2.0])))
    yield NamedCase("zero-weight", _with(spec, weight=np.array([0.0, 1.0, 2.0])))
    yield NamedCase("mismatched-shapes", _with(spec, target=t[:, :2]))


def _class_logit_edges(spec: LossSpec) -> Iterator[NamedCase]:
    # sample 1: +inf at its class costs 0 (the limit); sample 2: +inf at another class, +inf
    yield NamedCase("positive-infinite-logit", _with(
        spec, "none", input=np.array([[np.inf, 0.0, 1.0], [np.inf, 0.0, 1.0]]),
        target=np.array([0, 1])))
    # sample 1: -inf at another class drops out, log(1 + e) = 1.3133; sample 2: -inf at its
    # class costs +inf
    yield NamedCase("negative-infinite-logit", _with(
        spec, "none", input=np.array([[-np.inf, 0.0, 1.0], [-np.inf, 0.0, 1.0]]),
        target=np.array([1, 0])))
    yield NamedCase("nan-logit", _with(spec, "none", input=np.array([[np.nan, 0.0, 1.0],
                                                                     [0.5, 0.0, 1.0]])))


def _class_index_edges(spec: LossSpec) -> Iterator[NamedCase]:
    yield NamedCase("class-index-too-large", _with(spec, target=np.array([3, 0])))
    yield NamedCase("class-index-negative", _with(spec, target=np.array([-1, 0])))
    yield NamedCase("class-index-equals-ignore-index", _with(
        spec, "none", target=np.array([1, 0]), ignore_index=1))
    yield NamedCase("negative-class-weight", _with(spec, weight=np.array([1.0, 1.0, -2.0])))
    yield NamedCase("zero-class-weight", _with(spec, weight=np.array([1.0, 1.0, 0.0])))
    yield NamedCase("mismatched-batch", _with(spec, target=np.array([2, 0, 1])))
    yield NamedCase("float-class-indices", _with(spec, target=np.array([2.0, 0.0])))


def _soft_target_edges(spec: LossSpec) -> Iterator[NamedCase]:
    yield NamedCase("label-smoothing-above-1", _with(spec, label_smoothing=1.5))
    yield NamedCase("label-smoothing-negative", _with(spec, label_smoothing=-0.1))
    yield NamedCase("soft-target-not-summing-to-1", _with(
        spec, target=np.array([[0.5, 0.3, 0.6], [0.1, 0.1, 0.1]])))
    yield NamedCase("soft-target-outside-unit-interval", _with(
        spec, target=np.array([[1.5, -0.5, 0.0], [0.5, 0.25, 0.25]])))


def _log_probability_edges(spec: LossSpec) -> Iterator[NamedCase]:
    x = spec.example()["input"]
    yield NamedCase("positive-log-probability", _with(spec, input=np.abs(x)))


def _class_probability_edges(spec: LossSpec) -> Iterator[NamedCase]:
    x = spec.example()["input"]
    # sample 1: p = 0 at its class, -log 0 = +inf; sample 2: p = 0 at its class too
    yield NamedCase("log-of-zero", _with(
        spec, "none", input=np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]),
        target=np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])))
    yield NamedCase("probabilities-not-summing-to-1", _with(spec, input=x * 0.5))
    yield NamedCase("probability-above-1", _with(spec, input=np.where(x > 0.5, 1.5, x)))
    yield NamedCase("nan-probability", _with(spec, "none", input=np.where(x > 0.5, np.nan, x)))
    yield NamedCase("class-indices", _with(spec, target=np.array([2, 0])))


def _binary_rank_mismatches(spec: LossSpec) -> Iterator[NamedCase]:
    """Targets of another rank than the predictions: the silent-broadcast trap. With (N, 1)
    predictions and (N,) labels, elementwise code broadcasts to (N, N) and averages N**2 wrong
    pairs; the exact loss is undefined (the shapes differ), so the oracle rejects them."""
    example = spec.example()
    x, t = example["input"][:, 1], example["target"][:, 1]  # one column: N = 2, labels [1, 0]
    yield NamedCase("target-rank-1-input-column", _with(spec, input=x[:, None], target=t))
    yield NamedCase("target-column-input-rank-1", _with(spec, input=x, target=t[:, None]))
    yield NamedCase("target-row-input-rank-1", _with(spec, input=x, target=t[None, :]))


def _class_index_rank_mismatches(spec: LossSpec) -> Iterator[NamedCase]:
    """Class indices of another rank than the samples ((N, 1) or (1, N) for (N, C) inputs),
    and class labels that are not integers (1.7: truncated, rounded or rejected?)."""
    indices = spec.example("indices")["target"]
    yield NamedCase("class-indices-column", _with(spec, target=indices[:, None]))
    yield NamedCase("class-indices-row", _with(spec, target=indices[None, :]))
    yield NamedCase("non-integral-class-labels", _with(spec, target=np.array([1.7, 0.0])))


def _soft_target_rank_mismatch(spec: LossSpec) -> Iterator[NamedCase]:
    """Probability targets with an extra leading axis, (1, N, C) for (N, C) predictions."""
    soft = spec.example("probabilities")["target"]
    yield NamedCase("soft-target-extra-axis", _with(spec, input=spec.example()["input"],
                                                    target=soft[None]))


def _is(family: str | None = None, input_kind: str | None = None, option: str | None = None,
        target: str | None = None) -> Callable[[LossSpec], bool]:
    """A trait test on a loss: its family, its input kind, an oracle option it has, a target
    kind it takes (each None: any)."""
    return lambda spec: ((family is None or spec.family == family)
                         and (input_kind is None or spec.input_kind == input_kind)
                         and (option is None or spec.takes(option))
                         and (target is None or target in spec.targets))


#: (the losses a block applies to, the block): log(0), infinities and NaN, invalid inputs
_EDGE_BLOCKS = (
    (_is("binary", "probabilities"), _binary_probability_edges),
    (_is("binary", "logits"), _binary_logit_edges),
    (_is("binary"), _binary_edges),
    (_is("categorical", "logits"), _class_logit_edges),
    (_is("categorical", option="ignore_index"), _class_index_edges),
    (_is("categorical", "logits", option="label_smoothing", target="probabilities"),
     _soft_target_edges),
    (_is("categorical", "log-probabilities"), _log_probability_edges),
    (_is("categorical", "probabilities"), _class_probability_edges),
    (_is("binary"), _binary_rank_mismatches),
    (_is("categorical", target="indices"), _class_index_rank_mismatches),
    (_is("categorical", target="probabilities"), _soft_target_rank_mismatch),
)
#: the stability sweeps, by input kind
_SWEEPS = ((_is(input_kind="logits"), _logit_sweep),
           (_is(input_kind="probabilities"), _probability_sweep))


#: the dtypes the reductions category runs its named cases in: its point is the arithmetic of
#: the reduction, in the dtype most code trains in and in the widest
REDUCTION_DTYPES = ("float32", "float64")
#: the dtype two paths are compared in on those cases (what a reduction and its options mean is
#: the same in any dtype), and the one a compiled twin meets them in under the ci profile's
#: budget (``conformance.budget``), so that its compiles are shared with the comparison
COMPARED_REDUCTION_DTYPES = ("float64",)


@cache
def reduction_cases(loss: str) -> tuple[NamedCase, ...]:
    return tuple(_reduction_cases(loss_spec(loss)))


@cache
def stability_cases(loss: str, dtype: str) -> tuple[NamedCase, ...]:
    """Sweeps towards the dtype's limits, in the dtype."""
    spec = loss_spec(loss)
    return tuple(NamedCase(n.name, Case(n.case.loss, n.case.inputs, n.case.options, dtype),
                           n.magnitude)
                 for applies, sweep in _SWEEPS if applies(spec) for n in sweep(spec, dtype))


@cache
def edge_cases(loss: str) -> tuple[NamedCase, ...]:
    """log(0), infinities and NaN, and invalid inputs of every kind."""
    spec = loss_spec(loss)
    return tuple(n for applies, block in _EDGE_BLOCKS if applies(spec) for n in block(spec))


def named_case(cases: tuple[NamedCase, ...], name: str) -> NamedCase:
    (found,) = (n for n in cases if n.name == name)
    return found

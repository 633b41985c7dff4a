"""The error model: how far from the exact value a correct implementation may land.

Everything is in units of the tested dtype's unit roundoff u (2**-11 float16, 2**-8 bfloat16,
2**-24 float32, 2**-53 float64) and scaled by the case's conditioning, never a blanket atol.

A backward-stable evaluation returns the exact result of inputs perturbed by a few u, plus a few
roundings of the result. So for a loss value L of float inputs x_j:

    |L_computed - L|  <=  u * ( K_INPUT * sum_j |dL/dx_j * x_j|  +  K_SUM(n) * sum_i |L_i| )

The first term is the conditioning (read off the oracle's own gradient: a loss of large logits
is as uncertain as its logits); the second covers the summation of n per-sample losses
L_i, with K_SUM(n) = 2 + log2(n) (pairwise summation). Gradients are bounded element-wise
by the analytic scale of each loss's gradient formula (see ``gradient_scale``), times
K_GRADIENT. A forward-mode directional derivative (``jvp``) adds those gradient terms times the
tangent's elements up, in the value's shape; a Hessian-vector product (``hvp``) is bounded by
the Hessian's terms times the vector's, |H| |v| (``reference.terms.hvp_terms``), both times
K_GRADIENT plus the summation's k_sum. Bounds are then expressed in ulps of the dtype at the
expected value, plus one ulp for the final rounding to the dtype.

A convention that passes through an intermediate the library rounds (``probability_clip``:
sigmoid(x), then the probability formula) is conditioned on that intermediate as well, since a
few u on p are far more than a few u on x where p is close to 1.

The terms of a loss the bounds are made of (smoothed targets, clipped probabilities and their
logs, class and sample weights per element) are the oracle's, from ``reference.terms``, and an
option a case leaves out has the oracle's default (``reference.specs.option``).
"""

from __future__ import annotations

import math

import numpy as np
import scipy.special

import reference
from reference import terms
from reference.specs import LOSS_SPECS, MEAN_REDUCTIONS, dtype_spec, loss_spec, option, softmax

K_INPUT = 4.0
K_GRADIENT = 8.0
#: a number a registry entry states (``actual.value``: what no oracle convention gives, such
#: as a library's result at an out-of-range class index) holds to within this many unit
#: roundoffs, relative: it was written down from one machine's run, and vectorised exp and log
#: round differently on different CPUs
K_STATED_VALUE = 8.0


def k_sum(n: int) -> float:
    return 2.0 + math.log2(max(n, 1))


def ulp(value: np.ndarray, dtype: str) -> np.ndarray:
    """The dtype's ulp at |value| (its spacing there; subnormal spacing below the normals)."""
    return dtype_spec(dtype).ulp(value)


def _float_operands(case_inputs: dict) -> list[str]:
    return [name for name in ("input", "target")
            if name in case_inputs and np.asarray(case_inputs[name]).dtype.kind == "f"]


def value_bound(loss: str, kwargs: dict, expected: np.ndarray, dtype: str) -> np.ndarray:
    """Allowed absolute error of each element of the expected value (reduced: a scalar)."""
    u = dtype_spec(dtype).unit_roundoff
    spec = loss_spec(loss)
    reduction = option(kwargs, "reduction")
    per_sample = np.abs(np.asarray(
        spec.oracle(**{**kwargs, "reduction": "none"}), dtype=np.float64))
    conditioning = 0.0 if reduction != "none" else np.zeros(per_sample.shape)
    for name in _float_operands(kwargs):
        g = reference.grad(loss, wrt=name, **{**kwargs, "reduction": "none"})
        x = np.asarray(kwargs[name], dtype=np.float64)
        with np.errstate(invalid="ignore"):
            contribution = np.nan_to_num(np.abs(g * x), nan=0.0, posinf=np.inf)
        if name == "input" and _through_probability(kwargs):
            contribution = contribution + _probability_conditioning(g, x)
        if reduction == "none":
            conditioning = conditioning + _to_sample_shape(
                contribution, per_sample.shape,
                spec.class_axis(np.ndim(kwargs["input"]), kwargs.get("axis")))
        else:
            conditioning = conditioning + np.sum(contribution) * _mean_scale(
                reduction, expected, per_sample)
    renormalization = _renormalization_error(spec, kwargs)
    if reduction == "none":
        return u * (K_INPUT * conditioning + k_sum(1) * per_sample + renormalization)
    n = max(per_sample.size, 1)
    return u * (K_INPUT * conditioning
                + (k_sum(n) * np.sum(np.nan_to_num(per_sample, nan=0.0))
                   + np.sum(renormalization)) * _mean_scale(reduction, expected, per_sample))


def _through_probability(kwargs: dict) -> bool:
    """The logits loss as Keras's NumPy backend computes it (``probability_clip``, an option of
    binary_cross_entropy_with_logits alone): sigmoid first, rounded to the dtype, then the
    probability formula on it."""
    return kwargs.get("probability_clip") is not None


def _probability_conditioning(grad_logits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``|dL/dp * p|`` of an evaluation that passes through ``p = sigmoid(x)``.

    Such an evaluation rounds p, so its error is that of the probability formula on an input
    perturbed by a few u: ``|dL/dp| p``, which near p = 1 is ``p / (1 - p)``, about ``e^x``,
    where the logits form's own conditioning ``|dL/dx * x|`` is only ``|x|``. With
    ``dp/dx = p (1 - p)`` it is ``|dL/dx| / (1 - p)``, and 1 - p = sigmoid(-x) is exact.
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        return np.nan_to_num(np.abs(grad_logits) / scipy.special.expit(-x), nan=0.0,
                             posinf=np.inf)


def _renormalization_error(spec, kwargs: dict) -> np.ndarray | float:
    """Per sample, what dividing the probabilities by their rounded sum s costs (``renormalize``).

    ``L = -sum_k a_k log(p_k / s)`` moves by the target mass ``A = sum_k a_k`` (class and sample
    weights and label smoothing included) per unit of relative error in s, and a sum of C
    terms errs by up to k_sum(C) u. No input perturbation gives this: p_k is divided by a sum
    rounded apart from it, so where p_k / s is near 1 the gradient's cancellation hides it.
    A is read off the oracle: at a uniform input every p_k / s is 1 / C, so L = A log C.
    """
    if not kwargs.get("renormalize"):  # an option of categorical_cross_entropy alone
        return 0.0
    shape = np.shape(kwargs["input"])
    classes = shape[spec.class_axis(len(shape), kwargs.get("axis"))] if shape else 1
    if classes < 2:
        return 0.0  # p / p: nothing is rounded
    uniform = spec.oracle(**{
        **kwargs, "input": np.ones(shape), "reduction": "none", "clip_epsilon": None,
        "log_offset": 0.0})
    return k_sum(classes) * np.abs(np.asarray(uniform, dtype=np.float64)) / math.log(classes)


def _mean_scale(reduction: str, expected, per_sample) -> float:
    """The factor a mean applies to sums: |expected| / sum|L_i| (1 for sums)."""
    if reduction == "sum":
        return 1.0
    total = float(np.sum(np.nan_to_num(per_sample, nan=0.0)))
    e = abs(float(np.asarray(expected)))
    return e / total if total > 0 and math.isfinite(e) else 1.0


def _to_sample_shape(contribution: np.ndarray, shape: tuple, axis: int) -> np.ndarray:
    """Sum an input-shaped array over ``axis`` to the per-sample shape (a square batch has
    two axes that would give that shape: only the class axis is right)."""
    if contribution.shape == shape:
        return contribution
    if contribution.ndim:
        reduced = contribution.sum(axis=axis)
        if reduced.shape == shape:
            return reduced
    return np.full(shape, contribution.sum())


def gradient_scale(loss: str, kwargs: dict, wrt: str) -> np.ndarray:
    """Element-wise magnitude of the terms a gradient formula adds, before they cancel.

    A gradient such as ``sigmoid(x) - y`` or ``p A - a`` can be far smaller than its terms,
    and a correct float evaluation errs by u times the terms, not times the result:

    - binary losses: the two terms are the gradients with every target 0 and every target 1
      (one term each), read off the oracle;
    - softmax cross-entropy: ``sw A p`` and ``sw a`` with ``a_k = weight_k * q_k`` (q the
      smoothed target), divided by the mean's divisor (whichever mean: the count, the summed
      class weights, or the summed sample weights of "weighted_mean", read off the oracle);
    - binary cross-entropy with respect to the target: ``-(1 - e) (log a - log b)`` is the
      difference of two rounded logs, so its terms are ``|log a|`` and ``|log b|`` (times the
      element's weights, see ``_binary_log_terms``);
    - a renormalised categorical cross-entropy with respect to the target: ``-c log(p / s)``
      with s the rounded row sum, whose k_sum(C) u relative error is an absolute error of
      k_sum(C) u on the log, whatever its size (see ``_renormalized_log_terms``);
    - everything else (nll_loss: exact; probabilities: one term per element): |gradient|.

    Logits also carry the rounding of ``z - max(z)``: a factor ``1 + |z| + max|z|``.
    """
    spec = loss_spec(loss)
    g = np.abs(np.asarray(reference.grad(loss, wrt=wrt, **kwargs), dtype=np.float64))
    x = np.asarray(kwargs["input"], dtype=np.float64)
    if wrt == "input" and spec.family == "binary":
        target = np.asarray(kwargs["target"], dtype=np.float64)
        terms = sum(np.abs(reference.grad(loss, wrt="input",
                                          **{**kwargs, "target": np.full_like(target, t)}))
                    for t in (0.0, 1.0))
        scale = np.maximum(g, terms)
    elif wrt == "input" and spec.family == "categorical" and spec.input_kind == "logits":
        scale = np.maximum(g, _softmax_terms(spec, kwargs))
    elif wrt == "target" and spec.family == "binary" and spec.input_kind == "probabilities":
        terms = _binary_log_terms(spec, kwargs)
        scale = np.where(np.isfinite(terms), np.maximum(g, terms), g)
    elif wrt == "target" and kwargs.get("renormalize"):
        scale = g + _renormalized_log_terms(spec, kwargs)
    else:
        scale = g
    if spec.input_kind == "logits":
        finite = np.abs(np.where(np.isfinite(x), x, 0.0))
        scale = scale * (1.0 + finite + np.max(finite, initial=0.0))
    return np.nan_to_num(scale, nan=0.0)


def _renormalized_log_terms(spec, kwargs: dict) -> np.ndarray:
    """``k_sum(C) c`` per target element of a renormalised loss: what the rounded row sum
    s adds to each ``-c log(p / s)`` of the target gradient.

    ``c`` (the sample weight, the smoothing factor, the mean's divisor) is read off the oracle
    at a uniform input, where every ``p / s`` is ``1 / C`` and the gradient is ``c log C``
    (as ``_renormalization_error`` reads the target mass).
    """
    shape = np.shape(kwargs["input"])
    classes = shape[spec.class_axis(len(shape), kwargs.get("axis"))] if shape else 1
    if classes < 2:
        return np.zeros(np.shape(kwargs["target"]))  # p / p: nothing is rounded
    uniform = reference.grad(spec.name, wrt="target", **{
        **kwargs, "input": np.ones(shape), "clip_epsilon": None, "log_offset": 0.0})
    return k_sum(classes) * np.abs(np.asarray(uniform, dtype=np.float64)) / math.log(classes)


def _binary_log_terms(spec, kwargs: dict) -> np.ndarray:
    """``(1 - e) c (|log a| + |log b|)`` of binary_cross_entropy's target gradient.

    ``log a = log(p' + o)`` and ``log b = log(1 - p' + o)``, with the clip and the clamp
    applied, are the oracle's (``reference.terms.binary_logs``); ``c`` is what the reduction,
    the weights and the averaging multiply the element's loss by, read off the oracle as twice
    the logits-form gradient at x = 0, y = 0 (which is c sigmoid(0)).
    """
    log_a, log_b = terms.binary_logs(kwargs["input"], option(kwargs, "clip_epsilon"),
                                     option(kwargs, "log_offset"), option(kwargs, "log_clamp"))
    logs = np.abs(np.stack([log_a, log_b]))
    shape = np.shape(kwargs["input"])
    shared = ("weight", "reduction", "sample_weight", "average_last_axis", "empty_mean")
    (on_logits,) = (s for s in LOSS_SPECS.values() if s.probability_twin == spec.name)
    c = 2 * np.abs(reference.grad(
        on_logits.name, wrt="input", input=np.zeros(shape), target=np.zeros(shape),
        **{k: kwargs[k] for k in shared if k in kwargs}))
    keep, _ = terms.smoothing_factors(option(kwargs, "label_smoothing"), 2)
    return keep * c * logs.sum(axis=0)


def _softmax_terms(spec, kwargs: dict) -> np.ndarray:
    """|sw A p| + |sw a| of cross_entropy's gradient, in the input's shape (see above).

    ``a_j = weight_j q_j`` (q the smoothed target distribution) and the sample weights on
    each element are the oracle's (``reference.terms``); p is the softmax of the logits in
    float64, 1 where it is undefined.
    """
    z = np.asarray(kwargs["input"], dtype=np.float64)
    axis = spec.class_axis(z.ndim, kwargs.get("axis"))
    with np.errstate(invalid="ignore", over="ignore"):
        p = np.nan_to_num(softmax(z, axis), nan=1.0)
    q = terms.target_distribution(kwargs["target"], z.shape, axis,
                                  option(kwargs, "label_smoothing"),
                                  option(kwargs, "ignore_index"))
    a = terms.weighted_target(q, option(kwargs, "weight"), axis)
    A = np.sum(a, axis=axis, keepdims=True)
    sw = terms.sample_weight_per_element(option(kwargs, "sample_weight"), axis)
    scale = np.abs(sw) * (A * p + a)
    if option(kwargs, "reduction") in MEAN_REDUCTIONS:  # every mean, weighted or not
        scale = scale / _divisor(spec, kwargs)
    return scale


def _divisor(spec, kwargs: dict) -> float:
    """The mean's divisor, as the oracle's sum over its mean (1 when that is undefined)."""
    loss_sum = float(spec.oracle(**{**kwargs, "reduction": "sum"}))
    loss_mean = float(spec.oracle(**kwargs))
    ratio = loss_sum / loss_mean if loss_mean not in (0.0,) else math.nan
    return ratio if math.isfinite(ratio) and ratio > 0 else 1.0


def gradient_bound(loss: str, kwargs: dict, wrt: str, dtype: str) -> np.ndarray:
    """Allowed absolute error of each gradient element."""
    return dtype_spec(dtype).unit_roundoff * K_GRADIENT * gradient_scale(loss, kwargs, wrt)


def bound(check: str, loss: str, kwargs: dict, expected: np.ndarray, wrt: str | None,
          dtype: str, direction=None) -> np.ndarray:
    """Allowed absolute error of each element of ``check``'s result (``judge``)."""
    if check == "value":
        return value_bound(loss, kwargs, expected, dtype)
    if check == "jvp":
        return jvp_bound(loss, kwargs, wrt, dtype, direction)
    if check == "hvp":
        return hvp_bound(loss, kwargs, dtype, direction)
    return gradient_bound(loss, kwargs, wrt, dtype)


def jvp_bound(loss: str, kwargs: dict, wrt: str, dtype: str, tangent) -> np.ndarray:
    """Allowed absolute error of a forward-mode directional derivative, in the value's shape.

    Forward mode carries each gradient term times its tangent element and adds them up: its
    error is K_GRADIENT u times the gradient's terms (``gradient_scale``) times |tangent|,
    summed over what each output element depends on (its sample for reduction "none", the whole
    input when reduced), plus the summation's k_sum(n) u on the same sum.
    """
    u = dtype_spec(dtype).unit_roundoff
    spec = loss_spec(loss)
    weighted = gradient_scale(loss, kwargs, wrt) * np.abs(np.asarray(tangent, np.float64))
    with np.errstate(invalid="ignore"):
        weighted = np.nan_to_num(weighted, nan=0.0, posinf=np.inf)
    if option(kwargs, "reduction") != "none":
        return u * (K_GRADIENT + k_sum(weighted.size)) * np.sum(weighted)
    value_shape = np.shape(spec.oracle(**kwargs))
    if weighted.shape == value_shape:
        return u * (K_GRADIENT + k_sum(1)) * weighted
    axis = (spec.class_axis(np.ndim(kwargs["input"]), kwargs.get("axis"))
            if spec.family == "categorical" else -1)
    terms_per_sample = weighted.shape[axis] if weighted.ndim else 1
    return u * (K_GRADIENT + k_sum(terms_per_sample)) * _to_sample_shape(
        weighted, value_shape, axis)


def hvp_bound(loss: str, kwargs: dict, dtype: str, vector) -> np.ndarray:
    """Allowed absolute error of each element of a Hessian-vector product.

    K_GRADIENT u times the Hessian's terms times the vector's, ``|H| |v|`` (the oracle's
    ``reference.terms.hvp_terms``), plus the sum over the class axis (k_sum(C)); logits carry
    the rounding of ``z - max(z)`` as for gradients.
    """
    u = dtype_spec(dtype).unit_roundoff
    spec = loss_spec(loss)
    scale = np.asarray(terms.hvp_terms(loss, vector=np.asarray(vector, np.float64), **kwargs),
                       dtype=np.float64)
    x = np.asarray(kwargs["input"], dtype=np.float64)
    classes = 1
    if spec.family == "categorical" and x.ndim:
        classes = x.shape[spec.class_axis(x.ndim, kwargs.get("axis"))]
    if spec.family == "binary" and spec.input_kind == "logits":
        scale = np.maximum(scale, _sigmoid_derivative_terms(scale, x))
    if spec.input_kind == "logits":
        finite = np.abs(np.where(np.isfinite(x), x, 0.0))
        scale = scale * (1.0 + finite + np.max(finite, initial=0.0))
    return u * (K_GRADIENT + k_sum(classes)) * np.nan_to_num(scale, nan=0.0)


def _sigmoid_derivative_terms(scale: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The terms of ``sigmoid'(x) = p (1 - p)`` as a library computes it, from a rounded p.

    The logits loss's second derivative is ``h = c p (1 - p)`` (c: weights, pos_weight, the
    reduction's factor). A library takes it from a rounded sigmoid, as ``p (1 - p)`` or as
    ``(1 - q) q`` with ``q = sigmoid(-x)``, and the complement of a rounded probability errs by
    u, not by u times itself: the formula's terms are ``c p`` and ``c (1 - p)``, c in all,
    about ``e^|x|`` times h for a large logit of either sign, as the gradient's terms are p and
    1 - p. ``c |v|`` is read off the Hessian's own ``|h| |v|`` divided by ``p (1 - p)``, whose
    factors ``sigmoid(x)`` and ``sigmoid(-x)`` are exact.
    """
    with np.errstate(invalid="ignore", over="ignore", divide="ignore", under="ignore"):
        p_q = scipy.special.expit(x) * scipy.special.expit(-x)
        return np.nan_to_num(scale / p_q, nan=0.0, posinf=np.inf)

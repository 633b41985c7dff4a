"""The error model: bounds that admit a correct float evaluation and reject a wrong one."""

import numpy as np

import reference
from conformance import tolerance

P = np.float32([0.5000024, 0.49, 0.75, 1e-3, 0.999])
Y = np.float32([0.0, 0.3, 1.0, 0.5, 0.05])


def test_bce_target_gradient_admits_the_difference_of_two_rounded_logs():
    # log(1 - p) - log(p), each log rounded in float32: near p = 1/2 the result is tiny and
    # its relative error large, yet the evaluation is as good as float32 allows
    p, y = P.astype(np.float64), Y.astype(np.float64)
    kwargs = {"input": p, "target": y, "reduction": "none"}
    float32 = (np.log1p(-P) - np.log(P)).astype(np.float64)
    exact = reference.grad("binary_cross_entropy", wrt="target", **kwargs)
    bound = tolerance.gradient_bound("binary_cross_entropy", kwargs, "target", "float32")
    assert np.all(np.abs(float32 - exact) <= bound)
    # ... and the bound is u times the logs' sizes, not a blanket tolerance
    terms = np.abs(np.log(p)) + np.abs(np.log1p(-p))
    assert np.all(bound <= 2 * tolerance.K_GRADIENT * 2.0**-24 * terms)


def test_bce_target_gradient_scale_follows_weights_and_the_mean():
    p, y = P.astype(np.float64), Y.astype(np.float64)
    weight = np.array([2.0, 1.0, 0.5, 3.0, 1.0])
    plain = tolerance.gradient_scale("binary_cross_entropy",
                                     {"input": p, "target": y, "reduction": "none"}, "target")
    weighted = tolerance.gradient_scale(
        "binary_cross_entropy",
        {"input": p, "target": y, "reduction": "mean", "weight": weight}, "target")
    np.testing.assert_allclose(weighted, plain * weight / p.size, rtol=1e-12)


def test_value_conditioning_of_a_square_batch_sums_over_classes():
    # N == C: summing the conditioning over the batch axis instead of the class axis would
    # give sample 0 the large logits of sample 1
    z = np.array([[0.5, -0.25], [300.0, -300.0]])
    kwargs = {"input": z, "target": np.array([0, 1]), "reduction": "none"}
    value = reference.cross_entropy(**kwargs)  # [0.39, 600]
    bound = tolerance.value_bound("cross_entropy", kwargs, value, "float64")
    assert bound[0] < 1e-15
    assert bound[1] > 1e-13


def test_sigmoid_then_probability_formula_is_conditioned_on_the_rounded_sigmoid():
    # Keras's NumPy backend: p = 1 / (1 + exp(-x)) in float32, then -log(1 - p). Near p = 1 a
    # few u on p are u e^x in the loss, which the logits form's |x| conditioning does not admit
    x = np.float32([2.5, 7.5, 10.0, 14.0])
    y = np.zeros(4)
    p = np.float32(1) / (np.float32(1) + np.exp(-x))
    float32 = (-np.log(np.float32(1) - p)).astype(np.float64)
    kwargs = {"input": x.astype(np.float64), "target": y, "reduction": "none"}
    exact = reference.binary_cross_entropy_with_logits(**kwargs)
    through_p = tolerance.value_bound("binary_cross_entropy_with_logits",
                                      {**kwargs, "probability_clip": 1e-7}, exact, "float32")
    logits_form = tolerance.value_bound("binary_cross_entropy_with_logits", kwargs, exact,
                                        "float32")
    error = np.abs(float32 - exact)
    assert np.all(error <= through_p)
    assert np.any(error > logits_form)
    # ... and the added term is u p / (1 - p), not a blanket tolerance
    odds = np.exp(kwargs["input"])  # p / (1 - p)
    assert np.all(through_p <= logits_form + 2 * tolerance.K_INPUT * 2.0**-24 * odds)


def test_renormalized_probabilities_admit_the_rounded_sum():
    # Keras divides p by its float64 sum before the log: the sum's rounding is an absolute
    # error of u per unit of target mass, far above u * L when L is small
    p = np.array([[1.3448119449208288e-17, 0.9997720704830922, 0.00022792951690785848],
                  [0.25, 0.25, 0.5]])
    target = np.array([1, 2])
    weights = np.array([2.0993113011359235, 1.0])
    float64 = -np.log(p[np.arange(2), target] / p.sum(axis=-1)) * weights
    kwargs = {"input": p, "target": target, "reduction": "none", "renormalize": True,
              "sample_weight": weights}
    exact = reference.categorical_cross_entropy(**kwargs)
    bound = tolerance.value_bound("categorical_cross_entropy", kwargs, exact, "float64")
    assert np.all(np.abs(float64 - exact) <= bound)
    assert np.abs(float64 - exact)[0] > 10 * 2.0**-53 * exact[0]
    # ... by k_sum(C) u per unit of weighted target mass, no more
    plain = tolerance.value_bound("categorical_cross_entropy", {**kwargs, "renormalize": False},
                                  exact, "float64")
    assert np.all(bound <= plain + 2.0**-53 * tolerance.k_sum(3) * weights * (1 + 1e-12))


def test_renormalized_target_gradients_admit_the_rounded_sum():
    # The same rounded sum in the gradient with respect to the targets, -sw log(p / s): a tf.keras
    # draw whose p / s is 1 - 1.6e-6 (gradient 1.6e-6) and whose other rows carry weight 3.16
    p = np.array([[1.5747661927634686e-06, 0.9999984252337956, 1.1801935823234186e-14],
                  [0.19031604272433103, 0.8096839572754629, 2.0595652673537992e-13]])
    target = np.array([[0.1, 0.5, 0.4], [0.0, 1.0, 0.0]])
    weights = np.array([0.99999, 3.160116437767796])
    float64 = -np.log(p / p.sum(axis=-1, keepdims=True)) * weights[:, None]
    kwargs = {"input": p, "target": target, "reduction": "none", "renormalize": True,
              "sample_weight": weights}
    exact = reference.grad("categorical_cross_entropy", wrt="target", **kwargs)
    bound = tolerance.gradient_bound("categorical_cross_entropy", kwargs, "target", "float64")
    assert np.all(np.abs(float64 - exact) <= bound)
    # ... the relative bound alone (8 u |g|) is too tight where the log is near 0
    relative = tolerance.K_GRADIENT * 2.0**-53 * np.abs(exact)
    assert np.any(np.abs(float64 - exact) > relative)


def test_weighted_mean_bounds_are_the_sums_over_the_summed_sample_weights():
    # Keras's "mean_with_sample_weight" (oracle "weighted_mean"): the weighted sum divided by
    # sum(sw) = 2.5. Its value and its gradient err as the sum does, divided by 2.5: the
    # softmax terms |sw A p| + |sw a| of the gradient scale too, not only the gradient itself
    z = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])
    q = np.array([[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]])
    sw = np.array([0.5, 2.0])
    kwargs = {"input": z, "target": q, "weight": np.array([1.0, 2.0, 0.5]), "sample_weight": sw}
    weighted, summed = {**kwargs, "reduction": "weighted_mean"}, {**kwargs, "reduction": "sum"}
    np.testing.assert_allclose(tolerance.gradient_scale("cross_entropy", weighted, "input"),
                               tolerance.gradient_scale("cross_entropy", summed, "input") / 2.5,
                               rtol=1e-12)
    exact = reference.cross_entropy(**weighted)
    bound = tolerance.value_bound("cross_entropy", weighted, exact, "float32")
    np.testing.assert_allclose(bound, tolerance.value_bound(
        "cross_entropy", summed, reference.cross_entropy(**summed), "float32") / 2.5, rtol=1e-12)
    # ... and a float32 evaluation of it lies within that bound
    z32, q32, w32, sw32 = (np.float32(a) for a in (z, q, kwargs["weight"], sw))
    log_softmax = z32 - np.log(np.sum(np.exp(z32), axis=1, keepdims=True))
    losses = -np.sum(w32 * q32 * log_softmax, axis=1)
    float32 = np.float64(np.sum(sw32 * losses) / np.sum(sw32))
    assert abs(float32 - exact) <= bound

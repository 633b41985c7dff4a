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

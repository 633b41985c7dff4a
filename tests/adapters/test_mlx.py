"""What is MLX's own (``adapters/mlx/``): its names and option spellings, the clipped logs of
``with_logits=False``, a float64 that is float64 although its exponential is only as accurate
as float32's (which its registry states), and a lazy evaluation's error."""

from __future__ import annotations

import numpy as np
from _examples import ordinary_case

from adapters import load_adapter
from adapters.binding import Case
from adapters.mlx.adapter import BINDINGS
from conformance.judge import judge

BY_API = {b.api: b for b in BINDINGS}
ADAPTER = load_adapter("mlx")


def test_every_binding_calls_its_mlx_nn_losses_function():
    for binding in BINDINGS:
        assert binding.api.startswith("mlx.nn.losses."), binding.api
        assert all(binding.expression.startswith(s) for s in binding.surface), binding.api
    # the two forms of binary_cross_entropy pass with_logits explicitly, each its own
    assert "with_logits=True" in BY_API["mlx.nn.losses.binary_cross_entropy"].expression
    assert "with_logits=False" in BY_API[
        "mlx.nn.losses.binary_cross_entropy(with_logits=False)"].expression


def test_options_are_spelled_as_mlx_takes_them():
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    case = ordinary_case(binding, reduction="sum",
                         options={"sample_weight": None, "label_smoothing": 0.25})
    assert binding.call_source(case) == (
        "mlx.nn.losses.cross_entropy(input, target, weights=sample_weight, "
        "label_smoothing=0.25, axis=1, reduction='sum')")
    # an element weight, drawn per class as PyTorch broadcasts it, is broadcast to the input
    bce = BY_API["mlx.nn.losses.binary_cross_entropy"]
    case = ordinary_case(bce, reduction="none", options={"weight": None})
    assert "weights=mx.broadcast_to(weight, input.shape)" in bce.call_source(case)


def test_with_logits_false_clips_each_log_at_minus_100():
    # documented: p = 0 with y = 1 costs 100 (-log 0 = inf), p = 1/2 costs log 2
    clipped = BY_API["mlx.nn.losses.binary_cross_entropy(with_logits=False)"]
    case = Case("binary_cross_entropy", {"input": np.array([0.0, 0.5]),
                                         "target": np.array([1.0, 1.0])},
                {"reduction": "none"}, "float32")
    observation = ADAPTER.evaluate(clipped, case)
    assert observation.value[0] == 100.0
    assert judge(clipped, case, observation, extra={"log_clamp": -100.0}).outcome == "match"


def test_float64_is_float64():
    # the CPU device; 1 + k 2**-40 is not a float32, and softplus grows with x: the 12 float64
    # inputs reach MLX unrounded and give increasing losses, where float32 would give one
    mx = ADAPTER.namespace()["mx"]
    assert mx.default_device() == mx.cpu
    binding = BY_API["mlx.nn.losses.binary_cross_entropy"]
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case(binding.loss, {"input": logits, "target": np.zeros((3, 4))},
                {"reduction": "none"}, "float64")
    observation = ADAPTER.evaluate(binding, case)
    assert np.array_equal(observation.fed["input"], logits)
    assert np.all(np.diff(observation.value.ravel()) >= 0)
    assert len(set(observation.value.ravel().tolist())) > 1


def test_a_failed_evaluation_raises_rather_than_reading_memory():
    # float targets of the input's rank less one are class indices MLX cannot gather with; the
    # error surfaces when the lazy loss is evaluated, and must not become a number
    binding = BY_API["mlx.nn.losses.cross_entropy"]
    case = Case("cross_entropy", {"input": np.zeros((2, 3)), "target": np.array([2.0, 0.0])},
                {"reduction": "mean"}, "float64")
    observation = ADAPTER.evaluate(binding, case)
    assert observation.value is None
    assert observation.error[0] == "RuntimeError", observation.error

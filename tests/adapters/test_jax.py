"""What is optax's own (``adapters/jax/``): its names, its spelling of label smoothing, and its
safe softmax."""

from __future__ import annotations

import numpy as np
from _examples import ordinary_case

from adapters import load_adapter
from adapters.binding import Case
from adapters.jax.adapter import BINDINGS
from conformance.judge import judge

BY_API = {b.api: b for b in BINDINGS}


def test_every_binding_is_an_optax_loss():
    assert {binding.library for binding in BINDINGS} == {"optax"}
    assert all(binding.api.startswith("optax.") for binding in BINDINGS)
    assert all(set(binding.reductions) <= {"none", "sum", "mean"} for binding in BINDINGS)


def test_label_smoothing_passes_smooth_labels_as_the_labels():
    binding = BY_API["optax.softmax_cross_entropy"]
    smoothed = ordinary_case(binding, reduction="sum", options={"label_smoothing": 0.25})
    assert binding.supports(smoothed) is None
    assert binding.call_source(smoothed) == (
        "jnp.sum(optax.softmax_cross_entropy(input, "
        "optax.smooth_labels(target, 0.25, axis=1), axis=1))")
    plain = ordinary_case(binding, reduction="none")
    assert binding.call_source(plain) == "optax.softmax_cross_entropy(input, target, axis=1)"


def test_safe_softmax_takes_0_log_0_as_0():
    # a -inf logit with label 0 costs nothing: the oracle's 0 * log 0 = 0 (softmax_cross_entropy
    # computes 0 * -inf = NaN there: a finding for the conformance suite, not checked here)
    safe, adapter = BY_API["optax.safe_softmax_cross_entropy"], load_adapter("jax")
    logits = np.array([[0.0, -np.inf, 1.0, 2.0], [-np.inf, -np.inf, 0.5, 0.0], [1.0] * 4])
    labels = np.array([[0.5, 0.0, 0.25, 0.25], [0.0, 0.0, 0.5, 0.5], [0.25] * 4])
    case = Case("cross_entropy", {"input": logits, "target": labels}, {"reduction": "none"})
    for check in ("value", "gradient"):
        observation = adapter.evaluate(safe, case, check)
        assert judge(safe, case, observation, check).outcome == "match", observation.reproducer

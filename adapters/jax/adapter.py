"""JAX/optax: optax's cross-entropy losses, reduced with jnp.sum / jnp.mean, gradients by jax.grad.

optax returns one loss per example (the oracle's ``reduction="none"``); users reduce it
themselves, so "sum" and "mean" are declared as the ``jnp.sum(...)`` / ``jnp.mean(...)`` users
wrap around the call. The oracle's layout has the class axis at 1; the APIs that take ``axis``
get ``axis=1``, the one that does not (``safe_softmax_cross_entropy``, class axis last) is
limited to the ranks where axis 1 is the last axis, ``(C,)`` and ``(N, C)``.

Calls run on JAX as ``adapters.jax.framework`` sets it up: the CPU platform, 64-bit types enabled
(float64 cases are really float64) and the highest matmul precision; the reproducers set the
same through environment variables.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

from adapters import compiled
from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.jax.framework import JAX

# optax returns per-example losses; "sum" and "mean" are the jnp reductions users wrap around
# the call.
_REDUCTIONS = {"none": "", "sum": "jnp.sum", "mean": "jnp.mean"}
_ALL_RANKS = (0, 1, 2, 3, 4)
_AXIS1_RANKS = (2, 3, 4)  # (N, C), (N, C, d1), (N, C, d1, d2) with axis=1
_LAST_AXIS_RANKS = (1, 2)  # (C,), (N, C): the oracle's class axis is the last one


_SMOOTHING_NOTE = ("label_smoothing is optax.smooth_labels(labels, alpha) passed as the labels: "
                   "(1 - alpha) * labels + alpha / C, the oracle's smoothing, computed in the "
                   "case's dtype. ")
_REDUCTION_NOTE = "optax returns per-example losses; sum and mean are jnp.sum / jnp.mean of them."

_SMOOTHING_WHERE = {
    "optax.smooth_labels:where": "smooths every sample; a mask of samples is the loss's own "
                                 "where=, exercised as ignore_index where the oracle has one"}
_WHERE_ON_PROBABILITIES = (
    "masks samples (their loss 0): the oracle's ignore_index selects samples by their class "
    "index, which probability targets do not have; it is exercised on "
    "optax.softmax_cross_entropy_with_integer_labels[where]")
_INTEGER_LABELS = "optax.softmax_cross_entropy_with_integer_labels"
_WHERE_NOTE = (
    "where=target != ignore_index drops the ignored samples (loss 0): the oracle's ignore_index "
    "for reductions none and sum. jnp.mean of the result would still divide by every sample, "
    "not by the kept ones, so mean is not offered with it. ")

BINDINGS = (
    Binding(
        api="optax.sigmoid_binary_cross_entropy", library="optax",
        loss="binary_cross_entropy_with_logits",
        expression="optax.sigmoid_binary_cross_entropy(input, target{options})",
        reductions=_REDUCTIONS, ranks=_ALL_RANKS, gradients=("input", "target"),
        surface=("optax.sigmoid_binary_cross_entropy",),
        notes="-labels * log_sigmoid(logits) - (1 - labels) * log_sigmoid(-logits), element-wise. "
              + _REDUCTION_NOTE,
    ),
    Binding(
        api="optax.softmax_cross_entropy", library="optax", loss="cross_entropy",
        expression="optax.softmax_cross_entropy(input, target{options}, axis=1)",
        operand_options={"label_smoothing": ("target", "optax.smooth_labels(target, {}, axis=1)")},
        reductions=_REDUCTIONS, targets=("probabilities",), ranks=_AXIS1_RANKS,
        gradients=("input", "target"),
        surface=("optax.softmax_cross_entropy", "optax.smooth_labels"),
        out_of_scope={"optax.softmax_cross_entropy:where": _WHERE_ON_PROBABILITIES,
                      **_SMOOTHING_WHERE},
        notes="-sum(labels * log_softmax(logits)): a -inf logit gives 0 * -inf = NaN where its "
              "label is 0 (see optax.safe_softmax_cross_entropy). " + _SMOOTHING_NOTE
              + _REDUCTION_NOTE,
    ),
    Binding(
        api=_INTEGER_LABELS, library="optax", loss="cross_entropy",
        expression=f"{_INTEGER_LABELS}(input, target{{options}}, axis=1)",
        reductions=_REDUCTIONS, targets=("indices",), ranks=_AXIS1_RANKS, gradients=("input",),
        surface=(_INTEGER_LABELS,),
        out_of_scope={"where": f"exercised as ignore_index by {_INTEGER_LABELS}[where]"},
        notes="logsumexp(logits) - logits[label]. " + _REDUCTION_NOTE,
    ),
    Binding(
        api=f"{_INTEGER_LABELS}[where]", library="optax", loss="cross_entropy",
        expression=f"{_INTEGER_LABELS}(input, target, axis=1{{options}})",
        options={"ignore_index": "where=target != {}"}, required=("ignore_index",),
        reductions={r: f for r, f in _REDUCTIONS.items() if r != "mean"}, targets=("indices",),
        ranks=_AXIS1_RANKS, gradients=("input",), surface=(_INTEGER_LABELS,),
        notes="logsumexp(logits) - logits[label], masked. " + _WHERE_NOTE + _REDUCTION_NOTE,
    ),
    Binding(
        api="optax.safe_softmax_cross_entropy", library="optax", loss="cross_entropy",
        expression="optax.safe_softmax_cross_entropy(input, target{options})",
        operand_options={"label_smoothing": ("target", "optax.smooth_labels(target, {})")},
        reductions=_REDUCTIONS, targets=("probabilities",), ranks=_LAST_AXIS_RANKS,
        gradients=("input", "target"),
        surface=("optax.safe_softmax_cross_entropy", "optax.smooth_labels"),
        out_of_scope={**_SMOOTHING_WHERE, "optax.smooth_labels:axis": (
            "the loss has its classes on the last axis, smooth_labels's default; axis=1 is "
            "passed with optax.softmax_cross_entropy")},
        notes="-sum(where(labels != 0, labels * log_softmax(logits), 0)): 0 * log 0 = 0, so a "
              "-inf logit with label 0 costs nothing; class axis is the last one (no axis "
              "argument). " + _SMOOTHING_NOTE + _REDUCTION_NOTE,
    ),
)


class JaxOptaxAdapter(Adapter):
    library = "optax"
    modules: ClassVar[dict[str, str]] = {**JAX.modules, "optax": "optax"}
    framework = JAX
    compiler = compiled.JAX_JIT
    version_module = "optax"
    bindings = (*BINDINGS, *compiler.twins(BINDINGS))

    def version(self) -> str:
        """optax's version, and the jax and jaxlib doing the arithmetic."""
        jaxlib = importlib.import_module("jaxlib")
        return f"{super().version()} (jax {JAX.version()}, jaxlib {jaxlib.__version__})"

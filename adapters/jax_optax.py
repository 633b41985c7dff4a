"""JAX/optax: optax's cross-entropy losses, reduced with jnp.sum / jnp.mean, gradients by jax.grad.

optax returns one loss per example (the oracle's ``reduction="none"``); users reduce it
themselves, so "sum" and "mean" are declared as the ``jnp.sum(...)`` / ``jnp.mean(...)`` users
wrap around the call. The oracle's layout has the class axis at 1; the APIs that take ``axis``
get ``axis=1``, the one that does not (``safe_softmax_cross_entropy``, class axis last) is
limited to the ranks where axis 1 is the last axis, ``(C,)`` and ``(N, C)``.

Calls run on the CPU platform with 64-bit types enabled (float64 cases are really float64) and
the highest matmul precision; the reproducers set the same through environment variables.
"""

from __future__ import annotations

import importlib
from typing import ClassVar

import numpy as np

from adapters.base import Adapter, literal
from adapters.core import Binding

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

BINDINGS = (
    Binding(
        api="optax.sigmoid_binary_cross_entropy", library="optax",
        loss="binary_cross_entropy_with_logits",
        expression="optax.sigmoid_binary_cross_entropy(input, target{options})",
        reductions=_REDUCTIONS, ranks=_ALL_RANKS, gradients=("input", "target"),
        notes="-labels * log_sigmoid(logits) - (1 - labels) * log_sigmoid(-logits), element-wise. "
              + _REDUCTION_NOTE,
    ),
    Binding(
        api="optax.softmax_cross_entropy", library="optax", loss="cross_entropy",
        expression="optax.softmax_cross_entropy(input, target{options}, axis=1)",
        operand_options={"label_smoothing": ("target", "optax.smooth_labels(target, {}, axis=1)")},
        reductions=_REDUCTIONS, targets=("probabilities",), ranks=_AXIS1_RANKS,
        gradients=("input", "target"),
        notes="-sum(labels * log_softmax(logits)): a -inf logit gives 0 * -inf = NaN where its "
              "label is 0 (see optax.safe_softmax_cross_entropy). " + _SMOOTHING_NOTE
              + _REDUCTION_NOTE,
    ),
    Binding(
        api="optax.softmax_cross_entropy_with_integer_labels", library="optax",
        loss="cross_entropy",
        expression=("optax.softmax_cross_entropy_with_integer_labels(input, target{options}, "
                    "axis=1)"),
        reductions=_REDUCTIONS, targets=("indices",), ranks=_AXIS1_RANKS, gradients=("input",),
        notes="logsumexp(logits) - logits[label]. Its where= argument drops samples (loss 0), "
              "the oracle's ignore_index for reductions none and sum, but jnp.mean of the result "
              "still divides by every sample, so ignore_index is not declared. "
              + _REDUCTION_NOTE,
    ),
    Binding(
        api="optax.safe_softmax_cross_entropy", library="optax", loss="cross_entropy",
        expression="optax.safe_softmax_cross_entropy(input, target{options})",
        operand_options={"label_smoothing": ("target", "optax.smooth_labels(target, {})")},
        reductions=_REDUCTIONS, targets=("probabilities",), ranks=_LAST_AXIS_RANKS,
        gradients=("input", "target"),
        notes="-sum(where(labels != 0, labels * log_softmax(logits), 0)): 0 * log 0 = 0, so a "
              "-inf logit with label 0 costs nothing; class axis is the last one (no axis "
              "argument). " + _SMOOTHING_NOTE + _REDUCTION_NOTE,
    ),
)


class JaxOptaxAdapter(Adapter):
    library = "optax"
    modules: ClassVar[dict[str, str]] = {"jax": "jax", "jnp": "jax.numpy", "optax": "optax"}
    version_module = "optax"
    bindings = BINDINGS
    # read by jax at import; configure() sets the same in case jax was imported before
    environment: ClassVar[dict[str, str]] = {
        "JAX_PLATFORMS": "cpu", "JAX_ENABLE_X64": "1", "JAX_DEFAULT_MATMUL_PRECISION": "highest"}

    def configure(self, namespace):
        jax, jnp = namespace["jax"], namespace["jnp"]
        jax.config.update("jax_enable_x64", True)
        jax.config.update("jax_default_matmul_precision", "highest")
        jax.config.update("jax_platforms", "cpu")
        # without x64, jax silently makes float32 of a float64 request
        if jnp.asarray(0.0, dtype=jnp.float64).dtype != jnp.float64:
            raise RuntimeError("jax_enable_x64 did not take effect: no float64 arrays")

    def version(self) -> str:
        """optax's version, and the jax and jaxlib doing the arithmetic."""
        jax, jaxlib = (importlib.import_module(name) for name in ("jax", "jaxlib"))
        return f"{super().version()} (jax {jax.__version__}, jaxlib {jaxlib.__version__})"

    def tensor(self, array, dtype, *, index=False):
        jnp = self.namespace()["jnp"]
        if index:
            return jnp.asarray(np.asarray(array), dtype=jnp.int64)
        return jnp.asarray(np.asarray(array, dtype=np.float64), dtype=getattr(jnp, dtype))

    def to_numpy(self, value):
        array = np.asarray(value)
        if array.dtype.kind in "iub":
            return array.astype(np.int64)
        return array.astype(np.float64)  # float16, bfloat16 (ml_dtypes), float32: exact

    def tensor_source(self, array, dtype, *, index=False, differentiable=False):
        # jax differentiates functions, not arrays: ``differentiable`` needs nothing here
        dtype = "int64" if index else dtype
        if np.size(array) == 0:
            return f"jnp.zeros({np.shape(array)}, dtype=jnp.{dtype})"
        return f"jnp.asarray({literal(array)}, dtype=jnp.{dtype})"

    def value_and_gradient(self, call, operands, wrt):
        jax, jnp = self.namespace()["jax"], self.namespace()["jnp"]
        value = call(operands)
        if wrt is None:
            return value, None
        gradient = jax.grad(lambda x: jnp.sum(call({**operands, wrt: x})))(operands[wrt])
        return value, gradient

    def value_source(self, call_source):
        return [f"loss = {call_source}", "result = loss.astype(jnp.float64).tolist()"]

    def gradient_source(self, call_source, wrt):
        return [f"gradient = jax.grad(lambda {wrt}: jnp.sum({call_source}))({wrt})",
                "result = gradient.astype(jnp.float64).tolist()"]

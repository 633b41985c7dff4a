"""TensorFlow: the ``tf.nn`` cross-entropy ops, gradients by ``tf.GradientTape``.

The ``tf.nn`` losses return one loss per element (sigmoid forms) or per sample (softmax forms);
a user reduces them with ``tf.reduce_sum`` / ``tf.reduce_mean``, and that is how the "sum" and
"mean" reductions are written: ``tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(...))``.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from adapters.base import Adapter, literal
from adapters.core import Binding

#: oracle reduction -> the function a user wraps the call in ("" for none)
_REDUCTIONS = {"none": "", "sum": "tf.reduce_sum", "mean": "tf.reduce_mean"}
#: TensorFlow's settings for reproducible numbers: deterministic kernels, quiet C++ logs
ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_DETERMINISTIC_OPS": "1"}


def _binding(name: str, loss: str, expression: str, **declared) -> Binding:
    return Binding(api=f"tf.nn.{name}", library="tensorflow", loss=loss,
                   expression=expression, reductions=_REDUCTIONS, **declared)


BINDINGS = (
    _binding("sigmoid_cross_entropy_with_logits", "binary_cross_entropy_with_logits",
             "tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input{options})",
             ranks=(0, 1, 2, 3, 4), gradients=("input", "target")),
    _binding("weighted_cross_entropy_with_logits", "binary_cross_entropy_with_logits",
             "tf.nn.weighted_cross_entropy_with_logits(labels=target, logits=input{options})",
             # no default pos_weight (without one the call raises TypeError); it weighs the
             # classes of the last axis, which a 0-d input does not have
             options={"pos_weight": "pos_weight=pos_weight"}, required=("pos_weight",),
             ranks=(1, 2, 3, 4), gradients=("input", "target")),
    # axis=1: the oracle's layout, classes on axis 1 of (N, C, d1, ...); a (C,) input has no
    # axis 1, so rank 1 is not offered.
    _binding("softmax_cross_entropy_with_logits", "cross_entropy",
             "tf.nn.softmax_cross_entropy_with_logits(labels=target, logits=input, axis=1"
             "{options})",
             targets=("probabilities",), ranks=(2, 3, 4), gradients=("input", "target"),
             notes="called with axis=1, the class axis of the oracle's (N, C, d1, ...) layout"),
    # Classes on the last axis only: (C,) and (N, C) agree with the oracle's layout.
    _binding("sparse_softmax_cross_entropy_with_logits", "cross_entropy",
             "tf.nn.sparse_softmax_cross_entropy_with_logits(labels=target, logits=input"
             "{options})",
             targets=("indices",), ranks=(1, 2), gradients=("input",),
             notes="classes on the last axis; labels out of range raise on CPU, give NaN on GPU"),
)


def configure_tensorflow(tf) -> None:
    """Deterministic kernels, no TF32: the settings every TensorFlow-based adapter uses."""
    tf.config.experimental.enable_op_determinism()
    tf.config.experimental.enable_tensor_float_32_execution(False)


class TfAdapter(Adapter):
    """``tf.nn`` losses on ``tf.constant`` tensors."""

    library = "tensorflow"
    modules: ClassVar[dict[str, str]] = {"tf": "tensorflow"}
    bindings = BINDINGS
    environment: ClassVar[dict[str, str]] = ENVIRONMENT

    def configure(self, namespace):
        configure_tensorflow(namespace["tf"])

    def tensor(self, array, dtype, *, index=False):
        tf = self.namespace()["tf"]
        if index:
            return tf.constant(np.asarray(array), dtype=tf.int64)
        return tf.cast(tf.constant(np.asarray(array, dtype=np.float64)), getattr(tf, dtype))

    def to_numpy(self, value):
        return tensorflow_to_numpy(self.namespace()["tf"], value)

    def tensor_source(self, array, dtype, *, index=False, differentiable=False):
        return tensorflow_source(array, "int64" if index else dtype)

    def value_and_gradient(self, call, operands, wrt):
        return tape_value_and_gradient(self.namespace()["tf"], call, operands, wrt)

    def value_source(self, call_source):
        return [f"loss = {call_source}", "result = tf.cast(loss, tf.float64).numpy().tolist()"]

    def gradient_source(self, call_source, wrt):
        return tape_gradient_source(call_source, wrt,
                                    "tf.cast(gradient, tf.float64).numpy().tolist()")


# --- shared with the Keras adapter on the TensorFlow backend and tf_keras -------------------


def tensorflow_to_numpy(tf, value) -> np.ndarray:
    value = tf.convert_to_tensor(value)
    if value.dtype.is_floating:
        return tf.cast(value, tf.float64).numpy()
    return value.numpy()


def tensorflow_source(array, dtype: str) -> str:
    """``tf.constant`` of literals (``tf.zeros`` for an empty array, whose shape a literal
    cannot carry)."""
    if np.size(array) == 0:
        return f"tf.zeros({np.shape(array)}, dtype=tf.{dtype})"
    return f"tf.constant({literal(array)}, dtype=tf.{dtype})"


def tape_value_and_gradient(tf, call, operands, wrt):
    """The call's value and, with ``wrt``, the gradient of its sum by ``tf.GradientTape``."""
    if wrt is None:
        return call(operands), None
    operand = operands[wrt]
    with tf.GradientTape() as tape:
        tape.watch(operand)
        value = call(operands)
        total = tf.reduce_sum(value)
    return value, tape.gradient(total, operand)


def tape_gradient_source(call_source: str, wrt: str, to_list: str) -> list[str]:
    return ["with tf.GradientTape() as tape:",
            f"    tape.watch({wrt})",
            f"    loss = {call_source}",
            "    total = tf.reduce_sum(loss)",
            f"gradient = tape.gradient(total, {wrt})",
            f"result = {to_list}"]

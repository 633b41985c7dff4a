"""TensorFlow: the ``tf.nn`` cross-entropy ops, gradients by ``tf.GradientTape``.

The ``tf.nn`` losses return one loss per element (sigmoid forms) or per sample (softmax forms);
a user reduces them with ``tf.reduce_sum`` / ``tf.reduce_mean``, and that is how the "sum" and
"mean" reductions are written: ``tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(...))``.
TensorFlow runs as ``adapters.tensorflow.framework`` sets it up (deterministic ops, no TF32).
"""

from __future__ import annotations

from adapters import compiled
from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.tensorflow.framework import TENSORFLOW

#: oracle reduction -> the function a user wraps the call in ("" for none)
_REDUCTIONS = {"none": "", "sum": "tf.reduce_sum", "mean": "tf.reduce_mean"}


_NAME = {"name": "the name of the operation in a graph: no effect on what it computes"}


def _binding(name: str, loss: str, expression: str, **declared) -> Binding:
    return Binding(api=f"tf.nn.{name}", library="tensorflow", loss=loss,
                   expression=expression, reductions=_REDUCTIONS,
                   surface=(f"tf.nn.{name}",), out_of_scope=_NAME, **declared)


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


class TfAdapter(Adapter):
    """``tf.nn`` losses on ``tf.constant`` tensors."""

    library = "tensorflow"
    framework = TENSORFLOW
    compiler = compiled.TF_XLA
    bindings = (*BINDINGS, *compiler.twins(BINDINGS))

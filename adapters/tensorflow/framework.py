"""TensorFlow as the adapters compute with it: deterministic ops, no TF32, C++ logs below
warnings silenced; gradients by ``tf.GradientTape``, directional derivatives by
``tf.autodiff.ForwardAccumulator`` (forward mode) and nested ``tf.GradientTape``s (the outer
tape's gradient of the inner gradient, weighted by the vector: a Hessian-vector product).
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from adapters.framework import Framework


class TensorFlow(Framework):
    name = "tensorflow"
    modules = MappingProxyType({"tf": "tensorflow"})
    source_spelling = ("tf.constant", "tf.zeros", "tf.{dtype}")
    list_spelling = "tf.cast({name}, tf.float64).numpy().tolist()"
    derivatives = MappingProxyType({
        "jvp": "tf.autodiff.ForwardAccumulator",
        "hvp": "tf.GradientTape over tf.GradientTape, output_gradients=v"})
    # TF_DETERMINISTIC_OPS: deterministic kernels from the first op on; TF_CPP_MIN_LOG_LEVEL:
    # no C++ info logs in the suite's output
    environment = MappingProxyType({"TF_CPP_MIN_LOG_LEVEL": "2", "TF_DETERMINISTIC_OPS": "1"})

    def configure(self, tf):
        tf.config.experimental.enable_op_determinism()
        tf.config.experimental.enable_tensor_float_32_execution(False)

    def tensor(self, array, dtype, *, index=False):
        tf = self.imported()
        if index:
            return tf.constant(np.asarray(array), dtype=tf.int64)
        return tf.cast(tf.constant(np.asarray(array, dtype=np.float64)), getattr(tf, dtype))

    def to_numpy(self, value):
        tf = self.imported()
        value = tf.convert_to_tensor(value)
        # cast in TensorFlow: a 0-d bfloat16 tensor cannot become a NumPy array (its
        # __array__ returns a scalar)
        if value.dtype.is_floating:
            return tf.cast(value, tf.float64).numpy()
        return value.numpy()

    def value_with_gradient(self, call, operands, wrt):
        tf = self.imported()
        operand = operands[wrt]
        with tf.GradientTape() as tape:
            tape.watch(operand)
            value = call(operands)
            total = tf.reduce_sum(value)
        return value, tape.gradient(total, operand)

    def gradient_source(self, call_source, wrt, to_list):
        return ["with tf.GradientTape() as tape:",
                f"    tape.watch({wrt})",
                f"    loss = {call_source}",
                "    total = tf.reduce_sum(loss)",
                f"gradient = tape.gradient(total, {wrt})",
                f"result = {to_list('gradient')}"]

    def value_with_jvp(self, call, operands, wrt, direction):
        tf = self.imported()
        # the accumulator watches the operand: every op run inside carries its tangent
        with tf.autodiff.ForwardAccumulator(operands[wrt], direction) as accumulator:
            value = call(operands)
        # ZERO: a result that does not depend on the operand has jvp 0, not None
        return value, accumulator.jvp(value, unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def value_with_hvp(self, call, operands, wrt, direction):
        tf = self.imported()
        operand = operands[wrt]
        with tf.GradientTape() as outer:
            outer.watch(operand)
            with tf.GradientTape() as inner:
                inner.watch(operand)
                value = call(operands)
                total = tf.reduce_sum(value)
            gradient = inner.gradient(total, operand)
        # d(gradient . v)/d operand = H v (the Hessian of a sum is symmetric). ZERO: where the
        # gradient does not depend on the operand (a loss linear in the target) the Hessian is
        # 0, which TensorFlow's default returns as None
        return value, outer.gradient(gradient, operand, output_gradients=direction,
                                     unconnected_gradients=tf.UnconnectedGradients.ZERO)

    def derivative_source(self, check, call_source, wrt, to_list):
        if check == "jvp":
            return [f"with tf.autodiff.ForwardAccumulator({wrt}, direction) as accumulator:",
                    f"    loss = {call_source}",
                    "jvp = accumulator.jvp(loss, "
                    "unconnected_gradients=tf.UnconnectedGradients.ZERO)",
                    f"result = {to_list('jvp')}"]
        return ["with tf.GradientTape() as outer:",
                f"    outer.watch({wrt})",
                "    with tf.GradientTape() as inner:",
                f"        inner.watch({wrt})",
                f"        loss = {call_source}",
                "        total = tf.reduce_sum(loss)",
                f"    gradient = inner.gradient(total, {wrt})",
                f"hvp = outer.gradient(gradient, {wrt}, output_gradients=direction, "
                "unconnected_gradients=tf.UnconnectedGradients.ZERO)",
                f"result = {to_list('hvp')}"]


TENSORFLOW = TensorFlow()

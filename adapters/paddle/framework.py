"""PaddlePaddle as the adapters compute with it: the CPU device, one CPU thread per kernel (its
default, set explicitly), so a reduction adds in one order; C++ logs below warnings silenced;
gradients by ``paddle.grad``, jvps by ``paddle.incubate.autograd.jvp``, Hessian-vector products
by ``paddle.grad`` twice.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from adapters.framework import Framework


class Paddle(Framework):
    name = "paddle"
    modules = MappingProxyType({"paddle": "paddle"})
    source_spelling = ("paddle.to_tensor", "paddle.empty", "paddle.{dtype}")
    list_spelling = "{name}.astype(paddle.float64).tolist()"
    # FLAGS_paddle_num_threads: the CPU kernels' thread count, read at import (1 is the
    # default; stated so a machine-wide setting cannot change the order of a sum);
    # GLOG_minloglevel: no C++ info logs in the suite's output
    environment = MappingProxyType({"FLAGS_paddle_num_threads": "1", "GLOG_minloglevel": "2"})
    # paddle's only jvp API is paddle.incubate.autograd.jvp; in dynamic graph mode (the mode
    # the adapters call in) it is not forward mode but the double-backward trick: the vjp of
    # a vjp (incubate/autograd/functional.py, _double_backward_trick; forward_grad needs a
    # static graph with prim enabled). Both modes thus need the losses' second derivatives,
    # which paddle 3.3's loss kernels lack: "(Unavailable) The Op <loss>_grad doesn't have
    # any grad op", paddle's behaviour, recorded as such
    derivatives = MappingProxyType({
        "jvp": "paddle.incubate.autograd.jvp (in dynamic graph mode the vjp of a vjp)",
        "hvp": "paddle.grad(create_graph=True), then paddle.grad(grad_outputs=direction)"})

    def configure(self, paddle):
        paddle.set_device("cpu")
        paddle.set_flags({"FLAGS_paddle_num_threads": 1})

    def tensor(self, array, dtype, *, index=False):
        paddle = self.imported()
        if index:
            return paddle.to_tensor(np.asarray(array), dtype=paddle.int64)
        return paddle.to_tensor(np.asarray(array, dtype=np.float64)).astype(dtype)

    def to_numpy(self, value):
        paddle = self.imported()
        # a tensor as it is (to_tensor of a tensor copies it, with a warning)
        value = (value if isinstance(value, paddle.Tensor) else paddle.to_tensor(value)).detach()
        if paddle.is_floating_point(value):
            return value.astype(paddle.float64).numpy()
        return value.numpy()

    def value(self, call, operands):
        with self.imported().no_grad():  # no graph recorded for a value alone
            return call(operands)

    def value_with_gradient(self, call, operands, wrt):
        paddle = self.imported()
        operand = operands[wrt]
        operand.stop_gradient = False
        value = call(operands)
        # allow_unused: a result that does not depend on the operand has no gradient (None)
        # rather than raising an error of ours
        (gradient,) = paddle.grad([value.sum()], [operand], allow_unused=True)
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"{wrt}.stop_gradient = False",
                f"loss = {call_source}",
                "loss.sum().backward()",
                f"result = {to_list(wrt + '.grad')}"]

    def value_with_jvp(self, call, operands, wrt, direction):
        paddle = self.imported()
        return paddle.incubate.autograd.jvp(lambda x: call({**operands, wrt: x}),
                                            operands[wrt], direction)

    def value_with_hvp(self, call, operands, wrt, direction):
        paddle = self.imported()
        operand = operands[wrt]
        operand.stop_gradient = False
        value = call(operands)
        (gradient,) = paddle.grad([value.sum()], [operand], create_graph=True)
        # no allow_unused, as a user writes it: paddle raises where it finds no dependence
        (hvp,) = paddle.grad([gradient], [operand], grad_outputs=[direction])
        return value, hvp

    def derivative_source(self, check, call_source, wrt, to_list):
        if check == "jvp":
            return [f"_, jvp = paddle.incubate.autograd.jvp(lambda {wrt}: {call_source}, {wrt}, "
                    "direction)",
                    f"result = {to_list('jvp')}"]
        return [f"{wrt}.stop_gradient = False",
                f"loss = {call_source}",
                f"(gradient,) = paddle.grad([loss.sum()], [{wrt}], create_graph=True)",
                f"(hvp,) = paddle.grad([gradient], [{wrt}], grad_outputs=[direction])",
                f"result = {to_list('hvp')}"]


PADDLE = Paddle()

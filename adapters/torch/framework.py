"""PyTorch as the adapters compute with it: deterministic algorithms, no TF32 in matmuls and
convolutions; gradients by ``torch.autograd.grad``, forward-mode derivatives by
``torch.func.jvp``, Hessian-vector products by double backward.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from adapters.framework import Framework


class Torch(Framework):
    name = "torch"
    modules = MappingProxyType({"torch": "torch"})
    source_spelling = ("torch.tensor", "torch.empty", "torch.{dtype}")
    list_spelling = "{name}.to(torch.float64).tolist()"
    # Inductor (torch.compile) looks for a C++ compiler before it runs one
    toolchain_errors = ("torch._inductor.exc.InvalidCxxCompiler",)
    # torch.func.jvp: torch's documented jvp (torch.func, functorch's successor), the one its
    # tutorials use; torch.autograd.forward_ad (dual tensors) is the lower-level API under it.
    # hvp: double backward, what most users write (torch.func.hvp is newer and rarer)
    derivatives = MappingProxyType({
        "jvp": "torch.func.jvp",
        "hvp": "torch.autograd.grad(create_graph=True), then torch.autograd.grad(grad_outputs="
               "direction)"})

    def configure(self, torch):
        torch.use_deterministic_algorithms(True)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def tensor(self, array, dtype, *, index=False):
        torch = self.imported()
        if index:
            return torch.tensor(array, dtype=torch.int64)
        return torch.tensor(np.asarray(array, dtype=np.float64)).to(getattr(torch, dtype))

    def to_numpy(self, value):
        torch = self.imported()
        value = torch.as_tensor(value).detach()
        if value.dtype.is_floating_point:
            return value.to(torch.float64).numpy()
        return value.numpy()

    def value(self, call, operands):
        with self.imported().no_grad():  # no graph recorded for a value alone
            return call(operands)

    def value_with_gradient(self, call, operands, wrt):
        torch = self.imported()
        operand = operands[wrt].requires_grad_(True)
        value = call(operands)
        # allow_unused: a result that does not depend on the operand has no gradient (None)
        # rather than raising an error of ours
        (gradient,) = torch.autograd.grad(value.sum(), [operand], allow_unused=True)
        return value, gradient

    def gradient_source(self, call_source, wrt, to_list):
        return [f"{wrt}.requires_grad_(True)",
                f"loss = {call_source}",
                "loss.sum().backward()",
                f"result = {to_list(wrt + '.grad')}"]

    def value_with_jvp(self, call, operands, wrt, direction):
        torch = self.imported()
        # forward mode proper: value and tangent from one pass. A loss without a forward-mode
        # formula raises NotImplementedError, and torch.func.jvp of a torch.compile'd call
        # raises torch._dynamo.exc.Unsupported: both torch's behaviour, recorded as such
        return torch.func.jvp(lambda x: call({**operands, wrt: x}), (operands[wrt],),
                              (direction,))

    def value_with_hvp(self, call, operands, wrt, direction):
        torch = self.imported()
        operand = operands[wrt].requires_grad_(True)
        value = call(operands)
        (gradient,) = torch.autograd.grad(value.sum(), [operand], create_graph=True)
        # no allow_unused, as a user writes it: where the gradient does not depend on the
        # operand in torch's graph (a compiled backward torch cannot differentiate again),
        # torch raises rather than give None
        (hvp,) = torch.autograd.grad(gradient, [operand], grad_outputs=[direction])
        return value, hvp

    def derivative_source(self, check, call_source, wrt, to_list):
        if check == "jvp":
            return [f"_, jvp = torch.func.jvp(lambda {wrt}: {call_source}, ({wrt},), "
                    "(direction,))",
                    f"result = {to_list('jvp')}"]
        return [f"{wrt}.requires_grad_(True)",
                f"loss = {call_source}",
                f"(gradient,) = torch.autograd.grad(loss.sum(), [{wrt}], create_graph=True)",
                f"(hvp,) = torch.autograd.grad(gradient, [{wrt}], grad_outputs=[direction])",
                f"result = {to_list('hvp')}"]


TORCH = Torch()

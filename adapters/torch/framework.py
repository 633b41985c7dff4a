"""PyTorch as the adapters compute with it: deterministic algorithms, no TF32 in matmuls and
convolutions; gradients by ``torch.autograd.grad``.
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


TORCH = Torch()

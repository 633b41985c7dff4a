"""PyTorch as the adapters compute with it: deterministic algorithms, no TF32 in matmuls and
convolutions; gradients by ``torch.autograd.grad``.
"""

from __future__ import annotations

from types import MappingProxyType

import numpy as np

from adapters.framework import Framework
from adapters.source import array_source


class Torch(Framework):
    name = "torch"
    modules = MappingProxyType({"torch": "torch"})
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

    def tensor_source(self, array, dtype):
        return array_source(array, "torch.tensor", "torch.empty", f"torch.{dtype}")

    def to_list_source(self, name):
        return f"{name}.to(torch.float64).tolist()"

    def value_and_gradient(self, call, operands, wrt):
        torch = self.imported()
        if wrt is None:
            with torch.no_grad():
                return call(operands), None
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

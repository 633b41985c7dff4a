"""PyTorch: the functional losses and their modules, gradients by autograd."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from adapters.base import Adapter, literal
from adapters.core import Binding

_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'"}
_ALL_RANKS = (0, 1, 2, 3, 4)
_CLASS_RANKS = (1, 2, 3, 4)  # (C,), (N, C), (N, C, d1), (N, C, d1, d2)
_IGNORE_NOTE = ("ignore_index defaults to -100 in torch, so a target of -100 is ignored even "
                "when the case sets no ignore_index.")


def _pair(name: str, module: str, loss: str, options: dict[str, str], **declared):
    """The functional form and the module form of one loss: one declaration each."""
    functional_kwargs = "{options}, reduction={reduction}"
    module_kwargs = "reduction={reduction}{options}"
    return (
        Binding(api=f"torch.nn.functional.{name}", library="torch", loss=loss,
                expression=f"torch.nn.functional.{name}(input, target{functional_kwargs})",
                options=options, reductions=_REDUCTIONS, **declared),
        Binding(api=f"torch.nn.{module}", library="torch", loss=loss,
                expression=f"torch.nn.{module}({module_kwargs})(input, target)",
                options=options, reductions=_REDUCTIONS, **declared),
    )


BINDINGS = (
    *_pair("binary_cross_entropy", "BCELoss", "binary_cross_entropy",
           {"weight": "weight=weight"}, ranks=_ALL_RANKS, gradients=("input", "target")),
    *_pair("binary_cross_entropy_with_logits", "BCEWithLogitsLoss",
           "binary_cross_entropy_with_logits",
           {"weight": "weight=weight", "pos_weight": "pos_weight=pos_weight"},
           ranks=_ALL_RANKS, gradients=("input", "target")),
    *_pair("cross_entropy", "CrossEntropyLoss", "cross_entropy",
           {"weight": "weight=weight", "ignore_index": "ignore_index={}",
            "label_smoothing": "label_smoothing={}"},
           targets=("indices", "probabilities"), ranks=_CLASS_RANKS,
           gradients=("input", "target"), notes=_IGNORE_NOTE),
    *_pair("nll_loss", "NLLLoss", "nll_loss",
           {"weight": "weight=weight", "ignore_index": "ignore_index={}"},
           targets=("indices",), ranks=_CLASS_RANKS, notes=_IGNORE_NOTE),
)


class TorchAdapter(Adapter):
    library = "torch"
    modules: ClassVar[dict[str, str]] = {"torch": "torch"}
    bindings = BINDINGS

    def configure(self, namespace):
        torch = namespace["torch"]
        torch.use_deterministic_algorithms(True)
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False

    def tensor(self, array, dtype, *, index=False):
        torch = self.namespace()["torch"]
        if index:
            return torch.tensor(array, dtype=torch.int64)
        return torch.tensor(np.asarray(array, dtype=np.float64)).to(getattr(torch, dtype))

    def to_numpy(self, value):
        torch = self.namespace()["torch"]
        value = value.detach()
        if value.dtype.is_floating_point:
            return value.to(torch.float64).numpy()
        return value.numpy()

    def tensor_source(self, array, dtype, *, index=False, differentiable=False):
        dtype = "int64" if index else dtype
        grad = ", requires_grad=True" if differentiable else ""
        if np.size(array) == 0:
            return f"torch.empty({np.shape(array)}, dtype=torch.{dtype}{grad})"
        return f"torch.tensor({literal(array)}, dtype=torch.{dtype}{grad})"

    def value_and_gradient(self, call, operands, wrt):
        torch = self.namespace()["torch"]
        if wrt is None:
            with torch.no_grad():
                return call(operands), None
        operand = operands[wrt].requires_grad_(True)
        value = call(operands)
        (gradient,) = torch.autograd.grad(value.sum(), [operand])
        return value, gradient

    def value_source(self, call_source):
        return [f"loss = {call_source}", "result = loss.to(torch.float64).tolist()"]

    def gradient_source(self, call_source, wrt):
        return [f"loss = {call_source}", "loss.sum().backward()",
                f"result = {wrt}.grad.to(torch.float64).tolist()"]

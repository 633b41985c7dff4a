"""PyTorch: the functional losses and their modules, gradients by autograd (torch as
``adapters.torch.framework`` sets it up)."""

from __future__ import annotations

from adapters import compiled
from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.torch.framework import TORCH

_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'"}
_ALL_RANKS = (0, 1, 2, 3, 4)
_CLASS_RANKS = (1, 2, 3, 4)  # (C,), (N, C), (N, C, d1), (N, C, d1, d2)
_IGNORE_NOTE = ("ignore_index defaults to -100 in torch, so a target of -100 is ignored even "
                "when the case sets no ignore_index.")


#: every loss of torch.nn.functional and torch.nn keeps these two for old code
_LEGACY = {
    "size_average": "deprecated (torch/nn/_reduction.py, legacy_get_string): it and reduce map "
                    "onto reduction, which the suite exercises in every value",
    "reduce": "deprecated (torch/nn/_reduction.py, legacy_get_string): it and size_average map "
              "onto reduction, which the suite exercises in every value",
}


def _pair(name: str, module: str, loss: str, options: dict[str, str], **declared):
    """The functional form and the module form of one loss: one declaration each."""
    functional_kwargs = "{options}, reduction={reduction}"
    module_kwargs = "reduction={reduction}{options}"
    return (
        Binding(api=f"torch.nn.functional.{name}", library="torch", loss=loss,
                expression=f"torch.nn.functional.{name}(input, target{functional_kwargs})",
                options=options, reductions=_REDUCTIONS,
                surface=(f"torch.nn.functional.{name}",), out_of_scope=_LEGACY, **declared),
        Binding(api=f"torch.nn.{module}", library="torch", loss=loss,
                expression=f"torch.nn.{module}({module_kwargs})(input, target)",
                options=options, reductions=_REDUCTIONS,
                surface=(f"torch.nn.{module}", f"torch.nn.{module}()"), out_of_scope=_LEGACY,
                **declared),
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
    framework = TORCH
    compiler = compiled.TORCH_COMPILE
    bindings = (*BINDINGS, *compiler.twins(BINDINGS))

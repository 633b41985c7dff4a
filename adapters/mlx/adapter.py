"""MLX: ``mlx.nn.losses.cross_entropy`` and ``mlx.nn.losses.binary_cross_entropy`` (both forms of
its ``with_logits``), on the CPU, gradients by ``mx.grad``.

``cross_entropy`` takes the class axis as ``axis``: the bindings pass ``axis=1``, the oracle's
layout, so inputs of rank 2 to 4 are offered (a rank-1 input has its classes on axis 0). Its
``weights`` multiply the per-sample losses, which have the shape of the targets less the class
axis: the oracle's ``sample_weight``. ``binary_cross_entropy``'s ``weights`` multiply the element
losses and must have their shape (no broadcasting), so the oracle's element ``weight``, drawn
with the shape of the last axis as PyTorch broadcasts it, is passed as
``mx.broadcast_to(weight, input.shape)``.

MLX's "mean" is ``mx.mean`` of the (weighted) losses, the oracle's "sum_over_batch_size"; it is
also the oracle's "mean" wherever no sample weight makes that a weighted mean, so both are
declared, and the suite finds where they part.

Calls run on MLX as ``adapters.mlx.framework`` sets it up (the CPU device; the mlx-cpu build has no
other).
"""

from __future__ import annotations

from typing import ClassVar

from adapters.adapter import Adapter
from adapters.binding import Binding
from adapters.mlx.framework import MLX

_REDUCTIONS = {"none": "'none'", "sum": "'sum'", "mean": "'mean'",
               "sum_over_batch_size": "'mean'"}
_AXIS1_RANKS = (2, 3, 4)  # (N, C), (N, C, d1), (N, C, d1, d2) with axis=1
_ALL_RANKS = (0, 1, 2, 3, 4)
_MEAN_NOTE = "'mean' is mx.mean of the weighted losses: the sum over the number of losses."
_ELEMENT_WEIGHT = {"weight": "weights=mx.broadcast_to(weight, input.shape)"}
_BCE_SIGNATURE = "mlx.nn.losses.binary_cross_entropy"

BINDINGS = (
    Binding(
        api="mlx.nn.losses.cross_entropy", library="mlx", loss="cross_entropy",
        expression=("mlx.nn.losses.cross_entropy(input, target{options}, axis=1, "
                    "reduction={reduction})"),
        options={"sample_weight": "weights=sample_weight", "label_smoothing": "label_smoothing={}"},
        reductions=_REDUCTIONS, targets=("indices", "probabilities"), ranks=_AXIS1_RANKS,
        # not the target: the formula logsumexp(z) - sum(y * z) (z shifted by its maximum) is
        # the loss only where the targets sum to 1, and its derivative in y, -z + max(z), is
        # not the loss's -log_softmax(z) (Keras's renormalised categorical is declared so too)
        gradients=("input",),
        surface=("mlx.nn.losses.cross_entropy",),
        notes="logsumexp(z) - z[target] for indices, logsumexp(z) - sum(y * z) for "
              "probabilities, z = logits minus their maximum along axis; with label_smoothing "
              "e: logsumexp(z) - (1 - e) * score - e * mean(z). Both assume rows of y summing "
              "to 1, so the gradient with respect to the target is not declared. "
              "label_smoothing must lie in [0, 1) (ValueError). " + _MEAN_NOTE,
    ),
    Binding(
        api="mlx.nn.losses.binary_cross_entropy", library="mlx",
        loss="binary_cross_entropy_with_logits",
        expression=("mlx.nn.losses.binary_cross_entropy(input, target{options}, "
                    "with_logits=True, reduction={reduction})"),
        options=_ELEMENT_WEIGHT, reductions=_REDUCTIONS, ranks=_ALL_RANKS,
        gradients=("input", "target"),
        surface=(_BCE_SIGNATURE,),
        notes="logaddexp(0, x) - x * y, element-wise; weights multiply the element losses and "
              "must have their shape. " + _MEAN_NOTE,
    ),
    Binding(
        api="mlx.nn.losses.binary_cross_entropy(with_logits=False)", library="mlx",
        loss="binary_cross_entropy",
        expression=("mlx.nn.losses.binary_cross_entropy(input, target{options}, "
                    "with_logits=False, reduction={reduction})"),
        options=_ELEMENT_WEIGHT, reductions=_REDUCTIONS, ranks=_ALL_RANKS,
        gradients=("input", "target"),
        surface=(_BCE_SIGNATURE,),
        notes="-(y * max(log p, -100) + (1 - y) * max(log(1 - p), -100)), element-wise (the "
              "clip of each log at -100 is documented). " + _MEAN_NOTE,
    ),
)


class MlxAdapter(Adapter):
    library = "mlx"
    # "import mlx.nn" binds mlx, so the calls read as users write them: mlx.nn.losses...
    modules: ClassVar[dict[str, str]] = {**MLX.modules, "mlx": "mlx.nn"}
    framework = MLX
    version_module = "mlx.core"
    bindings = BINDINGS

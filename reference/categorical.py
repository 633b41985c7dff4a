"""Cross-entropy over classes: on logits, on log-probabilities and on probabilities.

Shapes follow PyTorch for ``cross_entropy`` and ``nll_loss``: the class axis is axis 1 of
``(N, C)`` and ``(N, C, d1, ..., dk)`` inputs, or axis 0 of an unbatched ``(C,)`` input. A target
of integer dtype holds class indices, shaped like the input without its class axis; a floating
target holds probabilities (soft labels), shaped like the input. Label smoothing replaces the
target distribution q by ``(1 - e) * q + e / C``.
"""

from __future__ import annotations

import math
from typing import Literal

from numpy.typing import ArrayLike

from reference import _categorical_eval as _eval
from reference._types import ClipEpsilon, Loss, Reduction


def cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    *,
    sample_weight: ArrayLike | None = None,
    empty_mean: float = math.nan,
    validate: bool = True,
) -> Loss:
    """Softmax cross-entropy of logits ``input`` (z) against ``target``::

        l_i = sum_j weight_j * q_ij * (logsumexp(z_i) - z_ij)

    where ``q_i`` is the (smoothed) target distribution of sample i: one-hot at the class index,
    or the given probabilities. With class indices and no smoothing this is
    ``weight[y_i] * (logsumexp(z_i) - z_{i,y_i})``.

    - ``weight``: one weight per class, shape (C,).
    - ``ignore_index``: samples whose class index equals it have loss 0 and leave the mean's
      divisor; only with class-index targets. Default None: nothing is ignored (PyTorch's
      default is -100).
    - ``reduction="mean"``: class indices divide by the summed ``weight[y_i]`` (times sample
      weights) of the non-ignored samples; probability targets by the number of samples
      (PyTorch). ``reduction="weighted_mean"`` divides by the summed sample weights of the
      non-ignored samples, each times ``weight[y_i]`` for class indices (the class weight is a
      per-sample weight there, as Keras's ``class_weight`` is: the same divisor as "mean").
      See ``reference._reduction`` for the others, ``sample_weight``, ``empty_mean``.
    - ``validate=False`` accepts probability targets outside [0, 1] (their rows need not sum
      to 1) and any finite ``label_smoothing``. Class indices must still be classes. Terms of
      opposite signs at infinite logits give ``inf - inf = NaN``.

    Limits are exact: a single ``+inf`` logit makes the softmax one-hot there (loss 0 at that
    class, ``+inf`` at the others); a ``-inf`` logit has probability 0. A row whose limit does
    not exist (two ``+inf`` logits, all ``-inf``) or that holds a NaN has loss NaN.

    Gradient with respect to ``input``: ``c_i * (softmax(z_i)_k * sum_j a_ij - a_ik)`` with
    ``a_ij = weight_j * q_ij`` and ``c_i`` the sample's weight in the reduction (``sw_i`` or
    ``sw_i / D``, 0 when ignored); with respect to
    probability ``target``: ``c_i * (1 - e) * weight_j * (logsumexp(z_i) - z_ij)``.
    """
    return _eval.cross_entropy(wrt=None, **locals())[0]


def nll_loss(
    input: ArrayLike,
    target: ArrayLike,
    weight: ArrayLike | None = None,
    ignore_index: int | None = None,
    reduction: Reduction = "mean",
    *,
    sample_weight: ArrayLike | None = None,
    empty_mean: float = math.nan,
    validate: bool = True,
) -> Loss:
    """Negative log-likelihood of log-probabilities ``input`` at class indices ``target``::

        l_i = -weight[y_i] * input[i, y_i]

    ``input`` must hold log-probabilities: values in [-inf, 0] (NaN propagates), any values
    with ``validate=False``. Shapes, ``weight``, ``ignore_index``, reductions and the weighted
    means are those of ``cross_entropy`` with class indices ("mean" and "weighted_mean" both
    divide by the summed ``sample_weight_i * weight[y_i]``). Gradient with respect to
    ``input``: ``-c_i * weight[y_i]`` at the target class, 0 elsewhere.
    """
    return _eval.nll_loss(wrt=None, **locals())[0]


def categorical_cross_entropy(
    input: ArrayLike,
    target: ArrayLike,
    reduction: Reduction = "mean",
    label_smoothing: float = 0.0,
    *,
    axis: int = -1,
    ignore_index: int | None = None,
    clip_epsilon: ClipEpsilon = None,
    log_offset: float = 0.0,
    renormalize: bool | Literal["after_clip"] = False,
    sample_weight: ArrayLike | None = None,
    empty_mean: float = math.nan,
    validate: bool = True,
) -> Loss:
    """Cross-entropy of probabilities ``input`` (p) against ``target``, classes on ``axis``::

        l_i = -sum_j q_ij * log(p''_ij + log_offset)

    with ``0 * log 0 = 0``. The class axis is ``axis`` (default the last one, as in Keras and
    textbook NumPy code). ``target``: probabilities shaped like ``input`` (one-hot or soft), or
    integer class indices shaped like ``input`` without the class axis.

    - ``renormalize``: Keras first divides p by its sum over the class axis, p' = p / sum(p).
      ``renormalize="after_clip"`` swaps the two steps: p'' = clip(p) / sum(clip(p)), as Keras's
      TensorFlow backend does for sparse targets (log of the clipped p, then a softmax).
    - ``clip_epsilon``: Keras then clips p'' = clip(p', eps, 1 - eps); a pair (lo, hi) gives the
      bounds directly. Default: no clipping.
    - ``log_offset``: the ``+ 1e-9`` of textbook NumPy code. Default 0.
    - ``ignore_index``: samples whose class index equals it have loss 0 and gradient 0 and
      leave the mean's divisor, as in ``cross_entropy`` (Keras's
      ``SparseCategoricalCrossentropy(ignore_class=k)`` on probabilities); only with
      class-index targets. Their probabilities are still checked (as ``nll_loss`` checks the
      log-probabilities of ignored samples). Every sample ignored: a mean of nothing,
      ``empty_mean``. Default None: nothing is ignored.
    - ``reduction="mean"`` divides by the number of non-ignored samples, "weighted_mean" by the
      sum of their sample weights (Keras's "mean_with_sample_weight", sklearn's
      ``log_loss(normalize=True, sample_weight=w)``); see ``reference._reduction``.
    - ``validate=False`` accepts ``input`` and probability ``target`` outside [0, 1] (rows need
      not sum to 1) and any finite ``label_smoothing``, in the order above: renormalisation,
      clip, log. A log of a negative number is NaN (also at a class of target 0: 0 * NaN), and
      so is the gradient wherever that term depends on ``input``: at its own class, or with
      renormalisation at every class of the row.

    Gradient with respect to ``input``: the chain rule through the renormalisation and the clip
    (zero outside the clip bounds, inclusive bounds pass), from ``-q_ij / (p''_ij + o)``; after
    the clip, a clipped p_ik has gradient 0 but its bound still enters the sum; with
    respect to probability ``target``: ``-(1 - e) * log(p''_ij + o)``; both times ``c_i``, the
    sample's weight in the reduction (``sw_i / D``, 0 when ignored).
    """
    return _eval.categorical_cross_entropy(wrt=None, **locals())[0]

"""tinyloss: a stand-in for your library, two cross-entropy losses in plain NumPy.

Both are written the way a first version often is, straight from the textbook formula, so the
suite has something to find: no max shift inside the softmax, no stable softplus. Each keeps
the dtype it is given (float32 in, float32 arithmetic).
"""

import numpy as np

__version__ = "1.0"

_REDUCTIONS = ("none", "sum", "mean")


def softmax_cross_entropy(logits, labels, reduction="mean"):
    """Softmax cross-entropy of (N, C) logits at class indices ``labels`` (N,):
    ``loss_i = -log(exp(z_i,y_i) / sum_j exp(z_i,j))``, then reduced.

    Without the usual shift by max_j z_ij, exp overflows above log(largest float) (88.7 in
    float32, 709.8 in float64), and inf / inf is NaN; and a confident row's probability
    rounds to 1, so its small loss comes out as 0. Labels outside [0, C) raise IndexError.
    """
    classes = np.shape(logits)[1]
    if np.any((labels < 0) | (labels >= classes)):
        raise IndexError(f"labels must be in [0, {classes})")
    e = np.exp(logits)
    p = e / np.sum(e, axis=1, keepdims=True)
    losses = -np.log(np.take_along_axis(p, labels[:, None], axis=1)[:, 0])
    return _reduce(losses, reduction)


def binary_cross_entropy_with_logits(logits, targets, pos_weight=1.0, reduction="mean"):
    """Binary cross-entropy of logits x against targets y in [0, 1], elementwise:
    ``loss = pos_weight * y * log(1 + exp(-x)) + (1 - y) * log(1 + exp(x))``, then reduced.

    Each softplus is taken as written, so exp overflows for |x| beyond 88.7 (float32) or
    709.8 (float64): the term is inf, and inf times a target of 0 is NaN.
    """
    losses = (pos_weight * targets * np.log1p(np.exp(-logits))
              + (1 - targets) * np.log1p(np.exp(logits)))
    return _reduce(losses, reduction)


def _reduce(losses, reduction):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, not {reduction!r}")
    if reduction == "sum":
        return np.sum(losses)
    return np.mean(losses) if reduction == "mean" else losses

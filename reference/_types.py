"""The types in the signatures of the public oracle functions (hints only: the checks that hold at
run time are in ``reference._checks``).

Inputs are array-likes (anything ``numpy.asarray`` reads: arrays, lists, scalars). A loss is a
float64 scalar (``numpy.float64``, a ``float``) once reduced; with ``reduction="none"`` it is the
float64 array of per-sample losses, which for a single sample (an unbatched ``(C,)`` input of a
class loss) is again a ``numpy.float64``. A gradient is a float64 array shaped like the argument
it is taken with respect to.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import NDArray

Reduction: TypeAlias = Literal["none", "sum", "mean", "sum_over_batch_size", "weighted_mean"]
#: the reductions, in the order of ``Reduction``: the one list every layer reads
#: (``reference.specs.REDUCTIONS``)
REDUCTIONS: tuple[str, ...] = get_args(Reduction)
Wrt: TypeAlias = Literal["input", "target"]
#: ``eps`` (clip to ``[eps, 1 - eps]``) or the bounds ``(low, high)``; None: no clipping
ClipEpsilon: TypeAlias = float | tuple[float, float] | None
Loss: TypeAlias = np.float64 | NDArray[np.float64]
Gradient: TypeAlias = NDArray[np.float64]

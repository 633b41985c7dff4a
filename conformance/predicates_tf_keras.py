"""Case predicates used by the tf_keras registry (conformance/deviations/tf_keras.toml).

Plain NumPy: this module is imported in every env, with or without TensorFlow.
"""

from __future__ import annotations

import numpy as np

from adapters.core import Case
from conformance.predicates import predicate


@predicate
def single_sample_class_index_with_ignore_index(case: Case) -> bool:
    """The target is one 0-d integer class index (an unbatched sample: the input is a rank-1
    row of logits) and an ignore_index is given: the mask of ignored samples is a scalar."""
    target = np.asarray(case.inputs["target"])
    return (target.dtype.kind in "iu" and target.ndim == 0
            and case.options.get("ignore_index") is not None)

"""fakelib: a library whose behaviour changes with its version (tests/test_adapter_interface.py).

``XENT_FAKE_VERSION`` ("1.0" or "2.0"), read at import in every process, chooses the version.
Both compute binary cross-entropy with logits with the oracle itself, so that only each
version's quirk differs from it:

- 1.0: the mean of an empty batch is 0 (a divide-no-nan, as Keras's), where the oracle's is NaN;
- 2.0: that is fixed, but the logits are first clamped to [-100, 100], so a logit of 1000
  costs 100 instead of 1000.
"""

import os

import numpy as np

import reference

__version__ = os.environ.get("XENT_FAKE_VERSION", "1.0")
if __version__ not in ("1.0", "2.0"):
    raise ImportError(f"XENT_FAKE_VERSION must be 1.0 or 2.0, not {__version__!r}")


def bce_with_logits(logits, targets, reduction="mean"):
    if __version__ == "2.0":
        logits = np.clip(logits, -100.0, 100.0)
    elif reduction == "mean" and np.size(targets) == 0:
        return np.float64(0.0)
    return reference.binary_cross_entropy_with_logits(logits, targets, reduction=reduction)

"""A stand-in library with forward mode and second derivatives, for the derivatives category's
tests: its binary cross-entropy with logits returns a ``Traced`` loss that knows its own
derivatives (the oracle's, so an exact library), and its variants get them wrong (the jvp's
sign), or take no forward mode at all (the jvp raises while the reverse gradient works)."""

from __future__ import annotations

import numpy as np

import reference

LOSS = "binary_cross_entropy_with_logits"


class Traced:
    """A loss value that can be differentiated: the oracle's, scaled by ``jvp_sign``."""

    def __init__(self, input, target, jvp_sign=1.0, forward=True):
        self.arguments = {"input": input, "target": target, "reduction": "sum"}
        self.jvp_sign, self.forward = jvp_sign, forward

    def value(self):
        return np.float64(reference.binary_cross_entropy_with_logits(**self.arguments))

    def gradient(self, wrt):
        return reference.grad(LOSS, wrt=wrt, **self.arguments)

    def jvp(self, wrt, tangent):
        if not self.forward:
            raise NotImplementedError("forward-mode AD is not implemented for this loss")
        return self.jvp_sign * reference.jvp(LOSS, wrt=wrt, tangent=tangent, **self.arguments)

    def hvp(self, wrt, vector):
        return reference.hvp(LOSS, wrt=wrt, vector=vector, **self.arguments)


def exact(input, target):
    return Traced(input, target)


def wrong_jvp_sign(input, target):
    return Traced(input, target, jvp_sign=-1.0)


def no_forward_mode(input, target):
    return Traced(input, target, forward=False)


#: the exact loss, bound as an API that declares it takes no hvp
first_order_only = exact

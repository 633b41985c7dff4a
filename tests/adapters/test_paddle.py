"""What is PaddlePaddle's own (``adapters/paddle/``): its calls and their scope, the four losses
``cross_entropy`` is, and what it cannot compute raising."""

from __future__ import annotations

import numpy as np
from _examples import ordinary_case

from adapters import load_adapter
from adapters.paddle.adapter import BINDINGS

BY_API = {b.api: b for b in BINDINGS}


def test_every_binding_is_a_paddle_call_with_its_scope_stated():
    for binding in BINDINGS:
        assert binding.api.startswith(("paddle.nn.functional.", "paddle.nn."))
        # the API's name is the call a user writes, less the operands and options
        assert binding.expression.startswith(binding.api.split("(")[0] + "("), binding.api
        assert set(binding.dtypes) == {"float32", "float64"}, binding.api
        assert binding.gradients == ("input",), "paddle differentiates no label"
        # every parameter the binding leaves out is out of scope with a reason
        assert binding.surface, binding.api
        assert all(binding.out_of_scope.values()), binding.api
        assert "name" in binding.out_of_scope, binding.api


def test_the_four_cross_entropy_forms_are_the_losses_they_say():
    # use_softmax picks logits or probabilities, soft_label indices or probability targets
    forms = {api: b for api, b in BY_API.items()
             if b.expression.startswith(("paddle.nn.functional.cross_entropy(",
                                         "paddle.nn.CrossEntropyLoss("))}
    assert len(forms) == 8
    for api, binding in forms.items():
        probabilities_in = "use_softmax=False" in binding.expression
        soft = "soft_label=True" in binding.expression
        assert binding.loss == ("categorical_cross_entropy" if probabilities_in
                                else "cross_entropy"), api
        assert binding.targets == (("probabilities",) if soft else ("indices",)), api
        # the logits forms take the oracle's class axis 1, the probability forms paddle's last
        assert ("axis=1" in binding.expression) != probabilities_in, api
        # soft labels keep the class axis in reduction='none': not declared
        assert ("none" in binding.reductions) != soft, api


def test_what_paddle_cannot_compute_raises():
    adapter = load_adapter("paddle")
    # why float16 and bfloat16 are not declared: the call raises, it does not compute
    logits = BY_API["paddle.nn.functional.binary_cross_entropy_with_logits"]
    for dtype in ("float16", "bfloat16"):
        error = adapter.evaluate(logits, ordinary_case(logits, dtype=dtype)).error
        assert "not registered" in error[1], error
    # a class index out of range of the 3 classes
    functional = BY_API["paddle.nn.functional.cross_entropy"]
    case = ordinary_case(functional).with_inputs(target=np.array([0, 3]))
    assert adapter.evaluate(functional, case).error is not None

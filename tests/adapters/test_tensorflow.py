"""What is TensorFlow's own (``adapters/tensorflow/``): the ``tf.nn`` names, the reductions
written around the call, the required ``pos_weight``, and an out-of-range class raised on the
CPU."""

from __future__ import annotations

import numpy as np
from _examples import ordinary_case

from adapters import load_adapter
from adapters.binding import Case
from adapters.tensorflow.adapter import BINDINGS

BY_API = {b.api: b for b in BINDINGS}


def test_every_binding_calls_its_tf_nn_function():
    for binding in BINDINGS:
        assert binding.api.startswith("tf.nn."), binding.api
        assert binding.expression.startswith(binding.api + "("), binding.api
        assert set(binding.reductions) == {"none", "sum", "mean"}, binding.api


def test_reductions_wrap_the_call_as_users_write_them():
    sigmoid = BY_API["tf.nn.sigmoid_cross_entropy_with_logits"]
    assert sigmoid.call_source(ordinary_case(sigmoid, reduction="mean")) == (
        "tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input))")
    assert sigmoid.call_source(ordinary_case(sigmoid, reduction="none")) == (
        "tf.nn.sigmoid_cross_entropy_with_logits(labels=target, logits=input)")
    weighted = BY_API["tf.nn.weighted_cross_entropy_with_logits"]
    assert weighted.call_source(ordinary_case(weighted, reduction="sum")) == (
        "tf.reduce_sum(tf.nn.weighted_cross_entropy_with_logits(labels=target, logits=input, "
        "pos_weight=pos_weight))")


def test_the_weighted_form_requires_pos_weight():
    weighted = BY_API["tf.nn.weighted_cross_entropy_with_logits"]
    case = ordinary_case(weighted)
    assert weighted.supports(case) is None
    without = Case(case.loss, {k: v for k, v in case.inputs.items() if k != "pos_weight"},
                   case.options)
    assert weighted.supports(without) == "option pos_weight is required"


def test_a_class_index_out_of_range_is_an_observed_error():
    # on the CPU TensorFlow raises; the observation records it, the suite keeps going
    sparse = BY_API["tf.nn.sparse_softmax_cross_entropy_with_logits"]
    observation = load_adapter("tensorflow").evaluate(sparse, Case(
        "cross_entropy", {"input": np.zeros((2, 4)), "target": np.array([0, 4])},
        {"reduction": "none"}))
    assert observation.value is None
    assert observation.error[0].endswith("InvalidArgumentError"), observation.error

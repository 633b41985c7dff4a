"""What is Keras's own (``adapters/keras/``): the declarations of every flavour (Keras 3 on each
backend, tf_keras), their spellings and reduction literals, the environment choosing the
flavour, and the clipping Keras documents (which its registry states)."""

from __future__ import annotations

import numpy as np
import pytest
from _examples import ordinary_case

from adapters.binding import Case
from adapters.keras.adapter import BACKENDS, KerasAdapter, backend_from_environment, bindings_for
from conformance import selection
from conformance.judge import judge
from reference.specs import loss_spec


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_flavour_declares_its_twelve_apis(backend):
    bindings = bindings_for(backend)
    prefix = "tf.keras" if backend == "tf_keras" else "keras"
    assert len({b.api for b in bindings}) == len(bindings) == 12, "one binding per API"
    for binding in bindings:
        assert binding.api.startswith(prefix + ".losses."), binding.api
        assert binding.expression.startswith(binding.api.split("(")[0] + "("), binding.api
        assert binding.library == ("tf_keras" if backend == "tf_keras" else "keras")
        on_logits = loss_spec(binding.loss).input_kind == "logits"
        assert ("from_logits=True" in binding.api) == on_logits, binding.api
        # Keras's numeric conventions are findings, never declarations
        assert not {"clip_epsilon", "log_offset", "renormalize"} & set(binding.fixed_options)
        if binding.loss.startswith("binary"):
            assert binding.fixed_options == {"average_last_axis": True}


def test_loss_objects_take_sample_weight_at_the_call_and_dtype_at_construction():
    binding = bindings_for("jax")[0]
    assert binding.api == "keras.losses.BinaryCrossentropy"
    case = ordinary_case(binding, reduction="sum", dtype="float16",
                         options={"label_smoothing": None, "sample_weight": None})
    assert binding.call_source(case) == (
        "keras.losses.BinaryCrossentropy(from_logits=False, reduction='sum', label_smoothing=0.1, "
        "dtype='float16')(target, input, sample_weight=sample_weight)")
    legacy = bindings_for("tf_keras")[0]
    assert legacy.call_source(case) == (
        "tf.keras.losses.BinaryCrossentropy(from_logits=False, reduction='sum', "
        "label_smoothing=0.1)(target, input, sample_weight=sample_weight)")
    function = next(b for b in bindings_for("jax")
                    if b.api == "keras.losses.binary_crossentropy(from_logits=True)")
    case = ordinary_case(function, reduction="none", options={"label_smoothing": None})
    assert function.call_source(case) == (
        "keras.losses.binary_crossentropy(target, input, from_logits=True, "
        "label_smoothing=0.1)")


def test_reductions_map_to_keras_literals():
    by_api = {b.api: b for b in bindings_for("torch")}
    plain = by_api["keras.losses.CategoricalCrossentropy(from_logits=True)"]
    assert plain.reductions == {"none": "None", "sum": "'sum'",
                                "sum_over_batch_size": "'sum_over_batch_size'", "mean": "'mean'",
                                "weighted_mean": "'mean_with_sample_weight'"}
    # class indices with logits: the oracle's "mean" is the sample-weighted mean
    sparse = by_api["keras.losses.SparseCategoricalCrossentropy(from_logits=True)"]
    assert sparse.reductions["mean"] == "'mean_with_sample_weight'"
    assert sparse.reductions["weighted_mean"] == "'mean_with_sample_weight'"
    assert by_api["keras.losses.sparse_categorical_crossentropy"].reductions == {"none": ""}
    legacy = {b.api: b for b in bindings_for("tf_keras")}
    assert set(legacy["tf.keras.losses.BinaryCrossentropy"].reductions) == {
        "none", "sum", "sum_over_batch_size"}


def test_the_environment_selects_the_backend(monkeypatch):
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    assert backend_from_environment() == "tensorflow"  # Keras's own default
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    assert backend_from_environment() == "jax"
    monkeypatch.setenv("TF_USE_LEGACY_KERAS", "1")
    assert backend_from_environment() == "tf_keras"
    assert KerasAdapter().library == "tf_keras"
    # what a reproducer sets, so that it runs on the same backend, set up as its framework
    assert KerasAdapter("jax").environment == {"KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu",
                                               "JAX_ENABLE_X64": "1",
                                               "JAX_DEFAULT_MATMUL_PRECISION": "highest"}
    assert KerasAdapter("tf_keras").environment["TF_USE_LEGACY_KERAS"] == "1"
    assert KerasAdapter("tensorflow").environment["TF_DETERMINISTIC_OPS"] == "1"
    with pytest.raises(ValueError, match="unknown Keras backend"):
        KerasAdapter("theano")


@pytest.mark.parametrize(("function", "inputs", "target", "about"), [
    # p = 0 and p = 1 against the other label, certain-wrong: (2 * 16.1 + log 2) / 4 = 8.2
    ("binary_crossentropy", [[0.0, 1.0, 0.5, 1.0]], [[1.0, 0.0, 1.0, 1.0]], [(7, 9)]),
    # certain-wrong at class 0: 16.1; [3/8, 3/16, 3/16, 0] is [1/2, 1/4, 1/4, 0] renormalised:
    # (log 2 + log 4) / 2 = 1.04
    ("categorical_crossentropy", [[0.0, 0.25, 0.25, 0.5], [0.375, 0.1875, 0.1875, 0.0]],
     [[1.0, 0, 0, 0], [0.5, 0.5, 0, 0]], [(15, 17), (1.03, 1.05)]),
])
def test_clipping_is_what_keras_documents(function, inputs, target, about):
    """The exact loss of a certain-wrong prediction is +inf; Keras clips the probabilities to
    [1e-7, 1 - 1e-7] first, so it costs about -log(1e-7) = 16.1 (-log(2e-7) = 15.4 in
    tf_keras, which adds 1e-7 inside the logs too). The registry states the clip, and its
    claim holds."""
    adapter = KerasAdapter()
    prefix = "tf.keras" if adapter.library == "tf_keras" else "keras"
    binding = adapter.binding(f"{prefix}.losses.{function}")
    case = Case(binding.loss, {"input": np.array(inputs), "target": np.array(target)},
                {"reduction": "none"})
    observation = adapter.evaluate(binding, case)
    verdict = judge(binding, case, observation)
    assert np.inf in verdict.expected
    assert all(low < v < high for v, (low, high) in zip(observation.value, about, strict=True))
    entry = selection.current().registry(binding.library).explain(
        binding, case, "clipped", "edge_cases", "value", observation, verdict)
    assert entry is not None, observation.reproducer
    assert "clip_epsilon" in str(entry.actual), entry.id

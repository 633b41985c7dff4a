"""The NumPy, SciPy and scikit-learn adapters against the oracle, and their reproducers.

On regular inputs in float64 each binding agrees with the oracle to a few ulps; each reproducer,
run on its own, prints exactly the observed value. An adapter whose library is missing skips
its tests with its own "unavailable: ..." reason.
"""

from __future__ import annotations

import subprocess
import sys
import zlib
from typing import ClassVar

import numpy as np
import pytest

import reference
from adapters.binding import Case
from adapters.numpy.adapter import ADAPTERS, NumpyAdapter, ScipyAdapter, SklearnAdapter

# float64 agreement on regular inputs: a handful of roundings in the library's formula (log,
# log_softmax, a short sum) against the oracle's exact value; not a tolerance of the suite.
FEW_ULPS = 8 * np.finfo(np.float64).eps

_INSTANCES = {cls: cls() for cls in ADAPTERS}


def _available(cls):
    adapter = _INSTANCES[cls]
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def _bindings():
    return [pytest.param(cls, b, id=b.api) for cls in ADAPTERS for b in cls.bindings]


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _regular_case(binding, reduction=None, dtype="float64", rank=None, weighted=False):
    """Inputs well inside the domain: probabilities of at least 0.01, logits of size ~3."""
    reduction = reduction or next(iter(binding.reductions))
    rng = np.random.default_rng(zlib.crc32(f"{binding.api}-{reduction}-{rank}".encode()))
    rank = rank if rank is not None else (2 if 2 in binding.ranks else binding.ranks[0])
    shape = (4, 3, 2, 2)[:rank]
    loss = binding.loss
    if loss == "binary_cross_entropy":
        inputs = {"input": np.asarray(rng.uniform(0.05, 0.95, shape)),
                  "target": np.asarray(rng.integers(0, 2, shape), dtype=np.float64)}
    elif loss == "binary_cross_entropy_with_logits":
        inputs = {"input": np.asarray(3 * rng.standard_normal(shape)),
                  "target": np.asarray(rng.uniform(0, 1, shape))}
    else:
        class_axis = 1 if loss == "cross_entropy" else rank - 1
        n_classes = shape[class_axis]
        sample_shape = shape[:class_axis] + shape[class_axis + 1:]
        if loss == "cross_entropy":
            inputs = {"input": 2 * rng.standard_normal(shape)}
        else:
            inputs = {"input": np.clip(_softmax(rng.standard_normal(shape)), 0.01, None)}
        indices = np.asarray(rng.integers(0, n_classes, sample_shape))
        if "indices" in binding.targets:
            inputs["target"] = indices
        else:
            soft = _softmax(rng.standard_normal((*sample_shape, n_classes)))
            inputs["target"] = np.moveaxis(soft, -1, class_axis)
    if weighted:  # only sklearn offers sample_weight: one weight per row of a 1-D or 2-D input
        inputs["sample_weight"] = rng.uniform(0.5, 2.0, shape[:1])
    return Case(loss, inputs, {"reduction": reduction}, dtype)


def _oracle(case, fed, **extra):
    return getattr(reference, case.loss)(**fed, **dict(case.options), **extra)


def _assert_few_ulps(observed, expected, case):
    """Agreement to a few ulps of the terms the formula adds: for logits, log_softmax(z)_y =
    z_y - logsumexp(z) cancels terms of size max|z|, so a small loss is exact only to ulps of
    that size, not of itself."""
    scale = 0.0
    if case.loss in ("cross_entropy", "binary_cross_entropy_with_logits"):
        scale = float(np.max(np.abs(observed.fed["input"]))) + 1.0
    np.testing.assert_allclose(observed.value, expected, rtol=FEW_ULPS,
                               atol=FEW_ULPS * scale, err_msg=observed.reproducer)


# The seed's categorical formula adds 1e-9 inside the log: the oracle's log_offset states it.
_DECLARED_SEMANTICS = {"textbook.categorical_cross_entropy_loss": {"log_offset": 1e-9}}


# --- declarations ------------------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "binding"), _bindings())
def test_declaration(cls, binding):
    assert binding.library == cls.library
    assert binding.loss in reference.LOSSES
    assert binding.gradients == ()
    assert "bfloat16" not in binding.dtypes
    assert binding.reductions


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.library)
def test_api_names_are_unique(cls):
    apis = [b.api for b in cls.bindings]
    assert len(apis) == len(set(apis))


# --- values against the oracle -----------------------------------------------------------------


def _reduction_params():
    return [pytest.param(cls, b, r, id=f"{b.api}-{r}")
            for cls in ADAPTERS for b in cls.bindings for r in b.reductions]


@pytest.mark.parametrize(("cls", "binding", "reduction"), _reduction_params())
def test_value_matches_oracle(cls, binding, reduction):
    adapter = _available(cls)
    case = _regular_case(binding, reduction)
    assert binding.supports(case) is None
    observed = adapter.evaluate(binding, case)
    assert observed.error is None, observed.reproducer
    expected = _oracle(case, observed.fed, **_DECLARED_SEMANTICS.get(binding.api, {}))
    _assert_few_ulps(observed, expected, case)


@pytest.mark.parametrize(("cls", "binding"), [
    pytest.param(cls, b, id=b.api) for cls in ADAPTERS for b in cls.bindings
    if "sample_weight" in b.options])
def test_sample_weighted_sum_matches_oracle(cls, binding):
    adapter = _available(cls)
    case = _regular_case(binding, "sum", weighted=True)
    assert binding.supports(case) is None
    observed = adapter.evaluate(binding, case)
    assert observed.error is None, observed.reproducer
    _assert_few_ulps(observed, _oracle(case, observed.fed), case)


@pytest.mark.parametrize(("cls", "binding", "rank"), [
    pytest.param(cls, b, rank, id=f"{b.api}-rank{rank}")
    for cls in ADAPTERS for b in cls.bindings for rank in b.ranks])
def test_every_declared_rank(cls, binding, rank):
    adapter = _available(cls)
    case = _regular_case(binding, "none" if "none" in binding.reductions else None, rank=rank)
    observed = adapter.evaluate(binding, case)
    assert observed.error is None, observed.reproducer
    expected = _oracle(case, observed.fed, **_DECLARED_SEMANTICS.get(binding.api, {}))
    _assert_few_ulps(observed, expected, case)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize(("cls", "binding"), _bindings())
def test_declared_dtypes_run_on_rounded_inputs(cls, binding, dtype):
    adapter = _available(cls)
    case = _regular_case(binding, dtype=dtype)
    observed = adapter.evaluate(binding, case)
    assert observed.error is None, observed.reproducer
    for name, array in case.inputs.items():
        rounded = array if array.dtype.kind in "iu" else array.astype(dtype).astype(np.float64)
        np.testing.assert_array_equal(observed.fed[name], rounded, err_msg=name)
    assert observed.value.dtype == np.float64
    # Computed in the low precision: close to the oracle on the rounded inputs, not exact.
    expected = _oracle(case, observed.fed, **_DECLARED_SEMANTICS.get(binding.api, {}))
    np.testing.assert_allclose(observed.value, expected, rtol=64 * np.finfo(dtype).eps,
                               err_msg=observed.reproducer)


# --- reproducers -------------------------------------------------------------------------------


def _run(source: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", source], capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.mark.parametrize(("cls", "binding"), _bindings())
def test_reproducer_prints_the_observed_value(cls, binding):
    adapter = _available(cls)
    case = _regular_case(binding, dtype="float32", weighted="sample_weight" in binding.options)
    observed = adapter.evaluate(binding, case)
    assert observed.error is None, observed.reproducer
    imported = {line.split()[1] for line in observed.reproducer.splitlines()
                if line.startswith("import ")}
    assert imported <= {"numpy", "scipy.special", "sklearn.metrics"}
    assert observed.reproducer.rstrip().endswith("print(result)")
    run = _run(observed.reproducer)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == repr(observed.value.tolist()), observed.reproducer


# --- what is not offered -----------------------------------------------------------------------


@pytest.mark.parametrize(("cls", "binding"), _bindings())
def test_bfloat16_is_undeclared_and_fails(cls, binding):
    adapter = _available(cls)
    case = _regular_case(binding, dtype="bfloat16")
    assert binding.supports(case) == "dtype bfloat16 not offered"
    observed = adapter.evaluate(binding, case)
    assert observed.error is not None
    assert observed.error[0] == "TypeError"
    assert "bfloat16" in observed.error[1]


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.library)
def test_gradient_is_not_offered(cls):
    adapter = _available(cls)
    binding = cls.bindings[0]
    case = _regular_case(binding)
    assert binding.supports(case, check="gradient") == "no gradient with respect to input"
    observed = adapter.evaluate(binding, case, check="gradient")
    assert observed.error == ("NotImplementedError",
                              f"{cls.library} has no automatic differentiation")
    assert "NotImplementedError" in observed.reproducer


def test_missing_library_reports_unavailable():
    class Missing(SklearnAdapter):
        modules: ClassVar[dict[str, str]] = {
            "np": "numpy", "sklearn": "sklearn_not_installed.metrics"}

    reason = Missing().unavailable()
    assert reason is not None
    assert reason.startswith("unavailable: ModuleNotFoundError")


# --- semantics stated in the notes (for the deviation registry) -------------------------------


def test_textbook_binary_has_no_epsilon():
    # p = 1, y = 1: the exact loss is -log(1) = 0, but (1 - y) * log(1 - p) = 0 * -inf = nan.
    adapter = NumpyAdapter()
    binding = adapter.binding("textbook.binary_cross_entropy_loss")
    case = Case("binary_cross_entropy", {"input": np.array([1.0]), "target": np.array([1.0])})
    observed = adapter.evaluate(binding, case)
    assert np.isnan(observed.value)
    assert _oracle(case, observed.fed) == 0.0


def test_scipy_xlogy_is_exact_at_zero_and_one():
    # xlogy(0, 0) = 0 and xlog1py(0, -1) = 0: p in {0, 1} with a matching label costs 0; a
    # certain-wrong prediction costs inf, as in the oracle.
    adapter = _available(ScipyAdapter)
    binding = adapter.binding("scipy.special.xlogy[binary]")
    case = Case("binary_cross_entropy",
                {"input": np.array([0.0, 1.0, 0.0]), "target": np.array([0.0, 1.0, 1.0])},
                {"reduction": "none"})
    observed = adapter.evaluate(binding, case)
    np.testing.assert_array_equal(observed.value, [0.0, 0.0, np.inf])
    np.testing.assert_array_equal(observed.value, _oracle(case, observed.fed))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_log_loss_clips_at_machine_epsilon(dtype):
    # A zero probability at the true class costs -log(eps) = 52 log 2 = 36.04 in float64
    # (23 log 2 = 15.94 in float32): log_loss clips y_proba to [eps, 1 - eps] of its dtype.
    adapter = _available(SklearnAdapter)
    binding = adapter.binding("sklearn.metrics.log_loss")
    case = Case("categorical_cross_entropy",
                {"input": np.array([[0.0, 1.0], [0.25, 0.75]]), "target": np.array([0, 1])},
                {"reduction": "sum"}, dtype)
    observed = adapter.evaluate(binding, case)
    eps = float(np.finfo(dtype).eps)
    assert _oracle(case, observed.fed) == np.inf
    clipped = _oracle(case, observed.fed, clip_epsilon=(eps, float(1 - np.finfo(dtype).eps)))
    np.testing.assert_allclose(observed.value, clipped, rtol=4 * eps)


def test_log_loss_does_not_renormalise():
    # Rows summing to 0.5: the loss is -mean(log p_y), not -mean(log(p_y / 0.5)).
    adapter = _available(SklearnAdapter)
    binding = adapter.binding("sklearn.metrics.log_loss")
    case = Case("categorical_cross_entropy",
                {"input": np.array([[0.35, 0.1, 0.05], [0.05, 0.4, 0.05]]),
                 "target": np.array([0, 1])})
    observed = adapter.evaluate(binding, case)
    np.testing.assert_allclose(observed.value, _oracle(case, observed.fed), rtol=FEW_ULPS)


def test_log_loss_weighted_mean_divides_by_the_weights():
    # Why the sample-weighted bindings offer only "sum": normalize=True with sample_weight is
    # sum(w l) / sum(w), the oracle's categorical "mean" is sum(w l) / N.
    adapter = _available(SklearnAdapter)
    binding = adapter.binding("sklearn.metrics.log_loss[sample_weight]")
    assert "mean" not in binding.reductions
    sklearn = adapter.namespace()["sklearn"]
    p, y, w = np.array([[0.7, 0.3], [0.2, 0.8]]), np.array([0, 1]), np.array([1.0, 3.0])
    weighted_sum = _oracle(Case("categorical_cross_entropy", {}, {"reduction": "sum"}),
                           {"input": p, "target": y, "sample_weight": w})
    assert sklearn.metrics.log_loss(y, p, sample_weight=w) == pytest.approx(
        weighted_sum / w.sum(), rel=FEW_ULPS)


def test_log_loss_takes_one_hot_but_not_soft_labels():
    # Why no log_loss binding offers probability targets: a label-indicator y_true gives the
    # class-index loss, but soft labels are refused by its label binarisation.
    adapter = _available(SklearnAdapter)
    sklearn = adapter.namespace()["sklearn"]
    p = np.array([[0.5, 0.5], [0.2, 0.8]])
    assert sklearn.metrics.log_loss(np.eye(2)[[0, 1]], p) == sklearn.metrics.log_loss([0, 1], p)
    with pytest.raises(ValueError, match="label binarization"):
        sklearn.metrics.log_loss(np.array([[0.5, 0.5], [0.0, 1.0]]), p)

"""The tinygrad adapter (``adapters/tinygrad/adapter.py``): its declarations against the oracle and
against tinygrad.

Each binding is checked on regular float64 cases against the oracle (values and gradients
within 16 float64 ulp of their largest element: tinygrad evaluates exp and log with its own
polynomials, a few ulp off), every declared reduction and rank, the option spellings, ``fed``
holding what tinygrad got, and every reproducer is run in a fresh interpreter and must print
the observed numbers exactly. Every new shape or dtype makes tinygrad compile kernels (about a
second each), so the cases share a few shapes. Tests that need tinygrad skip with the adapter's
"unavailable: ..." reason when it is missing.

The C compiler the kernels need (``adapters.tinygrad.framework.Tinygrad``): a ``CC`` the user
set, else the ziglang package's zig cc, else clang on PATH, else tinygrad is unavailable with the
reason; the env's kernel cache is named after the compiler.
"""

from __future__ import annotations

import ast
import importlib.metadata
import math
import os
import shutil
import sys
import types
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest
from _reproducers import assert_reproducers_print

import reference
from adapters.binding import Binding, Case
from adapters.tinygrad.adapter import BINDINGS, TinygradAdapter
from adapters.tinygrad.framework import Tinygrad

SHAPES = {0: (), 1: (4,), 2: (3, 4), 3: (3, 4, 2), 4: (2, 4, 2, 2)}  # 4 classes, oracle layout
BY_API = {b.api: b for b in BINDINGS}
SPARSE = BY_API["tinygrad.Tensor.sparse_categorical_crossentropy"]
BCE = BY_API["tinygrad.Tensor.binary_crossentropy"]
BCE_LOGITS = BY_API["tinygrad.Tensor.binary_crossentropy_logits"]
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7, "float32": 2.0**-23, "float64": 2.0**-52}
#: what configure reads of tinygrad: enough to choose the compiler without it
CPU_ONLY = types.SimpleNamespace(Device=types.SimpleNamespace(DEFAULT="CPU"))
NO_COMPILER = ("unavailable: RuntimeError: tinygrad's CPU device compiles its kernels with a C "
               "compiler: no clang on PATH and the ziglang package is not installed "
               "(pip install ziglang)")


@pytest.fixture(scope="module")
def adapter():
    adapter = TinygradAdapter()
    reason = adapter.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return adapter


def make_case(binding: Binding, *, rank=2, reduction="mean", dtype="float64", seed=0,
              **options) -> Case:
    """A regular case: logits of order 1, binary targets in (0.05, 0.95), 4 classes."""
    rng = np.random.default_rng(seed)
    shape = SHAPES[rank]
    logits = rng.normal(scale=2.0, size=shape)
    if binding.loss == "binary_cross_entropy":
        inputs = {"input": 1 / (1 + np.exp(-logits)), "target": rng.uniform(0.05, 0.95, shape)}
    elif binding.loss == "binary_cross_entropy_with_logits":
        inputs = {"input": logits, "target": rng.uniform(0.05, 0.95, shape)}
    else:
        inputs = {"input": logits, "target": rng.integers(0, 4, size=shape[:-1])}
    inputs |= {k: v for k, v in options.items() if isinstance(v, np.ndarray)}
    scalars = {k: v for k, v in options.items() if not isinstance(v, np.ndarray)}
    return Case(binding.loss, inputs, {"reduction": reduction, **scalars}, dtype)


def oracle(case: Case, fed, wrt=None):
    """The oracle's value (or gradient with respect to ``wrt``) on exactly what tinygrad got."""
    if wrt is None:
        return np.asarray(getattr(reference, case.loss)(**fed, **case.options))
    return np.asarray(reference.grad(case.loss, wrt=wrt, **fed, **case.options))


def close(observed, expected, dtype="float64", units=16):
    """Within ``units`` ulps of the dtype, of the largest expected element (at least 1)."""
    scale = max(np.max(np.abs(expected), initial=0.0), 1.0)
    return bool(np.max(np.abs(observed - expected), initial=0.0) <= units * EPS[dtype] * scale)


def described(case: Case, observation) -> str:
    return f"{case.options} {case.dtype}\n{observation.reproducer}"


# --- the declarations (no tinygrad needed) ----------------------------------------------------

def test_declarations_call_the_unbound_methods_of_tensor():
    assert len(BY_API) == len(BINDINGS), "one binding per API"
    for binding in BINDINGS:
        assert binding.library == "tinygrad"
        assert binding.surface == (binding.api,)
        # Tensor.f(input, target, ...) is input.f(target, ...), named so the surface check
        # can find the callable
        assert binding.expression.startswith(binding.api + "(input, target")
        # bfloat16 too: zig cc's clang takes __bf16 (the adapter's docstring)
        assert binding.dtypes == ("float16", "bfloat16", "float32", "float64")
    # classes on the last axis: only where that is the oracle's axis 1
    assert SPARSE.ranks == (1, 2)
    assert SPARSE.targets == ("indices",)


def test_options_are_spelled_as_tinygrad_takes_them():
    case = make_case(SPARSE, reduction="sum", ignore_index=2, label_smoothing=0.25)
    assert SPARSE.supports(case) is None
    assert SPARSE.call_source(case) == (
        "tinygrad.Tensor.sparse_categorical_crossentropy(input, target, ignore_index=2, "
        "label_smoothing=0.25, reduction='sum')")
    case = make_case(BCE_LOGITS, reduction="none", pos_weight=np.full(4, 2.0))
    assert BCE_LOGITS.call_source(case) == (
        "tinygrad.Tensor.binary_crossentropy_logits(input, target, pos_weight=pos_weight, "
        "reduction='none')")
    # no element weight: binary_crossentropy has none
    assert BCE.supports(make_case(BCE, weight=np.ones(4))) == "option weight not offered"
    assert SPARSE.supports(make_case(SPARSE, rank=3)) == "input rank 3 not offered"


def test_missing_library_is_unavailable_with_the_reason():
    class Missing(TinygradAdapter):
        modules: ClassVar[dict[str, str]] = {"tinygrad": "tinygrad_not_installed_here"}

    reason = Missing().unavailable()
    assert reason.startswith("unavailable: ModuleNotFoundError"), reason
    assert "tinygrad_not_installed_here" in reason


# --- agreement with the oracle -----------------------------------------------------------------

@pytest.mark.parametrize(("api", "reduction"),
                         [(b.api, r) for b in BINDINGS for r in b.reductions])
def test_values_and_gradients_match_the_oracle(adapter, api, reduction):
    binding = BY_API[api]
    case = make_case(binding, reduction=reduction)
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert close(observation.value, expected), described(case, observation)
    for wrt in binding.gradients:
        observation = adapter.evaluate(binding, case, "gradient", wrt)
        assert observation.error is None, described(case, observation)
        expected = oracle(case, observation.fed, wrt)
        assert observation.gradient.shape == expected.shape
        assert close(observation.gradient, expected), described(case, observation)


@pytest.mark.parametrize(("api", "rank"), [(b.api, rank) for b in BINDINGS
                                             for rank in b.ranks if rank != 2])
def test_other_ranks_match_the_oracle(adapter, api, rank):
    binding = BY_API[api]
    case = make_case(binding, rank=rank, reduction="none")
    observation = adapter.evaluate(binding, case)
    assert observation.error is None, described(case, observation)
    expected = oracle(case, observation.fed)
    assert observation.value.shape == expected.shape
    assert close(observation.value, expected), described(case, observation)


def test_options_are_the_oracles(adapter):
    # ignore_index: the ignored sample costs 0 and the mean divides by the others;
    # label_smoothing: (1 - e) y + e / C; pos_weight: the weight of the positive term
    for binding, options in ((SPARSE, {"ignore_index": 1, "label_smoothing": 0.2}),
                             (BCE_LOGITS, {"pos_weight": np.array([0.5, 1.0, 2.0, 4.0])})):
        case = make_case(binding, **options)
        if binding is SPARSE:
            case = case.with_inputs(target=np.array([1, 3, 0]))
        observation = adapter.evaluate(binding, case)
        assert close(observation.value, oracle(case, observation.fed)), options
        gradient = adapter.evaluate(binding, case, "gradient")
        assert close(gradient.gradient, oracle(case, gradient.fed, "input")), options


def test_hand_derived_values(adapter):
    # uniform logits over 4 classes: log 4 per sample; gradient 1/4 - onehot
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, 0, 1])},
                {"reduction": "none"})
    assert close(adapter.evaluate(SPARSE, case).value, np.full(3, math.log(4)))
    gradient = adapter.evaluate(SPARSE, case, "gradient").gradient
    assert gradient.tolist() == [[0.25, 0.25, 0.25, -0.75], [-0.75, 0.25, 0.25, 0.25],
                                 [0.25, -0.75, 0.25, 0.25]]
    # ignore_index=-1 is tinygrad's "ignore nothing": the sample of class -1 is not dropped
    # from the mean's count (its one-hot row is all zero, so it costs 0): log 4 * 2 / 3
    case = Case("cross_entropy", {"input": np.zeros((3, 4)), "target": np.array([3, -1, 1])},
                {"reduction": "mean", "ignore_index": -1})
    assert close(adapter.evaluate(SPARSE, case).value, np.array(2 * math.log(4) / 3))
    # no clamp of the logs: p = 0 with y = 1 costs +inf, and 0 * log 0 is NaN
    case = Case("binary_cross_entropy", {"input": np.array([0.0, 0.0, 0.5]),
                                         "target": np.array([1.0, 0.0, 1.0])},
                {"reduction": "none"})
    value = adapter.evaluate(BCE, case).value
    assert value[0] == math.inf
    assert math.isnan(value[1])
    assert close(value[2:], np.array([math.log(2)]))


# --- the environment: the CPU device, float64 is float64, inputs are fed exactly ----------------

def test_the_cpu_device_and_float64(adapter):
    tinygrad = adapter.namespace()["tinygrad"]
    assert tinygrad.Device.DEFAULT == "CPU"
    # 1 + k * 2**-40 is not a float32: rounding to float32 would show in fed, and would give
    # one loss for all twelve
    logits = 1.0 + np.arange(12.0).reshape(3, 4) * 2.0**-40
    case = Case(BCE_LOGITS.loss, {"input": logits, "target": np.zeros((3, 4))},
                {"reduction": "none"}, "float64")
    observation = adapter.evaluate(BCE_LOGITS, case)
    assert np.array_equal(observation.fed["input"], logits)
    assert np.all(np.diff(observation.value.ravel()) >= 0)
    assert len(set(observation.value.ravel().tolist())) > 1


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_fed_holds_the_rounded_inputs(adapter, dtype):
    case = make_case(BCE_LOGITS, dtype=dtype)
    observation = adapter.evaluate(BCE_LOGITS, case)
    fed, given = observation.fed["input"], case.inputs["input"]
    # representable in the dtype: making it again changes nothing
    assert np.array_equal(adapter.to_numpy(adapter.tensor(fed, dtype)), fed)
    # within one ulp: tinygrad rounds float64 to float16 and bfloat16 through float32
    assert np.all(np.abs(fed - given) <= EPS[dtype] * np.abs(given))


@pytest.mark.parametrize("api", list(BY_API))
def test_bfloat16_matches_the_oracle(adapter, api):
    # bfloat16 kernels compute in float32 and round to bfloat16 after each operation: every
    # value and gradient within one bfloat16 ulp (2**-7) of the largest element, over three
    # draws and every reduction (measured: 0.96 at worst)
    binding = BY_API[api]
    for reduction in binding.reductions:
        for seed in range(3):
            case = make_case(binding, reduction=reduction, dtype="bfloat16", seed=seed)
            observation = adapter.evaluate(binding, case)
            assert observation.error is None, described(case, observation)
            assert close(observation.value, oracle(case, observation.fed), "bfloat16", 1), \
                described(case, observation)
            for wrt in binding.gradients:
                observation = adapter.evaluate(binding, case, "gradient", wrt)
                assert observation.error is None, described(case, observation)
                expected = oracle(case, observation.fed, wrt)
                assert close(observation.gradient, expected, "bfloat16", 1), \
                    described(case, observation)


# --- the C compiler ----------------------------------------------------------------------------

def _fresh(monkeypatch, *, cc=None, zig=True, clang=None) -> Tinygrad:
    """A Tinygrad framework that has chosen no compiler yet, on a machine with ``CC`` set to
    ``cc`` (unset: None), with or without ziglang, and ``clang`` (a path) on PATH or not."""
    framework = Tinygrad()
    if cc is None:
        monkeypatch.delenv("CC", raising=False)
    else:
        monkeypatch.setenv("CC", cc)
    if not zig:
        monkeypatch.setattr(framework, "_ziglang_zig", lambda: None)
    real_which = shutil.which
    monkeypatch.setattr("shutil.which",
                        lambda name, *a, **k: clang if name == "clang" else real_which(name))
    return framework


def test_without_a_compiler_tinygrad_is_unavailable_with_the_reason(adapter, monkeypatch):
    class NoCompiler(TinygradAdapter):
        framework = _fresh(monkeypatch, zig=False)

    assert NoCompiler().unavailable() == NO_COMPILER


def test_a_cc_the_user_set_wins(monkeypatch):
    # any program stands in for a compiler here: only the choice is checked
    framework = _fresh(monkeypatch, cc=sys.executable, clang="/usr/bin/clang")
    framework.configure(CPU_ONLY)
    assert framework.toolchain_versions() == {
        "CC": f"{sys.executable}: Python {sys.version.split()[0]}"}
    assert os.environ["CC"] == sys.executable
    framework = _fresh(monkeypatch, cc="no-such-compiler-here")
    with pytest.raises(RuntimeError, match="CC='no-such-compiler-here' is not a program"):
        framework.configure(CPU_ONLY)
    assert framework.toolchain_versions() == {}


def test_clang_on_path_without_ziglang(monkeypatch, tmp_path):
    clang = tmp_path / "clang"
    clang.write_text("#!/bin/sh\necho 'Debian clang version 14.0.6'\n")
    clang.chmod(0o755)
    framework = _fresh(monkeypatch, zig=False, clang=str(clang))
    framework.configure(CPU_ONLY)
    assert framework.toolchain_versions() == {"clang": "14.0.6"}
    assert "CC" not in os.environ  # tinygrad runs clang itself


def test_ziglang_wins_over_clang_on_path(monkeypatch):
    framework = _fresh(monkeypatch, clang="/usr/bin/clang")
    if framework._ziglang_zig() is None:
        pytest.skip("the ziglang package is not installed")
    version = importlib.metadata.version("ziglang")
    framework.configure(CPU_ONLY)
    assert framework.toolchain_versions() == {"ziglang": version}
    # the wrapper tinygrad runs as CC: an executable file of this Python and this zig
    wrapper = Path(os.environ["CC"])
    assert wrapper.name.startswith(f"zig-cc-{version}-")
    assert os.access(wrapper, os.X_OK)
    text = wrapper.read_text()
    assert text.splitlines()[0] == f"#!{sys.executable} -IS"
    assert repr(str(framework._ziglang_zig())) in text
    # a process started from here inherits CC, and knows it for the wrapper
    inherited = _fresh(monkeypatch, cc=str(wrapper))
    assert inherited.toolchain_versions() == {"ziglang": version}


def test_the_wrapper_goes_to_a_private_temporary_folder_without_a_cache(monkeypatch, tmp_path):
    framework = _fresh(monkeypatch)
    if framework._ziglang_zig() is None:
        pytest.skip("the ziglang package is not installed")
    not_a_folder = tmp_path / "cache"
    not_a_folder.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(not_a_folder))
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    framework.configure(CPU_ONLY)
    wrapper = Path(os.environ["CC"])
    assert wrapper.parent.parent == tmp_path
    assert wrapper.parent.name.startswith("xent-conformance-")
    assert os.access(wrapper, os.X_OK)


def test_the_kernel_cache_is_named_after_the_compiler(adapter):
    # tinygrad's cache key is the C source only: kernels of another compiler must not be read
    # back (tox.ini, [tinygrad-cache])
    if "CACHEDB" not in os.environ:
        pytest.skip("no CACHEDB set: tinygrad's default cache, outside the tox envs")
    (kind, version), = adapter.framework.toolchain_versions().items()
    assert f"{kind}-{version}" in Path(os.environ["CACHEDB"]).parts


# --- reproducers -------------------------------------------------------------------------------

def test_reproducers_print_the_observation(adapter):
    observations = []
    for binding in BINDINGS:
        case = make_case(binding, reduction="none")
        observations.append(adapter.evaluate(binding, case))
        observations += [adapter.evaluate(binding, case, "gradient", wrt)
                         for wrt in binding.gradients]
    observations += [adapter.evaluate(BCE_LOGITS, make_case(BCE_LOGITS, dtype=dtype))
                     for dtype in ("float16", "bfloat16")]
    # an exception reproduces too: label smoothing above 1 fails tinygrad's assertion
    failing = adapter.evaluate(SPARSE, make_case(SPARSE, label_smoothing=1.5))
    assert failing.error is not None
    observations.append(failing)

    for observation in observations:
        tree = ast.parse(observation.reproducer)
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        assert imported <= {"os", "tinygrad"}, observation.reproducer
        assert observation.reproducer.rstrip().endswith("print(result)")
        # the reader's own clang compiles it, not this machine's wrapper
        assert "'CC'" not in observation.reproducer
        assert "zig" not in observation.reproducer

    # the reproducer sets DEV and PARALLEL itself
    assert_reproducers_print(observations, ("DEV", "PARALLEL"))

"""What is tinygrad's own (``adapters/tinygrad/``): unbound ``Tensor`` methods and their option
spellings, its ignore_index of -1 and unclamped logs, reproducers that leave the C compiler to
the reader, and the compiler its CPU device needs (``adapters.tinygrad.framework.Tinygrad``): a
``CC`` the user set, else the ziglang package's zig cc, else clang on PATH, else tinygrad is
unavailable with the reason; the env's kernel cache is named after it."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import os
import shutil
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from _examples import ordinary_case

from adapters import load_adapter
from adapters.binding import Case
from adapters.tinygrad.adapter import BINDINGS, TinygradAdapter
from adapters.tinygrad.framework import Tinygrad
from conformance.judge import judge

BY_API = {b.api: b for b in BINDINGS}
SPARSE = BY_API["tinygrad.Tensor.sparse_categorical_crossentropy"]
BCE = BY_API["tinygrad.Tensor.binary_crossentropy"]
BCE_LOGITS = BY_API["tinygrad.Tensor.binary_crossentropy_logits"]
ADAPTER = load_adapter("tinygrad")
#: what configure reads of tinygrad: enough to choose the compiler without it
CPU_ONLY = types.SimpleNamespace(Device=types.SimpleNamespace(DEFAULT="CPU"))
NO_COMPILER = ("unavailable: RuntimeError: tinygrad's CPU device compiles its kernels with a C "
               "compiler: no clang on PATH and the ziglang package is not installed "
               "(pip install ziglang)")


def test_every_binding_calls_an_unbound_method_of_tensor():
    for binding in BINDINGS:
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
    case = ordinary_case(SPARSE, reduction="sum",
                         options={"ignore_index": 2, "label_smoothing": 0.25})
    assert SPARSE.call_source(case) == (
        "tinygrad.Tensor.sparse_categorical_crossentropy(input, target, ignore_index=2, "
        "label_smoothing=0.25, reduction='sum')")
    case = ordinary_case(BCE_LOGITS, reduction="none", options={"pos_weight": None})
    assert BCE_LOGITS.call_source(case) == (
        "tinygrad.Tensor.binary_crossentropy_logits(input, target, pos_weight=pos_weight, "
        "reduction='none')")
    # no element weight: binary_crossentropy has none
    assert BCE.supports(ordinary_case(BCE).with_inputs(weight=np.ones(3))) == (
        "option weight not offered")


def test_ignore_index_minus_1_ignores_nothing():
    # tinygrad's "ignore nothing": a sample of class -1 costs 0 (its one-hot row is all zero)
    # but stays in the mean's count: at uniform logits (log 4 + 0 + log 4) / 3, which is the
    # oracle's sum over the batch size with that sample weighted 0 (its class any other)
    logits = np.zeros((3, 4))
    observation = ADAPTER.evaluate(SPARSE, Case(
        "cross_entropy", {"input": logits, "target": np.array([3, -1, 1])},
        {"reduction": "mean", "ignore_index": -1}))
    weighted = Case("cross_entropy", {"input": logits, "target": np.array([3, 0, 1]),
                                      "sample_weight": np.array([1.0, 0.0, 1.0])},
                    {"reduction": "sum_over_batch_size"})
    assert judge(SPARSE, weighted, dataclasses.replace(observation, fed={})).outcome == "match"


def test_the_logs_are_not_clamped():
    # p = 0 with y = 1 costs +inf, and 0 * log 0 is NaN
    case = Case("binary_cross_entropy", {"input": np.array([0.0, 0.0]),
                                         "target": np.array([1.0, 0.0])}, {"reduction": "none"})
    np.testing.assert_array_equal(ADAPTER.evaluate(BCE, case).value, [np.inf, np.nan])


def test_kernels_compile_for_the_cpu_device_and_reproducers_leave_the_compiler_to_the_reader():
    assert ADAPTER.namespace()["tinygrad"].Device.DEFAULT == "CPU"
    for binding in BINDINGS:
        reproducer = ADAPTER.describe(binding, ordinary_case(binding)).reproducer
        # the reader's own clang compiles it, not this machine's wrapper
        assert "'CC'" not in reproducer
        assert "zig" not in reproducer


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


def test_without_a_compiler_tinygrad_is_unavailable_with_the_reason(monkeypatch):
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


def test_the_kernel_cache_is_named_after_the_compiler():
    # tinygrad's cache key is the C source only: kernels of another compiler must not be read
    # back (tox.ini, [tinygrad-cache])
    if "CACHEDB" not in os.environ:
        pytest.skip("no CACHEDB set: tinygrad's default cache, outside the tox envs")
    (kind, version), = ADAPTER.framework.toolchain_versions().items()
    assert f"{kind}-{version}" in Path(os.environ["CACHEDB"]).parts

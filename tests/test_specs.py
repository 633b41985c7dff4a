"""The loss and dtype records: their facts agree with NumPy, with the oracle, and with each
other."""

from typing import get_args

import numpy as np
import pytest

import reference
from reference._types import Reduction
from reference.specs import (
    DTYPE_SPECS,
    LOSS_SPECS,
    MEAN_REDUCTIONS,
    OPTION_DEFAULTS,
    REDUCTIONS,
    dtype_spec,
    loss_spec,
    option,
)


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_dtype_facts_are_numpys(name):
    spec, finfo = dtype_spec(name), np.finfo(name)
    assert spec.eps == finfo.eps
    assert spec.unit_roundoff == finfo.eps / 2
    assert spec.max == finfo.max
    assert spec.smallest_normal == finfo.smallest_normal
    assert spec.smallest_subnormal == finfo.smallest_subnormal
    assert spec.bits == finfo.nmant + 1


def test_bfloat16_facts():
    # 8 significand bits and float32's exponent: max = (2 - 2**-7) * 2**127 = 3.3895e38
    spec = dtype_spec("bfloat16")
    assert spec.max == 3.3895313892515355e38
    assert spec.smallest_normal == np.finfo(np.float32).smallest_normal
    assert spec.smallest_subnormal == 2.0 ** -133


def test_rounding_to_each_dtype():
    x = np.array([1 + 2.0 ** -9, 1e5, 1e39, np.nan, -np.inf])
    # bfloat16 keeps 7 fraction bits: 1 + 2**-9 rounds to 1 (nearest even); 1e5 to 99840
    assert np.array_equal(dtype_spec("bfloat16").round(x)[:3], [1.0, 99840.0, np.inf])
    # float16 keeps 10: 1 + 2**-9 stays; 1e5 overflows (max 65504)
    assert np.array_equal(dtype_spec("float16").round(x)[:3], [1 + 2.0 ** -9, np.inf, np.inf])
    assert np.isnan(dtype_spec("float32").round(x)[3])
    assert dtype_spec("float64").round(x)[4] == -np.inf
    assert dtype_spec("float32").ulp(1.0) == 2.0 ** -23


def test_unknown_names_are_named():
    with pytest.raises(ValueError, match="'float8'"):
        dtype_spec("float8")
    with pytest.raises(reference.OracleInputError, match="'focal'"):
        loss_spec("focal")


@pytest.mark.parametrize("spec", LOSS_SPECS.values(), ids=list(LOSS_SPECS))
def test_each_example_is_valid_and_regular(spec):
    for kind in spec.targets if spec.family == "categorical" else [None]:
        example = spec.example(kind)
        value = np.asarray(spec.oracle(**example, reduction="none"))
        assert np.all(np.isfinite(value)), (spec.name, kind)
        assert np.all(value > 0), (spec.name, kind)
        assert example["input"].shape == (2, 3)
        assert spec.class_axis(2) == 1


def test_class_axes():
    # PyTorch's layout: (N, C, d1, ...) or one (C,) row; Keras's: the classes last
    assert [loss_spec("cross_entropy").class_axis(n) for n in (1, 2, 4)] == [0, 1, 1]
    assert [loss_spec("categorical_cross_entropy").class_axis(n) for n in (1, 2, 4)] == [0, 1, 3]
    assert loss_spec("binary_cross_entropy").class_axis(0) == 0


@pytest.mark.parametrize("spec", [s for s in LOSS_SPECS.values() if s.probability_twin],
                         ids=[n for n, s in LOSS_SPECS.items() if s.probability_twin])
def test_a_logits_loss_equals_its_probability_twin_through_its_transform(spec):
    twin = loss_spec(spec.probability_twin)
    assert (twin.family, twin.input_kind) == (spec.family, "probabilities")
    example = spec.example(twin.targets[0] if spec.family == "categorical" else None)
    on_logits = spec.oracle(**example)
    through = twin.oracle(input=twin.from_logits(example["input"], 1), target=example["target"])
    assert through == pytest.approx(on_logits, rel=1e-14)


def test_the_oracle_table_is_the_records():
    assert set(reference.LOSSES) == set(LOSS_SPECS)
    assert all(reference.LOSSES[n][0] is s.oracle for n, s in LOSS_SPECS.items())
    assert tuple(DTYPE_SPECS) == ("float16", "bfloat16", "float32", "float64")


def _same(a, b) -> bool:
    return a == b or (a != a and b != b)  # NaN (empty_mean's default) is its own default


@pytest.mark.parametrize("spec", LOSS_SPECS.values(), ids=list(LOSS_SPECS))
def test_an_option_has_one_default_in_every_loss_that_takes_it(spec):
    # OPTION_DEFAULTS takes each option's default from the first loss that has it
    assert spec.defaults, spec.name
    for name, default in spec.defaults.items():
        assert _same(default, OPTION_DEFAULTS[name]), (spec.name, name, default)


def test_option_defaults_are_the_oracles():
    # what the oracle computes for a case that leaves an option out: PyTorch's mean, no
    # smoothing, nothing ignored, Keras's last axis for categorical_cross_entropy
    assert OPTION_DEFAULTS["reduction"] == "mean"
    assert OPTION_DEFAULTS["label_smoothing"] == 0.0
    assert OPTION_DEFAULTS["ignore_index"] is None
    assert OPTION_DEFAULTS["axis"] == -1
    assert option({"reduction": "sum"}, "reduction") == "sum"
    assert option({}, "reduction") == "mean"
    z, t = loss_spec("cross_entropy").example().values()
    assert reference.cross_entropy(z, t) == reference.cross_entropy(z, t, reduction="mean")


def test_reductions_are_the_oracles():
    assert REDUCTIONS == get_args(Reduction)
    assert MEAN_REDUCTIONS == ("mean", "sum_over_batch_size", "weighted_mean")
    # a mean divides the sum by D (2 samples here, no weights): the others do not
    z, t = loss_spec("cross_entropy").example().values()
    total = reference.cross_entropy(z, t, reduction="sum")
    for reduction in MEAN_REDUCTIONS:
        assert reference.cross_entropy(z, t, reduction=reduction) == pytest.approx(total / 2)

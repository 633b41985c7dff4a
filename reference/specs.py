"""One record per loss and one per floating dtype: the facts every layer reads.

A ``LossSpec`` says what a loss *is* beyond its formula: its family, which axis holds the
classes, what its input is (logits, probabilities or log-probabilities) and how to make one from
logits, its probability twin, which targets it takes, and a small regular example. A
``DtypeSpec`` says what a floating dtype can hold: unit roundoff, significand bits, the largest
finite value, the smallest normal and subnormal numbers, and how a float64 value rounds to it.

The adapters (``Binding.supports``), the cases and their restatement per API, the equivalence
pairs, the error model and the registry predicates loop over these records instead of branching
on names, so a new loss is one ``LossSpec`` here plus its oracle function (see README, "Adding a
loss").

The oracle's options are read here too, off its signatures: each one's default
(``OPTION_DEFAULTS``; ``option`` reads a case's value or the default) and the reductions
(``REDUCTIONS``, the means among them ``MEAN_REDUCTIONS``). The terms of a loss in float64
(smoothed targets, clipped probabilities, weights per element) are in ``reference.terms``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from reference import _categorical_eval, binary, categorical
from reference._types import REDUCTIONS  # the oracle's reductions, read from here
from reference.errors import OracleInputError

# --- dtypes ------------------------------------------------------------------------------------


def _round_to_bfloat16(values: np.ndarray) -> np.ndarray:
    """Round to bfloat16 through float32, to nearest even, as torch, JAX and TensorFlow cast
    (NumPy has no bfloat16: the result is float32 holding bfloat16 values)."""
    with np.errstate(over="ignore", invalid="ignore"):
        single = values.astype(np.float32)
    bits = single.view(np.uint32)
    rounded = ((bits + np.uint32(0x7FFF) + ((bits >> np.uint32(16)) & np.uint32(1)))
               & np.uint32(0xFFFF0000))
    return np.where(np.isnan(single), single, rounded.view(np.float32))


@dataclass(frozen=True)
class DtypeSpec:
    """A binary floating-point format: ``bits`` significand bits (the implicit one included),
    smallest normal exponent ``emin``, largest exponent ``emax``."""

    name: str
    bits: int
    emin: int
    emax: int
    numpy: type | None  # the NumPy scalar type; None where NumPy has none (bfloat16)

    @property
    def unit_roundoff(self) -> float:
        """u = 2**-bits: the largest relative error of one correctly rounded operation."""
        return 2.0 ** -self.bits

    @property
    def eps(self) -> float:
        """The spacing of the dtype at 1: 2u."""
        return 2.0 ** (1 - self.bits)

    @property
    def max(self) -> float:
        """The largest finite value, (2 - 2**(1 - bits)) * 2**emax."""
        return (2.0 - self.eps) * 2.0 ** self.emax

    @property
    def smallest_normal(self) -> float:
        return 2.0 ** self.emin

    @property
    def smallest_subnormal(self) -> float:
        return 2.0 ** (self.emin - self.bits + 1)

    def round(self, values) -> np.ndarray:
        """``values`` as this dtype holds them, back in float64 (overflow to +-inf, NaN kept)."""
        values = np.asarray(values, dtype=np.float64)
        if self.numpy is None:
            return _round_to_bfloat16(values).astype(np.float64)
        with np.errstate(over="ignore"):
            return values.astype(self.numpy).astype(np.float64)

    def ulp(self, value) -> np.ndarray:
        """The spacing at |value| (the subnormal spacing below the normals)."""
        v = np.abs(np.asarray(value, dtype=np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            e = np.floor(np.log2(np.where(v > 0, v, 1.0)))
        e = np.maximum(np.where(np.isfinite(e), e, self.emin), self.emin)
        return np.exp2(e - (self.bits - 1))


#: the floating dtypes under test, narrowest first
DTYPE_SPECS: Mapping[str, DtypeSpec] = MappingProxyType({
    "float16": DtypeSpec("float16", 11, -14, 15, np.float16),
    "bfloat16": DtypeSpec("bfloat16", 8, -126, 127, None),
    "float32": DtypeSpec("float32", 24, -126, 127, np.float32),
    "float64": DtypeSpec("float64", 53, -1022, 1023, np.float64),
})
DTYPES = tuple(DTYPE_SPECS)


def dtype_spec(name: str) -> DtypeSpec:
    try:
        return DTYPE_SPECS[name]
    except KeyError:
        raise ValueError(f"dtype: {name!r} is not one of {', '.join(DTYPES)}") from None


# --- losses ------------------------------------------------------------------------------------


# The transforms only make regular test inputs (logits of moderate size): plain float64
# formulas, the same numbers every layer has always drawn.


def _identity(z: np.ndarray, axis: int) -> np.ndarray:
    return z


def _sigmoid(z: np.ndarray, axis: int) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


def softmax(z: np.ndarray, axis: int) -> np.ndarray:
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(z: np.ndarray, axis: int) -> np.ndarray:
    return np.log(softmax(z, axis))


#: the regular example every loss is built from: two samples, three classes, away from every
#: edge (logits within +-2, so every probability lies in [0.1, 0.9])
EXAMPLE_LOGITS = np.array([[-1.5, 0.3, 2.0], [0.7, -0.2, 1.1]])
#: binary targets: certain, certain, certain; certain, certain, soft
EXAMPLE_BINARY_TARGET = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 0.5]])
#: class indices of the two samples, and soft targets (each row sums to 1)
EXAMPLE_INDICES = np.array([2, 0])
EXAMPLE_SOFT_TARGET = np.array([[0.1, 0.3, 0.6], [0.5, 0.25, 0.25]])


@dataclass(frozen=True)
class LossSpec:
    """What one oracle loss is.

    - ``family``: "binary" (element-wise, a probability per element) or "categorical" (a
      distribution over a class axis per sample).
    - ``input_kind``: "logits", "probabilities" or "log-probabilities"; ``from_logits(z,
      axis)`` makes such an input from logits (identity, sigmoid, softmax, log-softmax).
    - ``channels_first``: the class axis is 1 of an (N, C, d1, ...) batch (0 of a single (C,)
      row), as in PyTorch; otherwise it is the last axis (Keras's classes, and the axis Keras
      averages binary losses over).
    - ``targets``: the target kinds it takes, "indices" and/or "probabilities".
    - ``probability_twin``: the loss on probabilities that the same logits give through
      ``sigmoid`` / ``softmax``; paths that should agree.
    """

    name: str
    oracle: Callable
    evaluate: Callable  # (wrt=..., **arguments) -> (value, gradient); see reference.gradients
    family: str
    input_kind: str
    from_logits: Callable[[np.ndarray, int], np.ndarray]
    targets: tuple[str, ...]
    channels_first: bool = False
    probability_twin: str | None = None

    def class_axis(self, ndim: int, axis: int | None = None) -> int:
        """The class axis (non-negative) of an input of ``ndim`` dimensions; ``axis`` is the
        oracle's own ``axis`` option where the loss takes one (None: its default)."""
        if axis is not None and self.takes("axis") and ndim > 0:
            if not -ndim <= axis < ndim:
                raise ValueError(f"{self.name}: axis {axis} is out of range for an input of "
                                 f"{ndim} dimensions")
            return axis % ndim
        if self.channels_first and ndim > 1:
            return 1
        return max(ndim - 1, 0)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The oracle's keyword names: the options the loss has (``weight``, ``ignore_index``,
        ``label_smoothing``, ...)."""
        return tuple(inspect.signature(self.oracle).parameters)

    @property
    def defaults(self) -> Mapping[str, object]:
        """The oracle's default of each option that has one (``reduction``: "mean"), read off
        its signature."""
        return _keyword_defaults(self.oracle)

    def takes(self, option: str) -> bool:
        return option in self.parameters

    def example(self, target_kind: str | None = None) -> dict[str, np.ndarray]:
        """The regular (N=2, C=3) example in the oracle's layout, class axis 1 (the classes of
        a channels-last loss are last, which for rank 2 is the same axis).

        binary: the logits or their sigmoids against ``EXAMPLE_BINARY_TARGET``; categorical:
        the logits, softmax or log-softmax against class indices ``[2, 0]`` (the default where
        the loss takes them) or the soft rows ``EXAMPLE_SOFT_TARGET``.
        """
        inputs = {"input": self.from_logits(EXAMPLE_LOGITS, 1)}
        if self.family == "binary":
            return {**inputs, "target": EXAMPLE_BINARY_TARGET.copy()}
        kind = target_kind or self.targets[0]
        if kind not in self.targets:
            raise ValueError(f"{self.name} takes {' or '.join(self.targets)} targets, not {kind}")
        target = EXAMPLE_INDICES if kind == "indices" else EXAMPLE_SOFT_TARGET
        return {**inputs, "target": target.copy()}


LOSS_SPECS: Mapping[str, LossSpec] = MappingProxyType({spec.name: spec for spec in (
    LossSpec("binary_cross_entropy", binary.binary_cross_entropy,
             binary._binary_cross_entropy, "binary", "probabilities", _sigmoid,
             ("probabilities",)),
    LossSpec("binary_cross_entropy_with_logits", binary.binary_cross_entropy_with_logits,
             binary._binary_cross_entropy_with_logits, "binary", "logits", _identity,
             ("probabilities",), probability_twin="binary_cross_entropy"),
    LossSpec("cross_entropy", categorical.cross_entropy, _categorical_eval.cross_entropy,
             "categorical", "logits", _identity, ("indices", "probabilities"),
             channels_first=True, probability_twin="categorical_cross_entropy"),
    LossSpec("nll_loss", categorical.nll_loss, _categorical_eval.nll_loss, "categorical",
             "log-probabilities", _log_softmax, ("indices",), channels_first=True),
    LossSpec("categorical_cross_entropy", categorical.categorical_cross_entropy,
             _categorical_eval.categorical_cross_entropy, "categorical", "probabilities",
             softmax, ("probabilities", "indices")),
)})


def _keyword_defaults(function: Callable) -> Mapping[str, object]:
    return MappingProxyType({name: p.default
                             for name, p in inspect.signature(function).parameters.items()
                             if p.default is not inspect.Parameter.empty})


def _option_defaults() -> Mapping[str, object]:
    """Every option's default, from the first loss that takes it (an option means the same,
    default included, in every loss that takes it: tests/test_specs.py holds them to it)."""
    table: dict[str, object] = {}
    for spec in LOSS_SPECS.values():
        for name, default in spec.defaults.items():
            table.setdefault(name, default)
    return MappingProxyType(table)


#: the default of every oracle option (``reduction``: "mean", ``label_smoothing``: 0.0,
#: ``ignore_index``: None, ...), read off the oracle functions' signatures: the one place
#: every layer reads what a case that leaves an option out computes
OPTION_DEFAULTS: Mapping[str, object] = _option_defaults()
#: the reductions that divide the sum of the per-sample losses by a divisor D
#: (``reference._reduction``): every mean
MEAN_REDUCTIONS: tuple[str, ...] = tuple(r for r in REDUCTIONS if r not in ("none", "sum"))


def option(options: Mapping[str, object], name: str) -> object:
    """The value of the oracle option ``name`` in ``options`` (a case's options, or the
    keywords of an oracle call), its default where they leave it out."""
    return options.get(name, OPTION_DEFAULTS[name])


def loss_spec(name: str) -> LossSpec:
    try:
        return LOSS_SPECS[name]
    except KeyError:
        raise OracleInputError(f"name: {name!r} is not one of {', '.join(LOSS_SPECS)}") from None

"""Every input of a half-precision dtype, for the element-wise losses: the true worst error.

float16 and bfloat16 have 65,536 bit patterns each. As the logit of a BCE-with-logits binding
every one of them is an input (signed zeros, subnormals, infinities and NaNs included); as the
probability of a BCE binding, every pattern in the loss's domain [0, 1] (-0 included; the
others are invalid inputs, which the edge-case category checks). Each target (0, 1 and a few
soft targets rounded to the dtype) is one call of the library on all of them, reduction
"none", value and gradient from the same call: seconds per binding, and the largest error
found is the largest there is.

In the ci profile (the project's own tests, under a time budget per env) a fixed sample of
the float16 patterns stands in, against the hard targets 0 and 1 only: every
``SAMPLE_STRIDE``-th pattern and the special values, "sampled" in the results (each new shape
and dtype is a compile for JAX and XLA). ``XENT_ACCURACY=exhaustive`` (the main job's suites
set it) runs them all, in both dtypes.
"""

from __future__ import annotations

import os

import numpy as np

from adapters.binding import Binding, Case
from conformance import accuracy
from conformance.accuracy import Batch
from conformance.budget import ci_profile
from reference.specs import dtype_spec

DTYPES = ("float16", "bfloat16")
LOSSES = ("binary_cross_entropy", "binary_cross_entropy_with_logits")
#: the targets of every pattern, one call each; the soft ones are rounded to the dtype
TARGETS = (0.0, 1.0, 0.1, 0.5, 0.9)
#: the ci profile's sample: every 61st pattern (a prime, so the sample meets every part of the
#: significand), with the special values below
SAMPLE_STRIDE = 61
_SPECIAL = (0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan)


def applies(binding: Binding) -> bool:
    return binding.loss in LOSSES


def whole() -> bool:
    """Every pattern (outside the ci profile, or where ``XENT_ACCURACY=exhaustive``)."""
    return os.environ.get("XENT_ACCURACY") == "exhaustive" or not ci_profile()


def method() -> str:
    return "exhaustive" if whole() else "sampled"


#: the dtypes the ci profile samples
CI_DTYPES = ("float16",)


def in_budget(dtype: str) -> bool:
    return whole() or dtype in CI_DTYPES


def targets() -> tuple[float, ...]:
    return TARGETS if whole() else TARGETS[:2]


def every_value(dtype: str) -> np.ndarray:
    """The 65,536 values of ``dtype``, in the order of their bit patterns, as float64 (exact)."""
    bits = np.arange(2**16, dtype=np.uint32)
    if dtype == "float16":
        return bits.astype(np.uint16).view(np.float16).astype(np.float64)
    if dtype == "bfloat16":  # the top half of a float32 (a signalling NaN widens quietly)
        with np.errstate(invalid="ignore"):
            return (bits << 16).view(np.float32).astype(np.float64)
    raise ValueError(f"dtype: {dtype!r} is not a half-precision dtype ({', '.join(DTYPES)})")


def inputs(loss: str, dtype: str) -> tuple[np.ndarray, str]:
    """The inputs of the sweep and what they are, in words."""
    values = every_value(dtype)
    what = f"every {dtype} bit pattern"
    if loss == "binary_cross_entropy":
        values = values[(values >= 0) & (values <= 1)]
        what = f"every {dtype} bit pattern in [0, 1], -0 included"
    if not whole():
        sample = np.concatenate([values[::SAMPLE_STRIDE], _in_domain(loss)])
        values = sample
        what = f"every {SAMPLE_STRIDE}th of " + what.removeprefix("every ") + \
            " and its special values (the ci profile's sample)"
    return values, f"{what}: {len(values):,} inputs"


def _in_domain(loss: str) -> np.ndarray:
    special = np.array(_SPECIAL)
    if loss == "binary_cross_entropy":
        special = special[(special >= 0) & (special <= 1)]
    return special


def make_batch(binding: Binding, dtype: str, values: np.ndarray, target: float) -> Batch:
    """One call: ``values`` as the input, ``target`` (rounded to the dtype) everywhere. A
    binding that averages over the last axis (Keras) gets a column, so each sample is one
    element; any other gets a vector."""
    rounded = float(dtype_spec(dtype).round(target))
    shape = (len(values), 1) if (binding.fixed_options.get("average_last_axis")
                                 or 1 not in binding.ranks) else (len(values),)
    case = Case(binding.loss, {"input": values.reshape(shape),
                               "target": np.full(shape, rounded)},
                {"reduction": "none"}, dtype)
    return Batch(accuracy.with_required_options(binding, case),
                 np.full(len(values), target_label(target)))


def target_label(target: float) -> str:
    return f"{target:g}"


def sweep(suite, name: str, binding: Binding, dtype: str) -> None:
    """The accuracy rows of ``binding`` in ``dtype``: one call per target, every input."""
    values, domain = inputs(binding.loss, dtype)
    _, guarded = suite.adapter(name)
    for target in targets():
        batch = make_batch(binding, dtype, values, target)
        observation, measured = accuracy.observe(suite, name, binding, batch)
        label = target_label(target)
        if isinstance(measured, tuple):
            accuracy.record(suite, accuracy.unmeasured_rows(binding, batch, measured,
                                                            method=method(), domain=domain))
            continue
        rows = []
        for check, errors in measured.items():
            r = accuracy.row(binding, batch, check, label, method=method(), domain=domain,
                             measured=errors, fed=observation.fed, profile=True)
            r["reproducer"] = accuracy.reproducer(guarded, binding, batch, observation.fed,
                                                  check, r["worst"])
            rows.append(r)
        accuracy.record(suite, rows)

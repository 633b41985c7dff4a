"""Speed of the oracle's binary losses on vectors of every float16 and every bfloat16 value.

Data: the 65536 bit patterns of float16 and the 65536 of bfloat16 (the top half of a float32),
each converted to float64: 131072 values, NaNs and infinities included. For
binary_cross_entropy (probabilities) the patterns in [0, 1] are taken and repeated to the
same length. Targets: all 0, all 1, or all 0.5 (--small: the first 8192 values, target 0.5).

Subjects (reduction "none", the gradient wrt the input of the sum of the per-element losses):
  reference.value_and_grad("binary_cross_entropy_with_logits", x, t, reduction="none")
  reference.value_and_grad("binary_cross_entropy", p, t, reduction="none")
Baselines, naive NumPy passes for the same value and gradient:
  with logits:   max(x, 0) - x t + log1p(exp(-|x|));   1 / (1 + exp(-x)) - t
  probabilities: -(t log(p) + (1 - t) log1p(-p));       (p - t) / (p (1 - p))

Target: median time of the subject <= 200 x that of its baseline. The oracle evaluates every
element in longdouble (35 to 90 x one float64 pass here, the more the quieter the machine),
and an element whose terms cancel goes through mpmath alone, at about 100 us: a thousand of
those per call break the target. That is the regression it guards: at target 0.5 every
small logit cancels in sigmoid(x) - 1/2, and before ``reference.binary._sigmoid_minus_target``
the gradient took 7.4 s a call (1045 x), which the accuracy tables pay once per binding, dtype
and target.
Reported per loss and target: seconds per call, the ratio, and whether the target is met.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from benchmarks import Metric, print_table, write_results
from benchmarks.oracle_speed import load_oracle, summarize, time_interleaved

TARGETS = (0.0, 1.0, 0.5)
SMALL_SIZE = 8192
MAX_TIME_RATIO = 200.0


def every_half_precision_value() -> np.ndarray:
    """All float16 then all bfloat16 bit patterns, as float64 (131072 values)."""
    patterns = np.arange(1 << 16, dtype=np.uint32)
    half = patterns.astype(np.uint16).view(np.float16).astype(np.float64)
    with np.errstate(invalid="ignore"):  # signalling NaN patterns become quiet NaNs
        brain = (patterns << 16).view(np.float32).astype(np.float64)  # bfloat16: top half
    return np.concatenate([half, brain])


def naive_with_logits(x: np.ndarray, t: np.ndarray):
    with np.errstate(all="ignore"):
        loss = np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x)))
        return loss, 1 / (1 + np.exp(-x)) - t


def naive_probabilities(p: np.ndarray, t: np.ndarray):
    with np.errstate(all="ignore"):
        loss = -(t * np.log(p) + (1 - t) * np.log1p(-p))
        return loss, (p - t) / (p * (1 - p))


def run(small: bool = False, repeat: int = 5) -> list[Metric]:
    oracle = load_oracle()
    values = every_half_precision_value()
    unit = values[(values >= 0) & (values <= 1)]
    inputs = {
        "binary_cross_entropy_with_logits": (values, naive_with_logits),
        "binary_cross_entropy": (np.resize(unit, values.size), naive_probabilities),
    }
    targets = (0.5,) if small else TARGETS
    print(f"{values.size} values ({unit.size} distinct in [0, 1]); {repeat} timed runs after "
          "1 warm-up", flush=True)
    timings, metrics = {}, []
    for name, (x, naive) in inputs.items():
        x = x[:SMALL_SIZE] if small else x
        for target in targets:
            t = np.full(x.shape, target)
            samples = time_interleaved({
                "oracle": partial(oracle, name, x, t, reduction="none"),
                "naive": partial(naive, x, t),
            }, repeat)
            key = f"{name}, target {target:g}"
            timings[key] = {side: summarize(s) for side, s in samples.items()}
            oracle_s, naive_s = (timings[key][side]["median"] for side in ("oracle", "naive"))
            metrics += [
                Metric(f"{key}: oracle, median", oracle_s, "s"),
                Metric(f"{key}: time oracle / naive", oracle_s / naive_s, "x", MAX_TIME_RATIO),
            ]
    print_table("oracle_vectors: reference.value_and_grad(binary losses, reduction='none')",
                metrics)
    path = write_results(
        "oracle_vectors",
        {
            "parameters": {"size": int(values[:SMALL_SIZE].size if small else values.size),
                           "targets": list(targets), "small": small, "warmup": 1,
                           "repeat": repeat},
            "timings_s": timings,
        },
        metrics,
    )
    print(f"wrote {path}")
    return metrics

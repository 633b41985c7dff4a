"""Speed and memory of the oracle's categorical cross-entropy, against naive NumPy passes.

Data (seeded): logits = standard normal * 3.0, float64, 4096 x 32000 (about 1 GB; 512 rows with
--small); class-index targets drawn uniformly from [0, 32000); soft targets, softmax(standard
normal * 3.0) of a second seeded matrix, on the first 1024 rows (256 with --small).

Class-index targets:
  subject:  reference.value_and_grad("cross_entropy", logits, targets) -> (mean loss, gradient).
  baseline: the textbook log-softmax, m = max(z); z - m - log(sum(exp(z - m))): one pass less
            than the subject (no loss, no gradient), so a ratio near 1 is not expected.
Soft targets t (a (rows, classes) matrix of probabilities), on the first 1024 rows:
  subject:  reference.value_and_grad("cross_entropy", logits, t) -> (mean loss, gradient).
  baseline: the same value and gradient, naively: logp = z - m - log(sum(exp(z - m)));
            loss = mean(-(t * logp).sum(1)); gradient = (exp(logp) - t) / rows.

Targets:  index targets, median time of the subject <= 1.5 x that of its baseline;
          soft targets, median time of the subject <= 3.0 x that of its baseline;
          peak additional memory of one subject call <= 4.0 x the logits' nbytes, both kinds.
Both sides of a ratio are timed in one process, taking turns, and compared by their medians.
The baselines' peak memory is reported for information.
"""

from __future__ import annotations

import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable
from functools import partial

import numpy as np

from benchmarks import BenchmarkUnavailable, Metric, print_table, write_results

SEED = 20261122
CLASSES = 32000
ROWS, SMALL_ROWS = 4096, 512
SOFT_ROWS, SMALL_SOFT_ROWS = 1024, 256
MAX_INDEX_TIME_RATIO = 1.5
MAX_SOFT_TIME_RATIO = 3.0
MAX_MEMORY_RATIO = 4.0


def naive_log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


def naive_soft_value_and_grad(z: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean soft-target cross-entropy and its gradient, the textbook way (float64 throughout)."""
    logp = naive_log_softmax(z)
    loss = -(t * logp).sum(axis=1).mean()
    return loss, (np.exp(logp) - t) / len(z)


def load_oracle() -> Callable:
    """Import the oracle lazily, so that a missing oracle is a clear message, not a traceback."""
    call = "reference.value_and_grad('cross_entropy', logits, targets) -> (loss, gradient)"
    try:
        import reference
    except ModuleNotFoundError as exc:
        if exc.name != "reference":
            raise  # the oracle exists but one of its own imports fails: show that
        raise BenchmarkUnavailable(f"the oracle package is not importable; needs {call}") from exc
    value_and_grad = getattr(reference, "value_and_grad", None)
    if value_and_grad is None:
        raise BenchmarkUnavailable(f"reference has no value_and_grad yet; needs {call}")
    return value_and_grad


def make_data(rows: int) -> tuple[np.random.Generator, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(SEED)
    logits = rng.standard_normal((rows, CLASSES))
    logits *= 3.0  # in place: the same values as `* 3.0` without a second GB
    targets = rng.integers(0, CLASSES, rows)
    return rng, logits, targets


def soft_targets(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    """softmax(standard normal * 3.0) along the rows, computed in place."""
    p = rng.standard_normal(shape)
    p *= 3.0
    p -= p.max(axis=1, keepdims=True)
    np.exp(p, out=p)
    p /= p.sum(axis=1, keepdims=True)
    return p


def time_interleaved(calls: dict[str, Callable[[], object]], repeat: int) -> dict[str, list[float]]:
    """Seconds per call; the subjects take turns so that machine noise hits each alike.

    Round 0 is a warm-up and is dropped. Each result is freed before the next call starts.
    """
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for round_ in range(1 + repeat):
        for name, call in calls.items():
            start = time.perf_counter()
            result = call()
            elapsed = time.perf_counter() - start
            del result
            if round_:
                samples[name].append(elapsed)
    return samples


def peak_extra_bytes(call: Callable[[], object]) -> int:
    """Peak bytes allocated during one call above what was allocated before it, result included.

    tracemalloc sees NumPy's array buffers (NumPy reports them to it). Tracing starts after
    the inputs exist, so they are not counted; it slows Python, so no timing runs under it.
    """
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def summarize(samples: list[float]) -> dict:
    return {"median": statistics.median(samples), "min": min(samples), "samples": samples}


def run(small: bool = False, repeat: int = 5) -> list[Metric]:
    oracle = load_oracle()  # before a minute of data generation
    rng, logits, targets = make_data(SMALL_ROWS if small else ROWS)
    input_bytes = logits.nbytes
    print(
        f"logits {logits.shape} {logits.dtype}, {input_bytes / 2**30:.2f} GiB; "
        f"{repeat} timed runs after 1 warm-up",
        flush=True,
    )

    naive = partial(naive_log_softmax, logits)
    hard = partial(oracle, "cross_entropy", logits, targets)
    times = time_interleaved({"naive": naive, "oracle": hard}, repeat)
    memory = {"naive": peak_extra_bytes(naive), "oracle": peak_extra_bytes(hard)}

    # Soft targets on a slice: the subject's value and gradient against the naive ones.
    sliced = logits[: SMALL_SOFT_ROWS if small else SOFT_ROWS]
    sliced_bytes = sliced.nbytes
    t = soft_targets(rng, sliced.shape)
    soft = partial(oracle, "cross_entropy", sliced, t)
    soft_naive = partial(naive_soft_value_and_grad, sliced, t)
    times |= time_interleaved({"oracle_soft": soft, "naive_soft": soft_naive}, repeat)
    memory["oracle_soft"] = peak_extra_bytes(soft)
    memory["naive_soft"] = peak_extra_bytes(soft_naive)
    del soft, soft_naive

    timings = {name: summarize(s) for name, s in times.items()}
    naive_median = timings["naive"]["median"]
    soft_rows = f"soft targets ({len(sliced)} rows)"
    metrics = [
        Metric("index targets: naive log-softmax, median", naive_median, "s"),
        Metric("index targets: oracle, median", timings["oracle"]["median"], "s"),
        Metric(
            "index targets: time oracle / naive (medians)",
            timings["oracle"]["median"] / naive_median,
            "x",
            MAX_INDEX_TIME_RATIO,
        ),
        Metric(
            "index targets: peak extra memory, oracle",
            memory["oracle"] / input_bytes,
            "x input",
            MAX_MEMORY_RATIO,
        ),
        Metric("index targets: peak extra memory, naive", memory["naive"] / input_bytes, "x input"),
        Metric(f"{soft_rows}: naive value and gradient, median",
               timings["naive_soft"]["median"], "s"),
        Metric(f"{soft_rows}: oracle, median", timings["oracle_soft"]["median"], "s"),
        Metric(
            f"{soft_rows}: time oracle / naive (medians)",
            timings["oracle_soft"]["median"] / timings["naive_soft"]["median"],
            "x",
            MAX_SOFT_TIME_RATIO,
        ),
        Metric(f"{soft_rows}: peak extra memory, oracle", memory["oracle_soft"] / sliced_bytes,
               "x input", MAX_MEMORY_RATIO),
        Metric(f"{soft_rows}: peak extra memory, naive", memory["naive_soft"] / sliced_bytes,
               "x input"),
    ]
    print_table("oracle_speed: reference.value_and_grad('cross_entropy', ...)", metrics)
    path = write_results(
        "oracle_speed",
        {
            "parameters": {
                "seed": SEED,
                "shape": list(logits.shape),
                "soft_shape": list(sliced.shape),
                "dtype": str(logits.dtype),
                "input_nbytes": input_bytes,
                "small": small,
                "warmup": 1,
                "repeat": repeat,
            },
            "timings_s": timings,
            "peak_extra_bytes": memory,
        },
        metrics,
    )
    print(f"wrote {path}")
    return metrics

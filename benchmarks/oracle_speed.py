"""Speed and memory of the oracle's categorical cross-entropy, against a naive NumPy log-softmax.

Data (seeded): logits = standard normal * 3.0, float64, 4096 x 32000 (about 1 GB; 512 rows with
--small); class-index targets drawn uniformly from [0, 32000).

Subject:  reference.value_and_grad("cross_entropy", logits, targets) -> (loss, gradient).
Baseline: the textbook log-softmax, m = max(z); z - m - log(sum(exp(z - m))), which is one pass
          less than the subject (no gradient, no loss), so a ratio near 1 is not expected.

Targets:  median time of the subject <= 3.0 x median time of the baseline;
          peak additional memory of one subject call <= 4.0 x the logits' nbytes.
Also measured, for information: soft targets (softmax probabilities of a second seeded matrix)
on the first 256 rows, against the baseline on the same rows, and the baseline's peak memory.
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
SOFT_ROWS = 256
MAX_TIME_RATIO = 3.0
MAX_MEMORY_RATIO = 4.0


def naive_log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))


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

    # Soft targets, for information, on a slice: near-cancelling gradient elements send whole
    # rows through the oracle's longdouble tier, which is an order of magnitude slower.
    sliced = logits[:SOFT_ROWS]
    soft = partial(oracle, "cross_entropy", sliced, soft_targets(rng, sliced.shape))
    soft_naive = partial(naive_log_softmax, sliced)
    times |= time_interleaved({"oracle_soft": soft, "naive_soft": soft_naive}, min(repeat, 3))
    memory["oracle_soft"] = peak_extra_bytes(soft)
    del soft

    timings = {name: summarize(s) for name, s in times.items()}
    naive_median = timings["naive"]["median"]
    metrics = [
        Metric("naive log-softmax, median", naive_median, "s"),
        Metric("naive log-softmax, min", timings["naive"]["min"], "s"),
        Metric("oracle, median", timings["oracle"]["median"], "s"),
        Metric("oracle, min", timings["oracle"]["min"], "s"),
        Metric(
            "time oracle / naive (medians)",
            timings["oracle"]["median"] / naive_median,
            "x",
            MAX_TIME_RATIO,
        ),
        Metric(
            "peak extra memory, oracle", memory["oracle"] / input_bytes, "x input", MAX_MEMORY_RATIO
        ),
        Metric("peak extra memory, naive", memory["naive"] / input_bytes, "x input"),
        Metric(f"soft targets ({SOFT_ROWS} rows): oracle, median",
               timings["oracle_soft"]["median"], "s"),
        Metric(
            f"soft targets ({SOFT_ROWS} rows): time oracle / naive",
            timings["oracle_soft"]["median"] / timings["naive_soft"]["median"],
            "x",
        ),
        Metric("soft targets: peak extra memory",
               memory["oracle_soft"] / (input_bytes * SOFT_ROWS / len(logits)), "x input"),
    ]
    print_table("oracle_speed: reference.value_and_grad('cross_entropy', ...)", metrics)
    path = write_results(
        "oracle_speed",
        {
            "parameters": {
                "seed": SEED,
                "shape": list(logits.shape),
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

"""Run many reproducers in one fresh interpreter (the library imports once) and read back what
each printed or the exception it raised: for the agreement test and the compiled twins'."""

import json
import math
import os
import subprocess
import sys

import numpy as np

_RUNNER = r"""
import contextlib, io, json, sys
results = []
for source in json.load(sys.stdin):
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(source, "<reproducer>", "exec"), {"__name__": "__main__"})
        results.append({"printed": printed.getvalue()})
    except Exception as exc:
        results.append({"error": type(exc).__name__})
print(json.dumps(results))
"""


def run_reproducers(sources: list[str], clean_prefixes: tuple[str, ...]) -> list[dict]:
    """Each source's {"printed": text} or {"error": type}. Environment variables starting
    with ``clean_prefixes`` are removed: the reproducer itself must set what it needs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(clean_prefixes)}
    done = subprocess.run([sys.executable, "-c", _RUNNER], input=json.dumps(sources), env=env,
                          capture_output=True, text=True, timeout=300, check=True)
    return json.loads(done.stdout.splitlines()[-1])


def printed_numbers(text: str) -> np.ndarray:
    return np.asarray(eval(text, {"__builtins__": {}}, {"nan": math.nan, "inf": math.inf}),
                      dtype=np.float64)


def assert_reproducers_print(observations, clean_prefixes: tuple[str, ...]) -> None:
    """Run every observation's reproducer in one clean interpreter (``run_reproducers``) and
    assert that each prints exactly what the adapter observed (NaN included), or raises the
    exception type the library raised."""
    results = run_reproducers([o.reproducer for o in observations], clean_prefixes)
    for observation, result in zip(observations, results, strict=True):
        if observation.error is not None:
            assert result == {"error": observation.error[0].rsplit(".", 1)[-1]}, (
                f"{result}\n{observation.reproducer}")
            continue
        observed = observation.value if observation.wrt is None else observation.gradient
        assert "printed" in result, f"{result}\n{observation.reproducer}"
        # the last line: a compiler may print before the result
        printed = printed_numbers(result["printed"].strip().splitlines()[-1])
        assert printed.shape == observed.shape
        assert np.array_equal(printed, observed, equal_nan=True), observation.reproducer

"""Run many reproducers in one fresh interpreter (the library imports once) and read back what
each printed or the exception it raised. Shared by the per-library adapter tests."""

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

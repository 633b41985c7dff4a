"""Whole runs of the conformance suite in a separate process, on an adapter chosen by its path,
as a user starts one: ``python -m conformance`` with ``XENT_ADAPTER`` (tests of the adapter
interface, of the checks before the first case, of what a run records)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
EXAMPLE = "adapters.example.adapter:TinylossAdapter"
#: variables of the caller's run that would change what a nested suite run selects or pins
NESTED_RUN_CLEARS = ("XENT_ADAPTER", "XENT_ENV", "XENT_REQUIRE_ADAPTERS", "TOX_ENV_NAME",
                     "XENT_RESULTS_DIR", "PIP_CONSTRAINT", "PYTHONPATH", "VIRTUAL_ENV",
                     "HYPOTHESIS_PROFILE", "XENT_TIMEOUT", "XENT_MEMORY_LIMIT")

#: a user's adapter: one binding of NumPy's own formula for BCE with logits
USER_ADAPTER = """
    from adapters.adapter import Adapter as LibraryAdapter
    from adapters.binding import Binding
    from adapters.numpy.framework import NUMPY

    BINDING = Binding(api="mine.bce", library="mine", loss="binary_cross_entropy_with_logits",
                      expression="np.logaddexp(0, input) - target * input",
                      reductions={"none": ""}, dtypes=("float64",), gradients=())

    class Adapter(LibraryAdapter):
        library = "mine"
        modules = {"np": "numpy"}
        framework = NUMPY
        bindings = (BINDING,)
    """


def user_module(folder: Path, name: str, body: str) -> None:
    (folder / f"{name}.py").write_text(textwrap.dedent(body))


def run_suite(adapter: str, results: Path, *args: str, python: str = sys.executable,
              cwd: Path = ROOT, extra_path: Path | None = None, command: tuple = (),
              **variables: str) -> tuple[int, str, dict | None]:
    """The suite on ``adapter`` with results in ``results`` (``python -m conformance``, or
    ``command`` given as the arguments after the python), pytest arguments ``args``: (exit
    status, output, results document or None)."""
    env = {k: v for k, v in os.environ.items() if k not in NESTED_RUN_CLEARS}
    env.update(XENT_ADAPTER=adapter, XENT_RESULTS_DIR=str(results), **variables)
    if extra_path is not None:
        env["PYTHONPATH"] = str(extra_path)
    run = subprocess.run([python, *(command or ("-m", "conformance")), "-q", "-p", "no:xdist",
                          *args], cwd=cwd, env=env, capture_output=True, text=True,
                         timeout=600)
    output = run.stdout + run.stderr
    files = list(results.glob("*.json"))
    document = json.loads(files[0].read_text()) if len(files) == 1 else None
    return run.returncode, output, document

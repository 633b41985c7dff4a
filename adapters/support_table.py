"""The supported-API table, generated from the declarations (never typed by hand).

One row per binding and env. ``python -m adapters`` prints it; ``python -m adapters --write
README.md`` replaces the table between the markers in the README, and a test fails when the
README is out of date.
"""

from __future__ import annotations

import os
import re
from contextlib import contextmanager

from adapters import ENV_VARIABLES, ENVIRONMENTS, load_adapter
from adapters.binding import DIRECTIONAL_CHECKS, DTYPES
from reference.specs import loss_spec

START, END = "<!-- supported-apis:start -->", "<!-- supported-apis:end -->"


@contextmanager
def _env_variables(env: str):
    """The variables of ``env`` set, every other flavour variable unset; restored after."""
    keys = {key for variables in ENV_VARIABLES.values() for key in variables}
    saved = {key: os.environ.get(key) for key in keys}
    for key in keys:
        os.environ.pop(key, None)
    os.environ.update(ENV_VARIABLES.get(env, {}))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def table() -> str:
    """One row per binding per env: a library can offer different things in different envs
    (Keras on its numpy backend has no gradients; legacy Keras is spelled tf.keras)."""
    rows = [
        "| API | env | oracle loss | targets | options | reductions | dtypes | gradients | "
        "derivatives |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for env, names in ENVIRONMENTS.items():
        with _env_variables(env):
            adapters = [load_adapter(name) for name in names]
        for adapter, b in ((a, b) for a in adapters for b in a.bindings):
            binary = loss_spec(b.loss).family == "binary"
            targets = "probabilities" if binary else ", ".join(b.targets)
            options = ", ".join(sorted({*b.options, *b.operand_options})) or "-"
            fixed = ", ".join(f"{k}={v!r}" for k, v in b.fixed_options.items())
            if fixed:
                options += f" (always {fixed})"
            dtypes = " ".join(d.replace("float", "f") for d in DTYPES if d in b.dtypes)
            rows.append(
                f"| `{b.api}` | {env} | `{b.loss}` | {targets} | {options} | "
                f"{', '.join(b.reductions) or '-'} | {dtypes} | "
                f"{', '.join(b.gradients) or '-'} | {_derivatives(adapter, b)} |"
            )
    return "\n".join(rows)


def _derivatives(adapter, binding) -> str:
    """The derivative checks beyond the reverse gradient the binding takes (jvp, hvp)."""
    if not binding.gradients:
        return "-"
    offered = [check for check in DIRECTIONAL_CHECKS
               if adapter.derivative_unsupported(binding, check) is None
               and (check != "hvp" or "input" in binding.gradients)]  # hvp: wrt the input
    return ", ".join(offered) or "-"


def replace_in(text: str) -> str:
    """``text`` with the table between the markers brought up to date."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise ValueError(f"the markers {START} ... {END} are missing")
    return pattern.sub(lambda _: f"{START}\n{table()}\n{END}", text)

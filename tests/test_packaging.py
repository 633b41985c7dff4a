"""What the package promises those who install it: the extras say what a task needs, the tox envs
install exactly the pinned versions, and the wheel carries the type-hint marker."""

from __future__ import annotations

import importlib.resources
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    """The project name of a requirement, normalised (PEP 503): "mlx[cpu]" -> "mlx"."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group()
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, _, version = line.partition("==")
            pins[_name(name)] = version
    return pins


def test_the_report_extra_is_the_report_group():
    # pip install "xent-conformance[report]" and the tox report env install the same packages,
    # jsonschema-rs (the fast results check) among them
    extra = PYPROJECT["project"]["optional-dependencies"]["report"]
    assert extra == PYPROJECT["dependency-groups"]["report"]
    assert {_name(r) for r in extra} == {"jinja2", "matplotlib", "jsonschema", "jsonschema-rs"}


def test_every_requirement_is_pinned():
    requirements = list(PYPROJECT["project"]["dependencies"])
    for extra in PYPROJECT["project"]["optional-dependencies"].values():
        requirements += extra
    for group in PYPROJECT["dependency-groups"].values():
        requirements += [r for r in group if isinstance(r, str)]  # not {include-group = ...}
    pins = _pins()
    unpinned = sorted({_name(r) for r in requirements} - set(pins))
    assert not unpinned, f"add to constraints.txt: {unpinned}"


def test_the_wheel_marks_the_oracle_as_typed():
    # tox's envs import the installed wheel (tox.ini, package = wheel): the marker must travel
    # in it (pyproject, package-data), or type checkers ignore the oracle's hints
    assert importlib.resources.files("reference").joinpath("py.typed").is_file()

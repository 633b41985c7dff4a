"""Which adapters a conformance run checks, what the run is called, where their registries are.

Two ways to choose, both read from the environment (``pytest --xent-adapter`` sets the first):

- **Your own adapter**: ``XENT_ADAPTER=module.path:ClassName`` runs exactly that adapter, in
  whatever environment can import it, and fails its tests when its library is unavailable. The
  run, and its results file, is named after the adapter's library unless ``XENT_ENV`` names it.
- **The project's envs** (tox): ``XENT_REQUIRE_ADAPTERS`` names the adapters of
  ``adapters.ADAPTERS`` the env checks, which must then be available (none named: every
  adapter whose library is installed). The run is named by ``XENT_ENV``, else tox's
  ``TOX_ENV_NAME``, else "local".

Either way a library's registry is found the same way: ``<library>.toml`` in the folder its
adapter declares (``Adapter.registry_directory``, relative to its module), else in its module's
own folder (``adapters/torch/torch.toml``); none there means an empty registry, so every
difference fails. So a built-in adapter chosen by its path (``adapters.torch.adapter:
TorchAdapter``) keeps the project's registry, and a maintainer can check a nightly build against
the behaviour registered for the pinned one.

Only the bindings of checked adapters whose library imports here are collected
(``collected``): a run does not list thousands of skipped tests of libraries it does not check.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from adapters import ADAPTERS, load_adapter
from conformance.deviations import DeviationRegistry

#: the variable naming your own adapter, as "module.path:ClassName"
VARIABLE = "XENT_ADAPTER"


@dataclass(frozen=True)
class Selection:
    env: str
    #: adapter name -> "module:Class": the adapters the run may check
    paths: Mapping[str, str]
    #: the adapters this run checks: those of them whose library imports are collected
    checked: frozenset[str]
    #: the checked adapters whose tests fail, rather than skip, when they are unavailable
    required: frozenset[str]

    def registry_directory(self, library: str) -> Path:
        """The folder of ``library``'s registry: that of the run's adapter of that library."""
        for path in self.paths.values():
            adapter = declared(path)
            if adapter.library == library:
                return registry_directory(type(adapter))
        raise KeyError(f"no adapter of this run computes with the library {library!r}")

    def registry(self, library: str) -> DeviationRegistry:
        """The library's deviation registry, with the entries that hold in this run's env."""
        return DeviationRegistry.load(library, self.env, self.registry_directory(library))

    def collected(self) -> list[str]:
        """The checked adapters whose library imports here, by name, sorted."""
        return [name for name in sorted(self.checked) if unavailable(self.paths[name]) is None]


@cache
def declared(path: str):
    """The adapter at ``path``, for its declarations (the library is not imported)."""
    return load_adapter(path)


@cache
def unavailable(path: str) -> str | None:
    """Why the adapter at ``path`` cannot run in this process ("unavailable: <reason>"), or
    None. Importing a library is costly: asked once per process."""
    return load_adapter(path).unavailable()


def from_environment(environ: Mapping[str, str] = os.environ) -> Selection:
    """The selection the variables describe (see the module docstring); a bad
    ``XENT_ADAPTER`` raises ``adapters.AdapterSpecError`` naming the problem."""
    path = environ.get(VARIABLE, "").strip()
    if path:
        return _own_adapter(path, environ)
    required = frozenset(a for a in environ.get("XENT_REQUIRE_ADAPTERS", "").split(",") if a)
    env = environ.get("XENT_ENV") or environ.get("TOX_ENV_NAME") or "local"
    return Selection(env, dict(ADAPTERS), required or frozenset(ADAPTERS), required)


def _own_adapter(path: str, environ: Mapping[str, str]) -> Selection:
    name = load_adapter(path).library
    return Selection(environ.get("XENT_ENV") or name, {name: path}, frozenset({name}),
                     frozenset({name}))


def registry_directory(cls: type) -> Path:
    """The folder of an adapter's own registry: the one it declares, relative to its module's
    folder, else that folder."""
    here = Path(sys.modules[cls.__module__].__file__).resolve().parent
    return here / cls.registry_directory if cls.registry_directory else here


@cache
def current() -> Selection:
    """This process's selection, read once (pytest_configure exports ``--xent-adapter`` as
    ``XENT_ADAPTER`` before anything asks)."""
    return from_environment()

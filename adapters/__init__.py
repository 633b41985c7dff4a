"""Adapters: one folder per numerical library, calling its public cross-entropy APIs and
returning what it did (values, gradients or the error it raised) as observations.

A library's folder (``adapters/torch/``) holds everything true of that library: its adapter and
bindings (``adapter.py``), its array framework if it brings one (``framework.py``), its
deviation registry (``<library>.toml``) and the predicates its registry matches on
(``predicates.py``). Its ``__init__.py`` declares its adapters, the tox envs that check them and
the variables that select a flavour; this package gathers every folder's declarations, so a
library is added by adding a folder. A user's adapter (``adapters/example/`` is one) is the same
kind of module, named by its path instead.

Importing this package or an adapter module never imports the library itself: the
declarations (``Binding``) are plain data, and the library is imported on first use.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil


def _library_folders():
    """The library folders' packages, by folder name: those that declare ``ADAPTERS``."""
    for info in pkgutil.iter_modules(__path__):
        if info.ispkg:
            folder = importlib.import_module(f"{__name__}.{info.name}")
            if hasattr(folder, "ADAPTERS"):
                yield folder


#: adapter name -> "module:Class", every library folder's
ADAPTERS: dict[str, str] = {}
#: library folder (``adapters/<folder>/``) -> the names of its adapters
FOLDERS: dict[str, tuple[str, ...]] = {}
#: tox env -> the adapters that must be available there (elsewhere they may be skipped)
ENVIRONMENTS: dict[str, tuple[str, ...]] = {}
#: environment variables that select a library's flavour in an env (tox.ini sets the same)
ENV_VARIABLES: dict[str, dict[str, str]] = {}
for _folder in _library_folders():
    ADAPTERS.update(_folder.ADAPTERS)
    FOLDERS[_folder.__name__.rpartition(".")[2]] = tuple(_folder.ADAPTERS)
    for _env, _names in getattr(_folder, "ENVIRONMENTS", {}).items():
        ENVIRONMENTS[_env] = (*ENVIRONMENTS.get(_env, ()), *_names)
    ENV_VARIABLES.update(getattr(_folder, "ENV_VARIABLES", {}))


class AdapterSpecError(ValueError):
    """An adapter path that names no usable adapter: says which path and what is wrong."""


def adapter_class(path: str) -> type:
    """The ``Adapter`` subclass a "module.path:ClassName" path names, checked.

    Importing the module must not import the library (the declarations are plain data), so
    a failed import is the adapter module's own fault and is reported as such.
    """
    from adapters.adapter import Adapter

    module_name, colon, class_name = path.partition(":")
    if not colon or not module_name or not class_name or ":" in class_name:
        raise AdapterSpecError(f"adapter {path!r}: expected module.path:ClassName, "
                               "e.g. mypkg.xent:Adapter")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # ModuleNotFoundError, or the module's own error
        raise AdapterSpecError(f"adapter {path!r}: cannot import module {module_name!r}: "
                               f"{type(exc).__name__}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if cls is None:
        raise AdapterSpecError(f"adapter {path!r}: module {module_name!r} "
                               f"({module.__file__}) has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        raise AdapterSpecError(f"adapter {path!r}: {class_name} is not a subclass of "
                               "adapters.adapter.Adapter")
    return cls


def declaration_problem(adapter) -> str | None:
    """The first of ``declaration_problems``, or None."""
    return next(iter(declaration_problems(adapter)), None)


def declaration_problems(adapter) -> list[str]:
    """What makes an adapter's declarations unusable by the suite, one sentence each (an
    instance is checked: Keras's adapter names its library and bindings when made, per flavour).

    The suite finds a binding's registry by ``Binding.library`` and its oracle by
    ``Binding.loss``, and names findings by ``Binding.api``: a mismatch would be silently
    judged against the wrong registry or loss. ``conformance.declarations`` checks the rest of
    each binding.
    """
    from reference.specs import LOSS_SPECS

    name = type(adapter).__name__
    if not adapter.library:
        return [f"{name} names no library (class attribute library = \"...\")"]
    if not adapter.bindings:
        return [f"{name} declares no bindings"]
    problems, apis = [], set()
    for binding in adapter.bindings:
        if binding.library != adapter.library:
            problems.append(f"binding {binding.api!r} says library={binding.library!r}, "
                            f"the adapter's library is {adapter.library!r}")
        if binding.loss not in LOSS_SPECS:
            close = difflib.get_close_matches(str(binding.loss), LOSS_SPECS, n=1)
            problems.append(f"binding {binding.api!r} computes {binding.loss!r}, which is none "
                            f"of the oracle's losses ({', '.join(LOSS_SPECS)})"
                            + (f"; did you mean {close[0]!r}?" if close else ""))
        if binding.api in apis:
            problems.append(f"two bindings are named {binding.api!r}")
        apis.add(binding.api)
    return problems


def load_adapter(name_or_path: str):
    """A fresh adapter instance, by name ("torch") or by "module:Class" path; a path that
    names no usable adapter raises ``AdapterSpecError``."""
    path = ADAPTERS.get(name_or_path, name_or_path)
    adapter = adapter_class(path)()
    problem = declaration_problem(adapter)
    if problem:
        raise AdapterSpecError(f"adapter {path!r}: {problem}")
    return adapter


def all_bindings():
    """Every declared binding of every adapter, without importing any library."""
    return [b for name in ADAPTERS for b in load_adapter(name).bindings]

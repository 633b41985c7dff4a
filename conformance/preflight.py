"""What a run checks before its first case: everything a user declares, and what the machine has.

Run once, by the controlling process (``conformance/conftest.py``), on the adapters the run
checks:

- each adapter's declarations (``conformance.declarations``: binding fields, the expression's
  syntax and placeholders) and, where its library imports, the names its expressions call;
- each library's deviation registry (TOML syntax, kinds, match keys and values, claims);
- which libraries import here, their versions, and the compilers their frameworks run;
- whether each registry was written for the version installed, and whether there is one.

A problem of the first two kinds stops the run before it starts (``PreflightError``, one line
each, naming the file and the entry). The others are facts the run records: an unavailable
library (the run fails once if the env requires it), and warnings for its header and results.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass, field

from adapters import AdapterSpecError, load_adapter
from conformance import declarations, selection
from conformance.deviations import DeviationRegistry, RegistryError
from conformance.selection import Selection


class PreflightError(ValueError):
    """Declarations or registries the run cannot use: one problem per line."""


@dataclass
class Preflight:
    #: library -> version, for every checked library that imports (and the tools its
    #: framework runs, such as the C compiler of tinygrad's kernels)
    versions: dict[str, str] = field(default_factory=dict)
    #: adapter name -> why its library cannot run here
    unavailable: dict[str, str] = field(default_factory=dict)
    #: library -> its registry
    registries: dict[str, DeviationRegistry] = field(default_factory=dict)
    #: what a reader of the run must know
    warnings: list[str] = field(default_factory=list)


def preflight(chosen: Selection) -> Preflight:
    """Check the run's adapters and registries (see the module docstring); raise
    ``PreflightError`` listing every problem found."""
    found = Preflight()
    problems: list[str] = []
    for name in sorted(chosen.checked):
        try:
            adapter = load_adapter(chosen.paths[name])
        except AdapterSpecError as exc:
            problems.append(str(exc))
            continue
        problems += declarations.binding_problems(adapter)
        try:
            registry = chosen.registry(adapter.library)
        except RegistryError as exc:
            problems.append(str(exc))
            registry = None
        reason = selection.unavailable(chosen.paths[name])
        if reason is not None:
            found.unavailable[name] = reason
            continue
        problems += declarations.unresolved_names(adapter)
        try:
            found.versions.update(versions(adapter))
        except Exception as exc:  # a user's version_module, say: the run cannot name it
            problems.append(f"{declarations.adapter_file(adapter)}: the version of "
                            f"{adapter.library} cannot be read: {type(exc).__name__}: {exc}")
        if registry is not None:
            found.registries[adapter.library] = registry
            found.warnings += registry_warnings(chosen, adapter, registry)
    if problems:
        raise PreflightError("\n".join(dict.fromkeys(problems)))
    return found


def versions(adapter) -> dict[str, str]:
    """The library's version, and those of the tools its framework runs (a C compiler)."""
    tools = adapter.framework.toolchain_versions() if adapter.framework is not None else {}
    return {adapter.library: adapter.version(), **tools}


def registry_warnings(chosen: Selection, adapter, registry: DeviationRegistry) -> list[str]:
    """A library without a registry file; a registry written for other versions than the
    installed ones (its entries state what that version did)."""
    if not registry.headers:
        folder = chosen.registry_directory(adapter.library)
        return [f"{adapter.library} has no registry file ({folder / adapter.library}.toml): "
                "every difference from the oracle fails the run"]
    warnings = []
    for header in registry.headers:
        for package, written_for in [(header.library, header.version), *header.also.items()]:
            installed = installed_version(package, adapter)
            if installed is not None and _release(installed) != _release(written_for):
                warnings.append(f"{header.file} was written for {package} {written_for}; "
                                f"{installed} is installed: its entries state what "
                                f"{written_for} did")
    return list(dict.fromkeys(warnings))


def installed_version(package: str, adapter) -> str | None:
    """The installed version of ``package`` (a registry's name for it): the adapter's own
    report when it is the adapter's library, else the distribution's, else the module's
    ``__version__``; None when none of these says."""
    if package == adapter.library:
        return adapter.version().split()[0]
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        module = importlib.import_module(package.replace("-", "_"))
    except Exception:  # not importable here: nothing to compare
        return None
    version = getattr(module, "__version__", None)
    return str(version) if version is not None else None


def _release(version: str) -> str:
    """The version without its local label: torch's wheel 2.13.0+cpu is release 2.13.0."""
    return version.split("+", 1)[0].strip()

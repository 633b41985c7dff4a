"""The spine's layers: reference -> adapters -> conformance -> reports -> benchmarks, each
importing only from itself and the layers before it (function-level imports included), and no
circle of module-level imports (the one there was: adapters.base imported the frameworks for an
annotation, which imported it back for a helper). Read off the source with ``ast``."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("reference", "adapters", "conformance", "reports", "benchmarks")


def _modules() -> dict[str, Path]:
    """Every module of the five packages, by dotted name."""
    found = {}
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _imports(name: str, path: Path, module_level: bool = False) -> set[str]:
    """The project modules ``name`` imports: anywhere in its source, or only in statements run
    when it is imported (``module_level``: top-level ones, and those under a top-level ``if``
    such as ``if TYPE_CHECKING:``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(), str(path))
    nodes = ast.walk(tree) if not module_level else [
        node for statement in tree.body
        for node in ([statement] if not isinstance(statement, ast.If) else statement.body)]
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from package import submodule" imports the submodule; "from module import
            # name", the module
            submodules = [f"{base}.{alias.name}" for alias in node.names
                          if f"{base}.{alias.name}" in MODULES]
            targets = submodules if len(submodules) == len(node.names) else [base, *submodules]
        else:
            continue
        found |= {target for target in targets if target in MODULES}
    return found - {name}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_a_module_imports_no_later_layer(name):
    layer = LAYERS.index(name.split(".")[0])
    later = sorted(t for t in _imports(name, MODULES[name])
                   if LAYERS.index(t.split(".")[0]) > layer)
    assert later == [], f"{name} imports from a later layer: {later}"


def test_no_import_circle():
    edges = {name: _imports(name, path, module_level=True) for name, path in MODULES.items()}
    circles, state = [], {}

    def visit(name, trail):
        state[name] = "open"
        for target in sorted(edges[name]):
            if state.get(target) == "open":
                circles.append([*trail[trail.index(target):], target])
            elif target not in state:
                visit(target, [*trail, target])
        state[name] = "done"

    for name in sorted(MODULES):
        if name not in state:
            visit(name, [name])
    assert circles == []

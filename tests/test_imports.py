"""No import circle anywhere in ganctl, counting imports inside functions.

Every module under ganctl/ is parsed with ``ast`` (nothing is imported) and each import of a ganctl module
becomes an edge of a module graph; a strongly connected component with more than one module is a circle,
and the test lists each one with the lines that close it.

How an import counts:
- ``import ganctl.a.b`` and ``from ganctl.a.b import x``: an edge to ``ganctl.a.b``, the module it names;
  ``from ganctl.a import b`` where ``b`` is a submodule: an edge to ``ganctl.a.b`` (and none to ``ganctl.a``).
  Relative imports are resolved against the importing module's package first.
- A package is its ``__init__.py``: ``from ganctl.models import create_model`` is an edge to ``ganctl.models``,
  and the package's own imports are its edges. Python runs ``ganctl/a/__init__.py`` before ``ganctl.a.b``, but
  that implicit step is not an edge: a package that imports its members (timm's pattern: ``models/__init__``
  imports the networks, each network imports ``models.registry``, the registry imports nothing) is not a circle.
- Imports anywhere count: module level, inside functions and classes, inside ``try``. Only imports under
  ``if TYPE_CHECKING:`` are left out, because they never run.
- Modules loaded by name through ``importlib.import_module`` count too: a string constant that is exactly the
  name of a ganctl module (``"ganctl.colorize_adapter"``) is an import of it, and an f-string that starts with
  a package (``f"ganctl.training.{name}"``) is an import of each ``ganctl.training.<s>`` where ``<s>`` is a
  string constant of the same module (PEP 562 lazy attributes: ``{"train": "runner"}``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import ganctl

PACKAGE_DIR = Path(ganctl.__file__).parent


def module_files(package_dir: Path = PACKAGE_DIR) -> dict[str, Path]:
    """Every module of the package by dotted name (``ganctl.cli`` for ``ganctl/cli/__init__.py``)."""
    modules = {}
    for path in sorted(package_dir.rglob("*.py")):
        parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` (their ``else:`` branches do run)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
        else:
            stack.extend(ast.iter_child_nodes(node))


def _resolve_relative(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name of ``from <level dots><target> import ...`` written in ``module``."""
    base = module.split(".")
    if not is_package:
        base.pop()
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([target] if target else []))


def imported_modules(module: str, path: Path, known: set[str]) -> dict[str, int]:
    """The ganctl modules that ``module`` imports, each with the line of its first import."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: dict[str, int] = {}

    def add(name: str, line: int) -> None:
        if name in known and name != module:
            found.setdefault(name, line)

    constants = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)}
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = (_resolve_relative(module, is_package, node.level, node.module) if node.level
                    else node.module or "")
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                add(submodule if submodule in known else base, node.lineno)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.startswith("ganctl."):
            add(node.value, node.lineno)
        elif isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            prefix = str(node.values[0].value)
            if prefix.startswith("ganctl.") and prefix.endswith("."):
                for name in sorted(constants):
                    add(prefix + name, node.lineno)
    return found


def import_graph(package_dir: Path = PACKAGE_DIR) -> tuple[dict[str, dict[str, int]], dict[str, Path]]:
    """``{module: {imported module: line}}`` over every ganctl module, and the module files."""
    files = module_files(package_dir)
    known = set(files)
    return {name: imported_modules(name, path, known) for name, path in files.items()}, files


def strongly_connected_components(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; components in discovery order, each sorted."""
    index: dict[str, int] = {}
    lowlink: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = lowlink[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = lowlink[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                elif child in on_stack:
                    lowlink[node] = min(lowlink[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(sorted(component))
    return components


def import_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Each group of modules that import each other, directly or through others."""
    return [c for c in strongly_connected_components(graph) if len(c) > 1]


def describe_cycle(component: list[str], graph: dict[str, dict[str, int]], files: dict[str, Path]) -> str:
    """The modules of one circle and every import between them, as ``file:line a -> b``."""
    members = set(component)
    root = PACKAGE_DIR.parent
    edges = [f"    {files[a].relative_to(root)}:{line}  {a} -> {b}"
             for a in component for b, line in sorted(graph[a].items()) if b in members]
    return f"  {' <-> '.join(component)}\n" + "\n".join(edges)


def test_no_import_cycles():
    graph, files = import_graph()
    cycles = import_cycles(graph)
    assert not cycles, "import circles in ganctl:\n" + "\n".join(describe_cycle(c, graph, files) for c in cycles)


def private_typer_uses(path: Path) -> list[str]:
    """Lines of ``path`` that use typer's private modules (``typer._click``) or click itself, which typer vendors."""
    uses = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "typer":
            names = [f"typer.{node.attr}"]
        for name in names:
            if name.startswith("typer._") or name.split(".")[0] == "click":
                uses.append(f"{path.relative_to(PACKAGE_DIR.parent)}:{node.lineno} {name}")
    return uses


def test_only_public_typer_api():
    uses = [use for path in module_files().values() for use in private_typer_uses(path)]
    assert not uses, "private typer API or click used directly:\n" + "\n".join(uses)


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "ganctl"


def test_graph_counts_function_relative_submodule_and_string_imports(tmp_path):
    package = _write(tmp_path, {
        "ganctl/__init__.py": "",
        "ganctl/a.py": "def f():\n    from ganctl import b\n",
        "ganctl/b.py": "from .sub import thing\n",
        "ganctl/sub/__init__.py": "from . import leaf\nthing = 1\n",
        "ganctl/sub/leaf.py": "from ..c import x\n",
        "ganctl/c.py": "NAMES = ('ganctl.a',)\nfrom typing import TYPE_CHECKING\n"
                       "if TYPE_CHECKING:\n    import ganctl.b\n",
    })
    graph, _ = import_graph(package)
    assert graph["ganctl.a"] == {"ganctl.b": 2}
    assert graph["ganctl.b"] == {"ganctl.sub": 1}
    assert graph["ganctl.sub"] == {"ganctl.sub.leaf": 1}
    assert graph["ganctl.sub.leaf"] == {"ganctl.c": 1}
    assert graph["ganctl.c"] == {"ganctl.a": 1}
    assert import_cycles(graph) == [["ganctl.a", "ganctl.b", "ganctl.c", "ganctl.sub", "ganctl.sub.leaf"]]


def test_graph_counts_lazy_attributes_loaded_by_name(tmp_path):
    package = _write(tmp_path, {
        "ganctl/__init__.py": "",
        "ganctl/training/__init__.py": "import importlib\n_LAZY = {'train': 'runner'}\n\n"
                                       "def __getattr__(name):\n"
                                       "    return importlib.import_module(f'ganctl.training.{_LAZY[name]}')\n",
        "ganctl/training/runner.py": "from ganctl.training import recipe\n",
        "ganctl/training/recipe.py": "",
    })
    graph, _ = import_graph(package)
    assert graph["ganctl.training"] == {"ganctl.training.runner": 5}
    assert import_cycles(graph) == []


def test_package_importing_its_members_is_not_a_cycle(tmp_path):
    package = _write(tmp_path, {
        "ganctl/__init__.py": "",
        "ganctl/models/__init__.py": "from ganctl.models import resnet\nfrom ganctl.models.registry import create\n",
        "ganctl/models/registry.py": "def create():\n    pass\n",
        "ganctl/models/resnet.py": "from ganctl.models.registry import create\n",
    })
    graph, _ = import_graph(package)
    assert import_cycles(graph) == []

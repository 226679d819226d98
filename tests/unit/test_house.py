"""The walls of the house, read from the code's own imports (issue 17).

- ``events/`` depends on nothing of the project; ``infra/`` imports no service and no CLI;
  a service never imports another service (they talk through ``events/`` on Redis only);
- no import loop anywhere in the shipped packages: a feature module types against a small
  protocol (``ports.py``) and the registries are assembled apart from the application, so a
  loop is always a design slip, and caught here rather than in a reviewer's drawing.

Every import counts: those under ``if TYPE_CHECKING:`` (a loop of types is a loop of design,
whatever runs) and those inside functions (how a loop hides).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("events", "infra", "services", "lots")


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(tree: ast.AST, module: str, package: bool) -> Iterator[str]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".")[: len(module.split(".")) - node.level + package]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)
        yield from _imports(node, module, package)


def graph() -> dict[str, set[str]]:
    files = [p for name in PACKAGES for p in (ROOT / name).rglob("*.py")]
    modules = {_module(p): p for p in files}
    edges: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        package = path.name == "__init__.py"
        found = {name for name in _imports(tree, module, package) if name in modules}
        edges[module] = {name for name in found if name != module}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        top = stack.pop()
                        on_stack.discard(top)
                        component.append(top)
                        if top == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def _service(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "services" and len(parts) > 1 else None


def test_the_shipped_packages_have_no_import_loop() -> None:
    assert cycles(graph()) == []


def test_the_loop_finder_finds_a_loop() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_events_depend_on_nothing_of_the_project() -> None:
    wrong = {
        (m, i) for m, imports in graph().items() if m.startswith("events")
        for i in imports if not i.startswith("events")
    }  # fmt: skip
    assert wrong == set()


def test_infra_imports_no_service_and_no_command_line() -> None:
    wrong = {
        (m, i) for m, imports in graph().items() if m.startswith("infra")
        for i in imports if i.startswith(("services", "lots"))
    }  # fmt: skip
    assert wrong == set()


def test_a_service_never_imports_another() -> None:
    wrong = {
        (m, i) for m, imports in graph().items() if _service(m)
        for i in imports if _service(i) and _service(i) != _service(m)
    }  # fmt: skip
    assert wrong == set()

"""Every package the shipped code imports comes with a plain ``pip install .`` (no extras).

The dev extras are installed here, so a shipped module importing one of them works in the tests
and fails for a user and in the container image (``ModuleNotFoundError: httpx`` once). This
reads the imports of the shipped packages and checks each against the dependency closure of
``[project.dependencies]``, taken from the installed distributions' own metadata; the e2e test
``tests/e2e/test_install.py`` then installs the wheel into a clean venv and runs it.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def shipped_packages() -> list[str]:
    include = PYPROJECT["tool"]["setuptools"]["packages"]["find"]["include"]
    return sorted({pattern.rstrip("*").rstrip(".") for pattern in include})


def closure(requirements: list[str]) -> set[str]:
    """The distributions ``requirements`` bring, extras included, as pip resolves them here
    (markers evaluated for this interpreter)."""
    seen: set[tuple[str, str]] = set()
    # (a requirement, the extra of its parent under which it was listed)
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        requirement, parent_extra = todo.pop()
        marker = requirement.marker
        if marker is not None and not marker.evaluate({"extra": parent_extra}):
            continue
        name = canonicalize_name(requirement.name)
        for extra in ("", *requirement.extras):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            todo += [(Requirement(sub), extra) for sub in metadata.requires(name) or []]
    return {name for name, _ in seen}


def imports(package: str) -> Iterator[tuple[Path, str]]:
    """(file, top-level module) for every absolute import in the package's modules."""
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                yield path.relative_to(ROOT), name.split(".")[0]


def test_every_third_party_import_of_shipped_code_is_a_declared_dependency() -> None:
    local = set(shipped_packages())
    declared = closure(PYPROJECT["project"]["dependencies"])
    owners = metadata.packages_distributions()
    missing = set()
    for package in local:
        for path, module in imports(package):
            if module in local or module in sys.stdlib_module_names:
                continue
            dists = {canonicalize_name(d) for d in owners.get(module, [])}
            if not dists & declared:
                missing.add(f"{path}: {module} ({', '.join(sorted(dists)) or 'not installed'})")
    assert not missing, "not brought by [project.dependencies]: " + "; ".join(sorted(missing))


def test_the_closure_follows_extras_and_markers() -> None:
    # faststream[redis] brings redis only through its extra; pydantic brings pydantic-core.
    assert {"faststream", "redis", "pydantic-core"} <= closure(["faststream[redis]", "pydantic"])
    assert "redis" not in closure(["faststream"])


def test_the_image_installs_every_shipped_package_without_extras() -> None:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    copied = {word for line in lines if line.startswith("COPY ") for word in line.split()[1:-1]}
    assert {"pyproject.toml", "README.md", *shipped_packages()} <= copied
    assert "RUN pip install --no-cache-dir ." in lines  # the dependencies alone, as a user's

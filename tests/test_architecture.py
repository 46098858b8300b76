"""Architecture rules, checked on the source tree (import-linter checks the layers in .ci/run too).

- app.core stays Qt-free, and importing any of it loads no Qt;
- no private name (``_x``) is imported from another module;
- code outside an ``app.core`` subpackage imports it only through the subpackage's public surface
  (its ``__init__``), never a module inside it.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
CORE = APP / "core"
QT = {"PySide6", "PyQt5", "PyQt6", "shiboken6"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path):
    """(module imported, [names]) for each import in the file, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([module] if module else []))
            yield module, [a.name for a in node.names]


def _core_modules() -> list[Path]:
    return sorted(p for p in CORE.rglob("*.py"))


def test_core_modules_do_not_import_qt():
    offenders = []
    files = _core_modules()
    for path in files:
        offenders += [f"{path.relative_to(ROOT)}: {m}" for m, _ in _imports(path) if m.split(".")[0] in QT]
    assert len(files) > 20
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    modules = [_module_name(p) for p in _core_modules()]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')]\nprint(bad)\nassert not bad, bad\n"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _package_of(module: str) -> str:
    """The unit that owns a module: app.core.<pkg>, or app.ui / app.cli / app for the rest."""
    parts = module.split(".")
    if parts[:2] == ["app", "core"] and len(parts) >= 3:
        return ".".join(parts[:3])
    return ".".join(parts[:2])


def _all_sources() -> list[Path]:
    return sorted(APP.rglob("*.py"))


def test_no_private_name_crosses_a_module():
    """A name another module needs is public (or lives where it is used): ``_x`` stays in its own module."""
    offenders = []
    for path in _all_sources():
        mine = _module_name(path)
        for module, names in _imports(path):
            if not module.startswith("app.") or module == mine:
                continue
            offenders += [f"{path.relative_to(ROOT)}: {module}.{n}" for n in names if n.startswith("_")]
            if any(part.startswith("_") and part != "__init__" for part in module.split(".")):
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_core_subpackages_are_used_through_their_public_surface():
    subpackages = {p.parent.name for p in CORE.glob("*/__init__.py")}
    assert {"model", "smtp", "net", "detect", "diagnosis", "catalog", "store", "sandbox"} <= subpackages
    offenders = []
    for path in _all_sources():
        mine = _package_of(_module_name(path))
        for module, _names in _imports(path):
            parts = module.split(".")
            if parts[:2] != ["app", "core"] or len(parts) < 4:
                continue
            if _package_of(module) != mine:
                offenders.append(f"{path.relative_to(ROOT)}: {module}")
    assert offenders == []


def test_every_package_ships_in_the_wheel():
    """pyproject.toml lists packages explicitly (resources/ is mapped to app.resources): none may be forgotten."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    on_disk = {_module_name(p) for p in APP.rglob("__init__.py")}
    assert on_disk - listed == set()

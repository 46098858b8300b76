"""Architecture rules: app.core stays Qt-free."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

CORE = Path(__file__).resolve().parents[1] / "app" / "core"


def test_core_modules_do_not_import_qt():
    offenders = []
    for path in sorted(CORE.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in {"PySide6", "PyQt5", "PyQt6", "shiboken6"}]
    assert CORE.is_dir() and len(list(CORE.glob("*.py"))) > 3
    assert offenders == []


def test_importing_every_core_module_loads_no_qt():
    modules = [f"app.core.{p.stem}" for p in sorted(CORE.glob("*.py")) if p.stem != "__init__"]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    code += "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')]\nprint(bad)\nassert not bad, bad\n"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=CORE.parents[1])

"""Lazy package surfaces (app.core.lazy): what type checkers see, what runs and what __all__ says agree."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

from app.core import lazy

ROOT = Path(__file__).resolve().parents[1]
LAZY_PACKAGES = sorted(
    ".".join(p.parent.relative_to(ROOT).parts)
    for p in (ROOT / "app").rglob("__init__.py")
    if "lazy_exports(" in p.read_text(encoding="utf-8")
)


def type_checking_imports(package: str) -> dict[str, set[str]]:
    tree = ast.parse((ROOT / package.replace(".", "/") / "__init__.py").read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    out: dict[str, set[str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(package + ".")
        out.setdefault(node.module.removeprefix(package + "."), set()).update(a.name for a in node.names)
    return out


def test_the_lazy_packages_are_found():
    assert {"app.core.model", "app.core.catalog"} <= set(LAZY_PACKAGES)


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_type_checking_imports_the_table_and_all_agree(package):
    module = importlib.import_module(package)
    table = {sub: set(names) for sub, names in module._SOURCES.items()}
    assert type_checking_imports(package) == table
    assert sorted(module.__all__) == sorted(n for names in table.values() for n in names)
    assert len(module.__all__) == len(set(module.__all__))


@pytest.mark.parametrize("package", LAZY_PACKAGES)
def test_every_public_name_resolves_to_its_module_object(package):
    module = importlib.import_module(package)
    for sub, names in module._SOURCES.items():
        source = importlib.import_module(f"{package}.{sub}")
        for name in names:
            assert getattr(module, name) is getattr(source, name), name
    assert set(module.__all__) <= set(dir(module))


def test_an_unknown_name_is_an_attribute_error_naming_the_package():
    import app.core.model as model

    with pytest.raises(AttributeError, match=r"module 'app.core.model' has no attribute 'Nope'"):
        model.Nope  # noqa: B018
    with pytest.raises(ImportError, match="Nope"):
        exec("from app.core.model import Nope", {})


def test_a_name_is_imported_on_first_use_and_then_cached():
    code = (
        "import sys, app.core.model as m\n"
        "assert 'app.core.model.events' not in sys.modules\n"
        "from app.core.model import SmtpSettings\n"
        "assert 'app.core.model.events' not in sys.modules and 'app.core.model.settings' in sys.modules\n"
        "stage = m.Stage\n"
        "assert 'app.core.model.events' in sys.modules and m.__dict__['Stage'] is stage\n"
        "print('ok')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_lazy_exports_of_a_made_up_package(tmp_path, monkeypatch):
    pkg = tmp_path / "lazypkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        "from app.core.lazy import lazy_exports\n"
        "_SOURCES = {'a': ('VALUE',)}\n"
        "__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)\n"
    )
    (pkg / "a.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("lazypkg")
    assert "lazypkg.a" not in sys.modules
    assert "VALUE" in dir(module) and module.VALUE == 42 and "lazypkg.a" in sys.modules
    assert lazy.lazy_exports  # the helper is public
    sys.modules.pop("lazypkg", None)
    sys.modules.pop("lazypkg.a", None)

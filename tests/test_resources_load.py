"""Resources load identically from the source checkout, an installed wheel and the PyInstaller bundle.

Each install is run as its own process: it reports where its resources are, a digest of their
contents, and the catalogue it loaded (``providers --json``); all must match the checkout.
The bundle part runs when ``dist/mailsetup`` exists or ``MAILSETUP_BUNDLE`` points at it
(CI runs it after tests/build_bundle.sh); otherwise it is skipped.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_SUFFIXES = {".py", ".pyc", ".ts"}  # as in build.spec: runtime files only

# Runs inside the environment under test; prints where app and its resources come from, and a digest.
PROBE = r"""
import hashlib, json, sys
import app
from app.core.resources import resource_dir
root = resource_dir()
files = {}
for p in sorted(root.rglob("*")):
    if p.is_file() and p.suffix not in {".py", ".pyc", ".ts"} and "__pycache__" not in p.parts:
        files[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
print(json.dumps({"app": app.__file__, "resource_dir": str(root), "files": files}))
"""


def _digest_of_dir(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.suffix not in SKIP_SUFFIXES and "__pycache__" not in p.parts
    }


def _comparable(files: dict[str, str], other: dict[str, str]) -> dict[str, str]:
    """Compiled .qm files are compared only when both sides have them (a build without PySide6 ships none)."""
    return {k: v for k, v in files.items() if not k.endswith(".qm") or k in other}


def _run(cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, timeout: float = 120) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def _catalogue(cmd_prefix: list[str], *, env: dict | None = None, cwd: Path | None = None) -> list:
    return json.loads(_run([*cmd_prefix, "providers", "--json", "--lang", "en"], env=env, cwd=cwd))


@pytest.fixture(scope="module")
def checkout():
    """What the source checkout loads: probe output and catalogue."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    probe = json.loads(_run([sys.executable, "-c", PROBE], env=env, cwd=ROOT))
    assert Path(probe["resource_dir"]) == ROOT / "resources"
    assert any(k.startswith("providers/") for k in probe["files"]), "the checkout has no provider files"
    return probe, _catalogue([sys.executable, "-m", "app"], env=env, cwd=ROOT)


def test_wheel_install_loads_the_same_resources(checkout, tmp_path):
    probe, catalogue = checkout
    # Build from a copy so the checkout gets no build/ or .egg-info from this test.
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", "build", "dist", ".venv*", ".git")
    for name in ("pyproject.toml", "README.md", "setup.py", "setup.cfg", "MANIFEST.in"):
        if (ROOT / name).is_file():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(ROOT / "app", src / "app", ignore=ignore)
    shutil.copytree(ROOT / "resources", src / "resources", ignore=ignore)
    wheels = tmp_path / "wheels"
    offline = importlib.util.find_spec("wheel") is not None and importlib.util.find_spec("setuptools") is not None
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(src)]
    _run(cmd + (["--no-build-isolation"] if offline else []), timeout=300)
    [wheel] = list(wheels.glob("mailsetup-*.whl"))
    site = tmp_path / "site"
    _run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(site), str(wheel)])

    env = dict(os.environ, PYTHONPATH=str(site))
    installed = json.loads(_run([sys.executable, "-s", "-c", PROBE], env=env, cwd=tmp_path))
    assert Path(installed["app"]).is_relative_to(site), "the probe imported the checkout, not the wheel"
    assert Path(installed["resource_dir"]) == site / "app" / "resources"
    assert _comparable(installed["files"], probe["files"]) == _comparable(probe["files"], installed["files"])
    assert _catalogue([sys.executable, "-s", "-m", "app"], env=env, cwd=tmp_path) == catalogue


def _bundle_dir() -> tuple[Path | None, str]:
    """The bundle to test and, when there is none to test, why."""
    configured = os.environ.get("MAILSETUP_BUNDLE")
    if configured:
        return Path(configured).resolve(), ""  # relative to where pytest was started
    default = ROOT / "dist" / "mailsetup"
    if not default.is_dir():
        return None, "no bundle: build it with tests/build_bundle.sh (or set MAILSETUP_BUNDLE=dist/mailsetup)"
    built = max((p.stat().st_mtime for p in default.iterdir()), default=0.0)
    newer = [p for p in (ROOT / "resources").rglob("*") if p.is_file() and p.stat().st_mtime > built]
    if newer:  # found by chance, not asked for: an old build is not this checkout's bundle
        return None, f"dist/mailsetup is older than {newer[0].relative_to(ROOT)}; rebuild it or set MAILSETUP_BUNDLE"
    return default, ""


def test_bundle_loads_the_same_resources(checkout, tmp_path):
    bundle, why_not = _bundle_dir()
    if bundle is None:
        pytest.skip(why_not)
    exe = bundle / ("mailsetup.exe" if sys.platform == "win32" else "mailsetup")
    assert exe.is_file(), f"{exe} is missing"
    probe, catalogue = checkout
    resources = bundle / "_internal" / "resources"
    assert resources.is_dir(), f"{resources} is missing"
    files = _digest_of_dir(resources)
    assert _comparable(files, probe["files"]) == _comparable(probe["files"], files)
    env = {k: v for k, v in os.environ.items() if k != "MAILSETUP_RESOURCES"}
    assert _catalogue([str(exe)], env=env, cwd=tmp_path) == catalogue
    # The frozen app itself reports resources from inside the bundle.
    out = subprocess.run([str(exe), "--self-test"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert f"resources: {resources.resolve()}" in out.stdout or f"resources: {resources}" in out.stdout, out.stdout

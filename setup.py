"""Build hook: compile the Qt Linguist .ts files into .qm while building a wheel.

Metadata lives in pyproject.toml. lrelease comes with PySide6; when the build
environment has no PySide6 the wheel ships without .qm files and the app
compiles them once into the user cache dir at first start (app/ui/i18n.py).
"""

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


def _lrelease():
    try:
        import PySide6

        exe = Path(PySide6.__file__).resolve().parent / "lrelease"
        if exe.is_file():
            return str(exe)
    except ImportError:
        pass
    return shutil.which("pyside6-lrelease")


class BuildWithTranslations(build_py):
    def run(self):
        super().run()
        tool = _lrelease()
        out = Path(self.build_lib) / "app" / "resources" / "translations"
        for ts in sorted(Path("resources/translations").glob("*.ts")):
            if tool and out.is_dir():
                subprocess.run([tool, "-silent", str(ts), "-qm", str(out / ts.with_suffix(".qm").name)], check=True)
            else:
                print(f"note: lrelease not available, {ts.name} will be compiled at first start")


setup(cmdclass={"build_py": BuildWithTranslations})

"""Translations: ru and en via Qt Linguist.

Sources are ``resources/translations/mailsetup_<lang>.ts`` (edited with Qt Linguist,
refreshed with ``python -m app.ui.i18n update``). The binary ``.qm`` files are
never hand-edited or committed: ``python -m app.ui.i18n build`` compiles them
with the ``lrelease`` that ships inside PySide6 (the wheel build and build.spec
run it), and a checkout or install without them compiles them once into the
user cache dir at first start.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLocale, QTranslator

from app.core.resources import resource_path

log = logging.getLogger(__name__)

SOURCE_LANGUAGE = "en"
LANGUAGES = ("en", "ru")  # source language first
ENV_LANG = "MAILSETUP_LANG"

_installed: list[QTranslator] = []
_current = SOURCE_LANGUAGE


def available_languages() -> tuple[str, ...]:
    """Language codes the UI can switch to."""
    return LANGUAGES


def language_names() -> dict[str, str]:
    """Each language's name in that language (for the switch; not translated on purpose)."""
    return {"en": "English", "ru": "Русский"}


def system_language() -> str:
    """``MAILSETUP_LANG`` if set, else the system locale's language when supported, else English."""
    wanted = (os.environ.get(ENV_LANG) or QLocale.system().name()).split("_")[0].lower()
    return wanted if wanted in LANGUAGES else SOURCE_LANGUAGE


def current_language() -> str:
    """The language installed last (``en`` before any install)."""
    return _current


def ts_path(lang: str) -> Path:
    return resource_path("translations", f"mailsetup_{lang}.ts")


def _tool(name: str) -> str:
    """Path of a Qt Linguist tool shipped with PySide6 (``lrelease`` / ``lupdate``)."""
    import PySide6

    exe = name + (".exe" if sys.platform == "win32" else "")
    bundled = Path(PySide6.__file__).resolve().parent / exe
    if bundled.is_file():
        return str(bundled)
    found = shutil.which(f"pyside6-{name}") or shutil.which(name)
    if not found:
        raise FileNotFoundError(f"Qt's {name} tool was not found next to PySide6 or on PATH")
    return found


def compile_ts(ts: Path, qm: Path) -> Path:
    """Compile one .ts into .qm with lrelease; returns the .qm path."""
    import subprocess  # only a development checkout compiles translations: not imported at start-up

    qm.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([_tool("lrelease"), "-silent", str(ts), "-qm", str(qm)], check=True, timeout=120)
    return qm


def build_all(out_dir: Path | None = None) -> list[Path]:
    """Compile every shipped .ts (next to it, or into ``out_dir``)."""
    built = []
    for lang in LANGUAGES:
        ts = ts_path(lang)
        if ts.is_file():
            built.append(compile_ts(ts, (out_dir or ts.parent) / ts.with_suffix(".qm").name))
    return built


def _cache_dir() -> Path:
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("mailsetup")) / "translations"


def qm_path(lang: str) -> Path | None:
    """A current .qm for ``lang``: the shipped one, else one compiled into the cache dir."""
    ts = ts_path(lang)
    shipped = ts.with_suffix(".qm")
    if shipped.is_file() and (not ts.is_file() or shipped.stat().st_mtime >= ts.stat().st_mtime):
        return shipped
    if not ts.is_file():
        return None
    cached = _cache_dir() / shipped.name
    if cached.is_file() and cached.stat().st_mtime >= ts.stat().st_mtime:
        return cached
    import subprocess

    try:
        return compile_ts(ts, cached)
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("could not compile %s: %s", ts.name, exc)
        return None


def install_translator(app: QCoreApplication, lang: str | None = None) -> str:
    """Install the translators for ``lang`` (None: the system language); returns the language in use.

    Qt then sends a LanguageChange event to every widget; widgets re-set their texts in
    ``changeEvent``.
    """
    global _current
    lang = lang if lang in LANGUAGES else system_language()
    for tr in _installed:
        app.removeTranslator(tr)
    _installed.clear()
    if lang != SOURCE_LANGUAGE:
        from PySide6.QtCore import QLibraryInfo  # English needs none of Qt's own translations

        qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        qt_tr = QTranslator(app)
        if qt_tr.load(f"qtbase_{lang}", qt_dir):  # standard buttons: Next, Back, Cancel...
            app.installTranslator(qt_tr)
            _installed.append(qt_tr)
        else:
            log.info("Qt's own %s translation not found in %s", lang, qt_dir)
        own = qm_path(lang)
        ours = QTranslator(app)
        if own and ours.load(str(own)):
            app.installTranslator(ours)
            _installed.append(ours)
        else:
            log.warning("no usable translation for %s; showing English", lang)
            lang = SOURCE_LANGUAGE if not _installed else lang
    _current = lang
    return lang


def update_ts(source_dirs: list[Path] | None = None) -> None:
    """Run lupdate over the app's sources to refresh every .ts (keeps existing translations)."""
    root = Path(__file__).resolve().parents[2]
    sources = source_dirs or [root / "app"]
    files = [str(p) for d in sources for p in sorted(d.rglob("*.py"))]
    for lang in LANGUAGES:
        if lang == SOURCE_LANGUAGE:
            continue
        ts = ts_path(lang)
        ts.parent.mkdir(parents=True, exist_ok=True)
        import subprocess

        subprocess.run(
            [_tool("lupdate"), "-locations", "none", "-no-obsolete", *files, "-target-language", lang, "-ts", str(ts)],
            check=True,
            timeout=300,
        )


def _main(argv: list[str]) -> int:
    if argv[:1] == ["build"]:
        for qm in build_all(Path(argv[1]) if len(argv) > 1 else None):
            print(qm)
        return 0
    if argv[:1] == ["update"]:
        update_ts()
        return 0
    print("usage: python -m app.ui.i18n build [OUT_DIR] | update", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))

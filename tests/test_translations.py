"""The Russian translation is complete, in sync with the sources, and compiles (Qt Linguist .ts -> .qm)."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from app.ui import i18n

PLACEHOLDER = re.compile(r"\{[a-z_0-9]*(?::[^}]*)?\}")


def _messages(ts: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(ts).getroot()
    out = {}
    for ctx in root.iter("context"):
        name = ctx.findtext("name")
        for msg in ctx.iter("message"):
            out[(name, msg.findtext("source"))] = msg.find("translation")
    return out


@pytest.fixture(scope="module")
def ru_ts() -> Path:
    path = i18n.ts_path("ru")
    assert path.is_file(), f"missing {path}"
    return path


def test_every_message_is_translated(ru_ts):
    messages = _messages(ru_ts)
    assert len(messages) > 200
    unfinished = [
        src for (_ctx, src), tr in messages.items() if tr is None or tr.get("type") or not (tr.text or "").strip()
    ]
    assert unfinished == []


def test_placeholders_and_mnemonics_survive_translation(ru_ts):
    bad = []
    for (ctx, src), tr in _messages(ru_ts).items():
        text = tr.text or ""
        if sorted(PLACEHOLDER.findall(src)) != sorted(PLACEHOLDER.findall(text)):
            bad.append((ctx, src, text))
        if re.search(r"&\w", src) and not re.search(r"&\w", text):
            bad.append((ctx, src, text))
    assert bad == []


def test_ts_is_in_sync_with_the_sources(ru_ts, tmp_path):
    """Running lupdate over app/ adds and drops nothing: every visible string is in the .ts."""
    copy = tmp_path / ru_ts.name
    shutil.copy(ru_ts, copy)
    before = set(_messages(copy))
    root = Path(i18n.__file__).resolve().parents[2]
    import subprocess

    files = [str(p) for p in sorted((root / "app").rglob("*.py"))]
    subprocess.run(
        [i18n._tool("lupdate"), "-silent", "-locations", "none", "-no-obsolete", *files, "-ts", str(copy)],
        check=True,
        timeout=300,
    )
    after = set(_messages(copy))
    assert sorted(after - before) == [], "strings missing from the .ts: run python -m app.ui.i18n update"
    assert sorted(before - after) == [], "obsolete strings in the .ts: run python -m app.ui.i18n update"


def test_compiled_translation_loads_and_translates(ru_ts, tmp_path, qapp):
    from PySide6.QtCore import QCoreApplication, QTranslator

    qm = i18n.compile_ts(ru_ts, tmp_path / "mailsetup_ru.qm")
    tr = QTranslator()
    assert tr.load(str(qm))
    QCoreApplication.installTranslator(tr)
    try:
        src = "The server name {host} could not be found"
        translated = QCoreApplication.translate("Diagnosis", src)
        assert translated != src and re.search("[а-яА-Я]", translated)
    finally:
        QCoreApplication.removeTranslator(tr)

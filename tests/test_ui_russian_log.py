"""Item 13 of issue 13: in Russian, the log at Normal detail and the diagnosis carry no English sentence.

The engine's log lines are templates translated by the UI and filled with their values after; OpenSSL's
own words become our phrase (or stay a quoted value). Protocol lines and server replies may stay English.
"""

from __future__ import annotations

import re
import socket

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from app.core.diagnosis.table import Code
from tests.fixtures.ui import choose_custom, fill_account, make_wizard, wait_check_done

# three Latin words in a row is an English phrase; values (hosts, addresses, STARTTLS, SSL/TLS) are not
ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[ ,;:()\[\]]+[A-Za-z]{2,}){2,}")
WORDS = re.compile(r"\b(?:with|the|and|after|failed|not|for|from|works|either)\b")  # an English word alone
QUOTED = re.compile(r"«[^»]*»|“[^”]*”")  # server replies and OpenSSL's own words, shown as quoted values


def english_in(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        if line.startswith(("C:", "S:")):
            continue
        line = QUOTED.sub("", line)
        found += ENGLISH.findall(line) + WORDS.findall(line)
    return found


def test_english_detector_finds_an_english_sentence():
    assert "auth] failed after" in english_in("[auth] failed after 12 ms")
    assert english_in("Не удалось (Hostname mismatch, certificate is not valid)") != []
    assert english_in("Подключились к 127.0.0.1 через STARTTLS, SSL/TLS.") == []
    assert english_in("S: 535 authentication credentials invalid") == []
    assert english_in("пробуем 587 with STARTTLS") == ["with"]


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_failed_check_in_russian_logs_no_english_at_normal_detail(qtbot, implicit_tls_server):
    w = make_wizard(qtbot, "ru")
    try:
        choose_custom(w)
        fill_account(w, implicit_tls_server)
        w.account_page.port.setText(str(_closed_port()))  # refused: not definitive, a second opinion runs
        w.account_page._validate()
        w.next()
        result = wait_check_done(qtbot, w, timeout=15000)
        assert not result.ok
        page = w.check_page
        qtbot.waitUntil(lambda: not page.is_running(), timeout=15000)
        log = page.log_view.plain_text()
        assert "второй программой" in log or "вторую программу" in log  # the engine's own lines, translated
        assert english_in(log) == []
        assert english_in(page.diagnosis.title.text() + "\n" + page.diagnosis.explanation.text()) == []
    finally:
        w.set_language("en")


def test_untrusted_certificate_in_russian_names_the_reason_in_russian(qtbot, starttls_server):
    w = make_wizard(qtbot, "ru")
    try:
        choose_custom(w)
        fill_account(w, starttls_server)
        w.account_page.ca_file.clear()
        w.account_page._validate()
        w.next()
        result = wait_check_done(qtbot, w)
        assert result.diagnosis.code is Code.CERT_UNTRUSTED
        explanation = w.check_page.diagnosis.explanation.text()
        assert "центр сертификации" in explanation and "issuer" not in explanation.lower()
        assert english_in(w.check_page.log_view.plain_text()) == []
        # the CLI keeps English, with the same phrase
        assert "the issuing authority is unknown" in result.diagnosis.explanation
    finally:
        w.set_language("en")

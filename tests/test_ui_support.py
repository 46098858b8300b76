"""Helpers for the GUI tests: the shared real aiosmtpd servers (STARTTLS+AUTH, implicit TLS) and wizard drivers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

USER = "ui-user@example.test"
PASSWORD = "Ui-s3cret-pw"


@dataclass
class LocalSmtp:
    """What the UI tests need of a shared fixture server (tests/fixtures/smtp_servers.py)."""

    info: Any
    implicit_tls: bool

    @property
    def host(self) -> str:
        return self.info.host

    @property
    def port(self) -> int:
        return self.info.port

    @property
    def cafile(self) -> str:
        return self.info.ca_file

    @property
    def messages(self) -> list[dict[str, Any]]:
        return [
            {"mail_from": m.mail_from, "rcpt_tos": list(m.rcpt_tos), "message": m.message} for m in self.info.messages
        ]


@pytest.fixture
def starttls_server(smtp_server):
    """The shared STARTTLS + AUTH aiosmtpd server with the UI tests' login."""
    return LocalSmtp(smtp_server("starttls", username=USER, password=PASSWORD, auth_required=True), False)


@pytest.fixture
def implicit_tls_server(smtp_server):
    """The shared implicit-TLS server: a plaintext/STARTTLS client hears nothing from it."""
    return LocalSmtp(smtp_server("ssl", username=USER, password=PASSWORD), True)


# -- wizard drivers ---------------------------------------------------------------------------
FAST = dict(connect=2.0, greeting=0.8, command=2.0, total=6.0)


def make_wizard(qtbot: Any, lang: str = "en", *, register: bool = True) -> Any:
    from PySide6.QtWidgets import QApplication

    from app.ui import i18n
    from app.ui.wizard.wizard import SetupWizard

    i18n.install_translator(QApplication.instance(), lang)
    wizard = SetupWizard(lang=lang)
    if register:
        qtbot.addWidget(wizard)
    wizard.show()
    qtbot.waitExposed(wizard)
    return wizard


def choose_custom(wizard: Any, email: str = USER) -> None:
    from app.ui.wizard.ids import PageId

    page = wizard.provider_page
    page.email.setText(email)
    custom = next(p for p in page.providers() if p.kind.value == "custom")
    assert page.select_provider(custom.id)
    wizard.next()
    assert wizard.currentId() == PageId.ACCOUNT


def fill_account(wizard: Any, server: LocalSmtp, *, password: str = PASSWORD, security: str | None = None) -> None:
    from app.core.model.settings import Timeouts

    acc = wizard.account_page
    acc.host.setText(server.host)
    acc.port.setText(str(server.port))
    sec = security or ("ssl" if server.implicit_tls else "starttls")
    acc.security.setCurrentIndex(acc.security.findData(sec))
    acc.username.setText(USER)
    acc.password.setText(password)
    acc.ca_file.setText(server.cafile)
    acc._timeouts = Timeouts(**FAST)
    acc.timeout_connect.setValue(FAST["connect"])
    acc.timeout_total.setValue(FAST["total"])
    acc._validate()


def wait_check_done(qtbot: Any, wizard: Any, timeout: int = 10000) -> Any:
    page = wizard.check_page
    qtbot.waitUntil(lambda: page.runs > 0 and not page.is_running() and page.last_result is not None, timeout=timeout)
    return page.last_result


def pass_check(qtbot: Any, wizard: Any, server: LocalSmtp) -> None:
    """Custom server -> Account filled for ``server`` -> a check that must pass -> on to the Send page."""
    from PySide6.QtWidgets import QWizard

    choose_custom(wizard)
    fill_account(wizard, server)
    wizard.next()
    assert wait_check_done(qtbot, wizard).ok
    qtbot.waitUntil(lambda: wizard.button(QWizard.WizardButton.NextButton).isEnabled())
    wizard.next()

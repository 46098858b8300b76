"""The Send page's sender-domain audit panel (app/ui/widgets/audit_panel.py) against the local DNS server."""

from __future__ import annotations

import socket
from types import SimpleNamespace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from app.core.model import Security, SmtpSettings
from app.ui.bridge import EngineBridge
from app.ui.widgets.audit_panel import AuditPanel
from app.ui.wizard.model import WizardModel
from tests.fixtures.ui import PASSWORD, USER, make_wizard, pass_check
from tests.test_audit import good_zone

pytestmark = pytest.mark.gui

UI_DOMAIN = USER.rpartition("@")[2]  # example.test


@pytest.fixture
def panel(qtbot):
    bridge = EngineBridge()
    model = WizardModel()
    model.email = "news@example.org"
    model.settings = SmtpSettings(
        host="smtp.other.test", port=587, security=Security.STARTTLS, username="me@example.org"
    )
    p = AuditPanel(model, bridge)
    qtbot.addWidget(p)
    yield p
    bridge.shutdown()


def wait_done(qtbot, panel):
    qtbot.waitUntil(lambda: panel.report is not None and not panel.is_running(), timeout=8000)
    return panel.report


def test_send_page_audit_by_button_copy_record_and_report(qtbot, starttls_server, dns_server, tmp_path):
    zone = {UI_DOMAIN: {"A": ["192.0.2.1"]}}
    dns_server.zone = zone
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)
    send = w.send_page
    audit = send.audit
    audit.nameservers = [dns_server.address]
    qtbot.mouseClick(send.send_test, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: send.last_result is not None, timeout=10000)
    assert send.last_result.ok
    # a server on this machine: the audit does not start by itself (it would ask the public DNS)
    assert audit.report is None and not audit.is_running() and dns_server.queries == []
    qtbot.mouseClick(audit.run_button, Qt.MouseButton.LeftButton)
    report = wait_done(qtbot, audit)
    assert report.domain == UI_DOMAIN
    assert audit.summary.text() == f"{UI_DOMAIN}: 0 fine, 1 to improve, 2 failed, 4 notes."
    spf = audit.row("spf")
    assert spf.title.text() == f"No SPF record for {UI_DOMAIN}"
    assert spf.record.text() == f'{UI_DOMAIN}. IN TXT "v=spf1 mx ~all"'
    assert audit.row("mx") is not None and audit.row("mx").record is not None
    qtbot.waitUntil(spf.copy.isVisible)  # as a user sees it: the new rows are shown on the next event-loop turn
    # the user scrolls down to the finding (once the layout has placed the new rows)
    qtbot.waitUntil(lambda: send.scroll.ensureWidgetVisible(spf.copy) or not spf.copy.visibleRegion().isEmpty())
    qtbot.mouseClick(spf.copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == f'{UI_DOMAIN}. IN TXT "v=spf1 mx ~all"'
    assert spf.copy.text() == "Copied"
    # the SMTP server is 127.0.0.1: its address is taken as it is, never looked up
    assert ("127.0.0.1", "A") not in dns_server.queries
    # the audit goes into the Send page's report
    assert w.model.audit_result is report
    target = tmp_path / "sent.html"
    assert send.report.save_to(str(target))
    page = target.read_text("utf-8")
    assert f"Sender domain audit: {UI_DOMAIN}" in page and "v=spf1 mx ~all" in page
    assert PASSWORD not in page


def test_runs_after_a_send_through_a_real_server(qtbot, panel, dns_server):
    zone = good_zone()
    zone["smtp.other.test"] = {"A": ["198.51.100.99"]}
    dns_server.zone = zone
    panel.nameservers = [dns_server.address]
    panel.after_send(SimpleNamespace(ok=False))
    assert panel.report is None and not panel.is_running()
    panel.after_send(SimpleNamespace(ok=True))
    assert panel.is_running()
    report = wait_done(qtbot, panel)
    statuses = {f.check: f.status.value for f in report.findings}
    assert statuses["spf_authorised"] == "fail" and statuses["from_login"] == "info"
    row = panel.row("spf_authorised")
    assert row.title.text() == "SPF does not list smtp.other.test for example.org"
    assert row.record.text() == 'example.org. IN TXT "v=spf1 include:_spf.prov.test a:smtp.other.test -all"'
    assert panel.run_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_sandbox_and_local_servers_do_not_start_it(qtbot, panel):
    panel.after_send(SimpleNamespace(ok=True), sandbox=True)
    panel._model.settings = SmtpSettings(host="127.0.0.1", port=25, security=Security.NONE)
    panel.after_send(SimpleNamespace(ok=True))
    assert panel.report is None and not panel.is_running()


def test_round_trip_selector_runs_it_again(qtbot, panel, dns_server):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    panel.start()
    first = wait_done(qtbot, panel)
    assert next(f for f in first.findings if f.check == "dkim").status.value == "info"
    panel.delivery_finished(SimpleNamespace(authentication_results=SimpleNamespace(dkim_selector="sel1")))
    qtbot.waitUntil(lambda: panel.report is not first and not panel.is_running(), timeout=8000)
    assert panel.row("dkim").title.text() == "DKIM key published (selector sel1)"
    assert panel._model.audit_result is panel.report


def test_a_selector_found_while_the_audit_runs_is_tried_when_it_ends(qtbot, panel, dns_server):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    panel.start()
    assert panel.is_running()
    panel.delivery_finished(SimpleNamespace(authentication_results=SimpleNamespace(dkim_selector="sel1")))
    qtbot.waitUntil(lambda: panel.row("dkim") is not None and "sel1" in panel.row("dkim").title.text(), timeout=8000)
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=8000)
    assert panel.row("dkim").title.text() == "DKIM key published (selector sel1)"
    assert panel.selectors == ["sel1"]


def test_a_cancel_drops_the_run_queued_behind_it(qtbot, panel, dns_server):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    panel.start()
    panel.delivery_finished(SimpleNamespace(authentication_results=SimpleNamespace(dkim_selector="sel1")))
    panel.cancel()
    qtbot.waitUntil(lambda: not panel.is_running(), timeout=8000)
    assert panel.report is None or "sel1" not in panel.row("dkim").title.text()
    assert panel.run_button.isEnabled() and not panel.is_running()


def test_no_selector_tells_a_gui_user_about_the_field_not_a_flag(qtbot, panel, dns_server):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    panel.start()
    wait_done(qtbot, panel)
    text = panel.row("dkim").explanation.text()
    assert "DKIM selector field" in text and "--dkim-selector" not in text


def test_a_typed_selector_is_checked(qtbot, panel, dns_server):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    qtbot.keyClicks(panel.selector, "sel1")
    qtbot.keyClick(panel.selector, Qt.Key.Key_Return)
    wait_done(qtbot, panel)
    assert panel.row("dkim").title.text() == "DKIM key published (selector sel1)"


@pytest.mark.parametrize("typed", ["sel 1", "sel1;x", "a" * 300, "sel1\nx", "=?utf-8?q?sel1?=", "-sel"])
def test_a_hostile_selector_is_refused_with_the_reason_and_kept(qtbot, panel, dns_server, typed):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    panel.selector.setText(typed)
    kept = panel.selector.text()  # what the field holds (at most 255 characters)
    assert kept == typed[:255]
    panel.run_by_user()
    assert not panel.is_running() and panel.report is None
    assert panel.selector.text() == kept
    assert panel.summary.text().startswith(f"“{kept[:80]}” is not a DKIM selector")
    assert dns_server.queries == []


def test_an_automatic_run_leaves_out_a_bad_typed_selector_and_keeps_the_focus(qtbot, panel, dns_server):
    dns_server.zone = good_zone()
    panel.nameservers = [dns_server.address]
    panel.selector.setText("sel 1")
    panel.start()  # as after a send: not the user's request
    report = wait_done(qtbot, panel)
    assert report.findings and panel.selector.text() == "sel 1"
    assert not panel.selector.hasFocus()
    assert not [n for n, _t in dns_server.queries if n.startswith("sel 1")]


def test_return_in_the_selector_field_runs_the_audit_and_stays_on_the_page(qtbot, starttls_server, dns_server):
    w = make_wizard(qtbot)
    pass_check(qtbot, w, starttls_server)  # on the Send page
    send = w.send_page
    assert w.currentPage() is send
    audit = send.audit
    audit.nameservers = [dns_server.address]
    dns_server.zone = good_zone()
    qtbot.waitUntil(lambda: w.button(w.WizardButton.NextButton).isEnabled())
    page_before = w.currentId()
    audit.selector.setFocus()
    qtbot.keyClicks(audit.selector, "sel1")
    qtbot.keyClick(audit.selector, Qt.Key.Key_Return)
    assert w.currentId() == page_before  # Return did not also press Next
    qtbot.waitUntil(lambda: audit.report is not None and not audit.is_running(), timeout=8000)
    assert w.currentId() == page_before


def test_a_new_report_replaces_every_row_at_once(qtbot, panel):
    from app.core.audit.model import AuditReport, Finding, Status
    from app.core.model import Text

    def report(title: str) -> AuditReport:
        return AuditReport(
            "example.org", (Finding("dkim", Status.INFO, Text.of("Audit", title), Text.of("Audit", "why")),)
        )

    panel.show_report(report("first"))
    panel.show_report(report("second"))  # no event loop turn between: the old rows are not deleted yet
    assert panel.row("dkim").title.text() == "second"
    assert len(panel.rows_box.findChildren(type(panel.row("dkim")))) == 1


def test_silent_dns_ends_with_a_clear_finding(qtbot, panel):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        panel.nameservers = [silent.getsockname()]
        panel.timeout = 1.0
        panel.start()
        report = wait_done(qtbot, panel)
    assert report.timed_out
    assert panel.row("dns").title.text() == "The audit ran out of time (1 s)"


def test_no_from_domain_says_so(qtbot, panel):
    panel._model.email = ""
    panel.start()
    assert not panel.is_running()
    assert panel.summary.text() == "Enter the From address on the Account page: its domain is what is checked."


def test_russian_texts(qtbot, dns_server):
    dns_server.zone = {UI_DOMAIN: {"A": ["192.0.2.1"]}}
    w = make_wizard(qtbot, "ru")
    w.build_all_pages()
    audit = w.send_page.audit
    assert audit.title() == "Проверка домена отправителя (DNS)"
    w.model.email = USER
    audit.nameservers = [dns_server.address]
    audit.start()
    wait_done(qtbot, audit)
    assert audit.row("spf").title.text() == f"Нет записи SPF для {UI_DOMAIN}"
    assert audit.row("spf").copy.text() == "Копировать запись"
    assert audit.summary.text().startswith(f"{UI_DOMAIN}: 0 в порядке")

"""The sender-domain audit on the Send page: MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT and DNSSEC of the From
domain (app.core.audit), shown as findings with a status mark, a plain explanation and the DNS record to
publish with a Copy button.

It runs through the one engine bridge (off the GUI thread, bounded by the audit's own deadline) after a
successful test send, or when the user asks; it reads From, the server and the login from the WizardModel
and leaves its result there (``set_audit_result``, for "Save report…"). A DKIM selector found by the
delivery round trip (``delivery_finished``) is tried too: the audit runs again with it.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.ui import icons

log = logging.getLogger(__name__)

_MARKS = {
    "ok": icons.Status.OK,
    "fail": icons.Status.FAILED,
    "warn": icons.Status.CANCELLED,  # orange: worth fixing
    "info": icons.Status.SKIPPED,  # grey: for information
}
MAX_ROWS = 40


def translate_audit(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


class FindingRow(QFrame):
    """One finding: mark, title, explanation and (when there is one) the record with a Copy button."""

    def __init__(self, finding: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.finding = finding
        self.setObjectName(f"audit_{finding.check}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.mark = QLabel(objectName="mark")
        self.mark.setPixmap(icons.status_icon(_MARKS.get(finding.status.value, icons.Status.SKIPPED)).pixmap(16, 16))
        self.title = QLabel(objectName="title")
        self.explanation = QLabel(objectName="explanation")
        for label in (self.title, self.explanation):
            label.setTextFormat(Qt.TextFormat.PlainText)  # DNS text is untrusted
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        head = QHBoxLayout()
        head.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 4, 6, 4)
        lay.addLayout(head)
        lay.addWidget(self.explanation)
        self.record: QLineEdit | None = None
        self.copy: QPushButton | None = None
        if finding.record_to_publish:
            self.record = QLineEdit(finding.record_to_publish, objectName=f"record_{finding.check}")
            self.record.setReadOnly(True)
            self.record.setCursorPosition(0)
            self.copy = QPushButton(objectName=f"copy_{finding.check}")
            self.copy.clicked.connect(self.copy_record)
            row = QHBoxLayout()
            row.addWidget(self.record, 1)
            row.addWidget(self.copy)
            lay.addLayout(row)
        self.retranslate_ui()

    def copy_record(self) -> None:
        """Put the record on the clipboard (an explicit action; a DNS record holds no secret)."""
        QGuiApplication.clipboard().setText(self.finding.record_to_publish)
        if self.copy is not None:
            self.copy.setText(self.tr("Copied"))

    def retranslate_ui(self) -> None:
        self.title.setText(self.finding.title.render(translate_audit))
        self.explanation.setText(self.finding.explanation.render(translate_audit))
        if self.record is not None and self.copy is not None:
            self.record.setAccessibleName(self.tr("DNS record to publish"))
            self.copy.setText(self.tr("Copy record"))
            self.copy.setToolTip(self.tr("Copy this DNS record to the clipboard"))


class SelectorEdit(QLineEdit):
    """The DKIM selector field: Return runs the audit (``submitted``) and goes no further, so it never
    also presses the wizard's default button (Next)."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.submitted.emit()
            return
        super().keyPressEvent(event)


class AuditPanel(QGroupBox):
    """The audit of the From domain; ``finished(AuditReport)`` when a run ends with a report."""

    finished = Signal(object)

    def __init__(self, model: Any, bridge: Any, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("audit_panel")
        self._model = model
        self._bridge = bridge
        self._job: Any = None
        self._again = False  # a DKIM selector arrived while a run was going
        self._status: tuple[str, dict[str, Any]] = ("idle", {})
        self.report: Any = None
        self.nameservers: list[tuple[str, int]] | None = None  # None: the system's resolvers (tests: a local one)
        self.timeout = 10.0
        self.selectors: list[str] = []  # found by the delivery round trip
        self.summary = QLabel(objectName="audit_summary")
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.run_button = QPushButton(objectName="audit_run")
        self.run_button.clicked.connect(self.run_by_user)
        self.cancel_button = QPushButton(objectName="audit_cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.rows_box = QWidget(objectName="audit_rows")
        self.rows = QVBoxLayout(self.rows_box)
        self.rows.setContentsMargins(0, 0, 0, 0)
        # a DKIM key is found only under its selector: the user may know it (the provider's DNS page)
        self.selector_label = QLabel()
        self.selector = SelectorEdit(objectName="audit_dkim_selector")
        self.selector.setMaxLength(255)
        self.selector_label.setBuddy(self.selector)
        self.selector.submitted.connect(self.run_by_user)
        selector_row = QHBoxLayout()
        selector_row.addWidget(self.selector_label)
        selector_row.addWidget(self.selector, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        lay = QVBoxLayout(self)
        lay.addWidget(self.summary)
        lay.addLayout(selector_row)
        lay.addLayout(buttons)
        lay.addWidget(self.rows_box)
        self.retranslate_ui()

    # -- running ----------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None and self._job.running

    def request(self) -> Any:
        """The AuditRequest from the WizardModel; None when there is no usable From domain."""
        from app.core.audit import AuditRequest, normalize_domain

        m = self._model
        settings = m.settings
        try:
            domain = normalize_domain(m.email or "")
        except ValueError:
            return None
        return AuditRequest(
            domain=domain,
            smtp_host=getattr(settings, "host", "") or "",
            from_address=m.email or "",
            login=getattr(settings, "username", "") or "",
            provider_id=getattr(m.provider, "id", "") or "",
            dkim_selectors=(*self.selectors, *self.typed_selector()),
            timeout=self.timeout,
            front_end="gui",
        )

    def typed_selector(self) -> tuple[str, ...]:
        """The selector typed in the field (none when empty or not a valid selector)."""
        text = self.selector.text().strip()
        return (text,) if text and self._valid_selector(text) else ()

    def run_by_user(self) -> None:
        """The user asked (button, or Return in the selector field): a bad selector is refused, with why."""
        text = self.selector.text().strip()
        if text and not self._valid_selector(text):  # what is typed is kept, and the reason shown
            self._set_status("bad_selector", selector=text[:80])
            self.selector.setFocus()
            return
        self.start()

    @staticmethod
    def _valid_selector(text: str) -> bool:
        from app.core.audit import valid_selector

        return valid_selector(text)

    def start(self) -> None:
        """Run the audit now (a running one is left to finish). Runs started by the app (after a send, a
        selector found by the round trip) leave out a selector typed wrong instead of refusing to run."""
        if self.is_running():
            return
        req = self.request()
        if req is None:
            self._set_status("no_domain")
            return
        from app.core.audit import run_audit

        nameservers = self.nameservers

        async def run(_on_event: Any) -> Any:
            return await run_audit(req, nameservers=nameservers)

        self._set_status("running", domain=req.domain)
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        job = self._bridge.submit(run, name="audit")
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(lambda: self._set_status("cancelled"))
        job.done.connect(self._ended)
        self._job = job

    def cancel(self) -> None:
        self._again = False  # a cancel stops the audit, a run queued behind it too
        if self.is_running():
            self._job.cancel()

    def after_send(self, result: Any, *, sandbox: bool = False) -> None:
        """A test send ended: audit the From domain when it went out through a real server."""
        from app.core.audit import audits_after_send

        host = getattr(self._model.settings, "host", "") or ""
        if getattr(result, "ok", False) and audits_after_send(host, sandbox=sandbox):
            self.start()

    def delivery_finished(self, delivery: Any) -> None:
        """The round trip found the message: try the DKIM selector it was signed with (audit again)."""
        auth = getattr(delivery, "authentication_results", None)
        selector = getattr(auth, "dkim_selector", None)
        if selector and selector not in self.selectors:
            self.selectors.append(selector)
            if self.is_running():
                self._again = True  # the running audit was asked without it: run again when it ends
            else:
                self.start()

    def _finished(self, report: Any) -> None:
        self.show_report(report)
        self._model.set_audit_result(report)
        self.finished.emit(report)

    def _failed(self, exc: Any) -> None:
        log.error("audit crashed", exc_info=exc)
        self._set_status("error", error=str(exc)[:300])

    def _ended(self) -> None:
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self._again:
            self._again = False
            self.start()

    # -- showing ----------------------------------------------------------------------------
    def show_report(self, report: Any) -> None:
        self.report = report
        while self.rows.count():
            item = self.rows.takeAt(0)
            old = item.widget()
            if old is not None:
                old.setParent(None)  # out of rows_box now: row() must never find the previous report's row
                old.deleteLater()
        for finding in report.findings[:MAX_ROWS]:
            self.rows.addWidget(FindingRow(finding, self.rows_box))
        self._set_status("done", domain=report.domain, **report.counts())

    def row(self, check: str) -> FindingRow | None:
        return self.rows_box.findChild(FindingRow, f"audit_{check}")

    def _set_status(self, status: str, **params: Any) -> None:
        self._status = (status, params)
        self.summary.setText(self._status_text())

    def _status_text(self) -> str:
        status, p = self._status
        if status == "running":
            return self.tr("Checking the DNS records of {domain}…").format(**p)
        if status == "done":
            return self.tr("{domain}: {ok} fine, {warn} to improve, {fail} failed, {info} notes.").format(**p)
        if status == "no_domain":
            return self.tr("Enter the From address on the Account page: its domain is what is checked.")
        if status == "cancelled":
            return self.tr("The audit was cancelled.")
        if status == "error":
            return self.tr("The audit stopped with an internal error: {error}").format(**p)
        if status == "bad_selector":
            return self.tr(
                "“{selector}” is not a DKIM selector: use letters, digits, hyphens and underscores, "
                "with dots between parts (for example: mail or s1._mx)."
            ).format(**p)
        return self.tr(
            "The DNS records of your From domain (SPF, DKIM, DMARC…) decide whether receivers trust your mail. "
            "They are checked here after a test message goes out through your provider, or when you ask."
        )

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Sender domain check (DNS)"))
        self.run_button.setText(self.tr("Check the domain"))
        self.cancel_button.setText(self.tr("Stop the check"))
        self.selector_label.setText(self.tr("DKIM selector (optional):"))
        self.selector.setPlaceholderText(self.tr("As your provider's DNS instructions name it, e.g. mail"))
        self.selector.setAccessibleName(self.tr("DKIM selector"))
        self.summary.setText(self._status_text())
        for i in range(self.rows.count()):
            w = self.rows.itemAt(i).widget()
            if isinstance(w, FindingRow):
                w.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)


__all__ = ["AuditPanel", "FindingRow", "SelectorEdit"]

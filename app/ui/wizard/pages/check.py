"""Step 4: the staged connection check, live, off the GUI thread; failures explained with one-click fixes."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.core.diagnosis import Code
from app.core.model import Security
from app.ui.desktop import open_url
from app.ui.icons import Status
from app.ui.widgets.certificate_box import CertificateBox
from app.ui.widgets.diagnosis_panel import DiagnosisPanel, render_diagnosis
from app.ui.widgets.flow_layout import FlowRow
from app.ui.widgets.form_rows import scrolled
from app.ui.widgets.incoming_box import IncomingCheckBox
from app.ui.widgets.log_view import LogView
from app.ui.widgets.report_button import ReportButton
from app.ui.widgets.stage_list import StageList, check_stages
from app.ui.wizard.ids import PageId
from app.ui.wizard.pages.base import LazyPage

log = logging.getLogger(__name__)


CERT_CODES = {Code.CERT_UNTRUSTED, Code.CERT_HOSTNAME_MISMATCH, Code.CERT_EXPIRED}


class CheckPage(LazyPage):
    def __init__(self, wizard: Any):
        super().__init__(wizard, "page_check")

    def build(self) -> None:
        self._job = None
        self._detect_job = None
        self._tls: Any = None
        self.last_result: Any = None
        self.runs = 0

        self.stage_list = StageList(check_stages())
        self.status = QLabel(objectName="check_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # may quote server text
        self.status.setWordWrap(True)
        self.start_check = QPushButton(objectName="start_check")
        self.cancel_check = QPushButton(objectName="cancel_check")
        self.retry_check = QPushButton(objectName="retry_check")
        self.start_check.clicked.connect(self.run)
        self.retry_check.clicked.connect(self.run)
        self.cancel_check.clicked.connect(self.cancel)
        self.cancel_check.setEnabled(False)
        self.retry_check.hide()
        self.diagnosis = DiagnosisPanel()
        self.diagnosis.action_triggered.connect(self.do_action)
        self.certificate = CertificateBox()
        self.certificate.trust.clicked.connect(self.trust_certificate)
        self.log_view = LogView()

        buttons = FlowRow()  # wraps at 800 px in Russian instead of widening the window
        buttons.addWidget(self.start_check)
        buttons.addWidget(self.retry_check)
        buttons.addWidget(self.cancel_check)
        self.report = ReportButton(self._wizard.model, "check")
        buttons.addWidget(self.report)
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addWidget(self.stage_list)
        top_lay.addLayout(buttons)
        top_lay.addWidget(self.status)
        top_lay.addWidget(self.diagnosis)
        top_lay.addWidget(self.certificate)
        self.incoming = IncomingCheckBox(self._wizard.bridge)  # IMAP/POP3 beside SMTP, in parallel
        self.incoming.finished.connect(self._wizard.model.set_incoming_result)  # for "Save report…"
        top_lay.addWidget(self.incoming)
        top_lay.addStretch(1)
        scroll = self.scroll = scrolled(top)
        splitter = QSplitter(Qt.Orientation.Vertical, objectName="check_splitter")
        splitter.addWidget(scroll)
        splitter.addWidget(self.log_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(splitter)
        self.stage_list.fit_height()
        splitter.setSizes([420, 160])
        self.retranslate_ui()

    # -- running --------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None and self._job.running

    def on_enter(self) -> None:
        if self._wizard.model.check_passed():
            return
        self.run()

    def cleanupPage(self) -> None:
        self.cancel()

    def run(self) -> None:
        """Start (or restart) the check with the Account page's settings."""
        from app.core.model import LogLevel

        if self.is_running():
            # a restart (Retry, or an action clicked while the second opinion still runs): the old
            # run must not touch the page any more
            old = self._job
            for signal in (old.event, old.finished, old.failed, old.cancelled):
                signal.disconnect()
            old.cancel()
        model = self._wizard.model
        settings = model.settings
        if settings is None:
            return
        password_text = model.password
        password = password_text or None
        provider = model.provider
        model.clear_check()
        self.completeChanged.emit()
        self.runs += 1
        self.last_result = None
        self._tls = None
        self.stage_list.reset()
        self.stage_list.show_for(settings.security)
        self.diagnosis.show_diagnosis(None)
        self.certificate.show_details(None)
        self.log_view.clear()
        self.log_view.add_line(
            LogLevel.INFO,
            self.tr("Checking {host}:{port} ({security})…").format(
                host=settings.host, port=settings.port, security=settings.security.value.upper()
            ),
        )
        self.set_dynamic(self.status, lambda: self.tr("Checking…"))
        for b in (self.start_check, self.retry_check):
            b.setEnabled(False)
        self.cancel_check.setEnabled(True)

        async def check(on_event: Any) -> Any:
            from app.core.detect import run_pipeline

            # the one bounded pipeline: its verdict (with the 465 <-> 587 switch when that works) is shown as is
            return await run_pipeline(settings, password, on_event=on_event, provider=provider)

        job = self._wizard.bridge.submit(check, name="check")
        self.incoming.start(provider, settings, password)
        job.event.connect(model.record_check().record)  # for "Save report…"
        job.event.connect(self._event)
        job.finished.connect(lambda result, s=settings, pw=password_text: self._finished(result, s, pw))
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.done.connect(self._ended)
        self._job = job

    def cancel(self) -> None:
        """Stop the running check or automatic search (any moment; the engine closes the socket)."""
        detecting = self._detect_job is not None and self._detect_job.running
        if self.is_running() or detecting:
            self.set_dynamic(self.status, lambda: self.tr("Cancelling…"))
        if self.is_running():
            self._job.cancel()
        self.incoming.cancel()
        if detecting:
            self._detect_job.cancel()

    def _event(self, ev: Any) -> None:
        from app.core.model import StageFailed, TlsEstablished

        self.stage_list.handle(ev)
        self.log_view.add_event(ev)
        if isinstance(ev, TlsEstablished):
            self._tls = ev.details
        elif isinstance(ev, StageFailed):
            # show the diagnosis at once; a second opinion may still follow and refine it
            self.diagnosis.show_diagnosis(ev.diagnosis)

    def _finished(self, result: Any, settings: Any, password: str) -> None:
        from app.core.model import LogLevel

        self.last_result = result
        self._wizard.model.set_last_verdict(result)
        if result.ok:
            self._wizard.model.set_check_result(result, settings, password)

            def ok_text() -> str:
                if result.auth_verified:
                    text = self.tr("Connected and logged in, in {ms} ms. Press Next to send a test message.")
                else:
                    text = self.tr("Connected in {ms} ms (no login was tested: no password given).")
                return text.format(ms=f"{result.elapsed_ms:.0f}")

            self.set_dynamic(self.status, ok_text)
            self.status.setAccessibleName(self.status.text())
            self.log_view.add_line(LogLevel.INFO, self.status.text())
            self.stage_list.mark_running_as(Status.OK)
        else:
            diag = result.diagnosis
            self.stage_list.mark_running_as(Status.FAILED)
            self.set_dynamic(self.status, lambda: self.tr("The check failed."))
            self.diagnosis.show_diagnosis(diag)
            if diag is not None:  # the stage line names the problem; this says why
                self.log_view.add_line(LogLevel.INFO, render_diagnosis(diag)[1])
            tls = getattr(result, "tls", None) or self._tls
            QTimer.singleShot(0, self.reveal_fixes)  # once the layout has the diagnosis' size
            if diag is not None and diag.code in CERT_CODES and tls is not None:
                # trusting an expired certificate is no fix for expiry: details only, no Trust button
                self.certificate.show_details(tls, trustable=diag.code is not Code.CERT_EXPIRED)
        self.completeChanged.emit()

    def reveal_fixes(self) -> None:
        """Scroll so that the diagnosis' fix buttons are in view (small windows, large fonts)."""
        target = self.diagnosis.buttons[0] if self.diagnosis.buttons else self.diagnosis
        self.scroll.ensureWidgetVisible(target)

    def _failed(self, exc: Any) -> None:
        log.error("check crashed", exc_info=exc)
        self.stage_list.mark_running_as(Status.FAILED)
        self.set_dynamic(
            self.status, lambda: self.tr("The check stopped with an internal error: {error}").format(error=str(exc))
        )

    def _cancelled(self) -> None:
        self.stage_list.mark_running_as(Status.CANCELLED)
        self.set_dynamic(self.status, lambda: self.tr("Check cancelled. Press Retry to run it again."))

    def _ended(self) -> None:
        if self.is_running():  # a newer run already started
            return
        self.cancel_check.setEnabled(False)
        self.start_check.setEnabled(True)
        self.retry_check.setEnabled(True)
        ok = self._wizard.model.check_result is not None
        self.start_check.setVisible(ok or self.runs == 0)
        self.retry_check.setVisible(not ok)
        if not ok:
            self.retry_check.setDefault(True)
        self.completeChanged.emit()

    # -- remedies --------------------------------------------------------------------------
    def do_action(self, action: Any) -> None:
        kind = action.kind
        params = dict(action.params)
        model = self._wizard.model
        if kind == "switch_settings":
            self.switch_to(int(params["port"]), str(params["security"]), params.get("host"))
            self.run()
        elif kind == "open_url":
            open_url(str(params.get("url", "")))
        elif kind == "trust_certificate":
            self.trust_certificate(params.get("sha256"))
        elif kind == "choose_cafile":
            self.choose_cafile()
        elif kind == "allow_plain":
            model.update_settings(allow_plain_auth=True)
            self.run()
        elif kind == "autodetect":
            self.autodetect()
        elif kind == "oauth_sign_in":  # the sign-in expired or was refused: sign in again, then check again
            model.request_oauth_sign_in()
        else:  # "retry" and anything unknown
            self.run()

    def choose_cafile(self) -> None:
        """Pick the company CA's certificate file, put it in the settings and check again."""
        from dataclasses import replace

        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a CA certificate"), "", self.tr("Certificates (*.pem *.crt *.cer);;All files (*)")
        )
        settings = self._wizard.model.settings
        if not path or settings is None:
            return
        self._wizard.model.update_settings(tls=replace(settings.tls, cafile=path))
        self.run()

    def switch_to(self, port: int, security: str, host: str | None = None) -> None:
        """What the "switch" remedy does: new port/security (and host) in the model, everything else kept."""
        changes: dict[str, Any] = {"port": port, "security": Security(security)}
        if host:
            changes["host"] = host
        self._wizard.model.update_settings(**changes)

    def trust_certificate(self, sha256: Any = None) -> None:
        """Pin the certificate the user is looking at (never without the certificate shown)."""
        from app.core.model import LogLevel

        details = self.certificate.details or self._tls
        fp = (details.sha256 if details is not None else None) or (sha256 if isinstance(sha256, str) else None)
        if not fp:
            return
        if details is not None and not self.certificate.isVisible():
            self.certificate.show_details(details)  # show first; the user clicks Trust in the box
            return
        self._wizard.model.trust(fp)
        self.log_view.add_line(LogLevel.INFO, self.tr("Trusting the certificate with SHA-256 {fp}.").format(fp=fp))
        self.run()

    def autodetect(self) -> None:
        """Re-test the typed host across the user's port and the usual ones, in every mode (as asked)."""
        model = self._wizard.model
        email = model.email
        settings = model.settings
        self.set_dynamic(self.status, lambda: self.tr("Looking for working settings…"))
        opts = model.retest_options(self._wizard.catalogue)
        password = model.password or None
        username = settings.username if settings is not None else None
        self.tried: list[tuple[str, int, str]] = []

        async def run(on_event: Any) -> Any:
            from app.core.detect import detect

            return await detect(email, password=password, username=username or None, on_event=on_event, **opts)

        job = self._wizard.bridge.submit(run, name="detect")
        job.event.connect(self._detect_event)
        job.finished.connect(self._detected)
        job.failed.connect(self._failed)
        job.cancelled.connect(self._cancelled)
        job.done.connect(self._detect_ended)
        self._detect_job = job
        for b in (self.start_check, self.retry_check):
            b.setEnabled(False)
        self.cancel_check.setEnabled(True)

    def _detect_event(self, ev: Any) -> None:
        from app.core.model import ProbeStarted

        self.log_view.add_event(ev)
        if isinstance(ev, ProbeStarted) and (ev.host, ev.port, ev.security) not in self.tried:
            self.tried.append((ev.host, ev.port, ev.security))

    def tried_text(self) -> str:
        """What the re-test tried: host:port (mode), in order."""
        return ", ".join(f"{h}:{p} ({sec.upper()})" for h, p, sec in self.tried) or "—"

    def _detect_ended(self) -> None:
        if not self.is_running():
            self.cancel_check.setEnabled(False)
            self.start_check.setEnabled(True)
            self.retry_check.setEnabled(True)

    def _detected(self, result: Any) -> None:
        from app.core.model import LogLevel

        if getattr(result, "ok", False) and result.settings is not None:
            s = result.settings
            self.log_view.add_line(
                LogLevel.INFO,
                self.tr("Tried {tried}; {host}:{port} works.").format(
                    tried=self.tried_text(), host=s.host, port=s.port
                ),
            )
            self.switch_to(s.port, s.security.value, s.host)
            self.run()
        else:
            self.set_dynamic(
                self.status,
                lambda: self.tr("No working settings were found automatically. Tried: {tried}.").format(
                    tried=self.tried_text()
                ),
            )

    # -- wizard protocol ------------------------------------------------------------------
    def isComplete(self) -> bool:
        if not self.built:
            return False
        return self._wizard.model.check_passed() and not self.is_running()

    def nextId(self) -> int:
        return int(PageId.SEND)

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Connection check"))
        self.setSubTitle(self.tr("We connect step by step and stop at the first problem, with the reason and the fix."))
        self.start_check.setText(self.tr("&Check again"))
        self.retry_check.setText(self.tr("&Retry"))
        self.cancel_check.setText(self.tr("Cancel chec&k"))
        self.stage_list.retranslate_ui()
        self.refresh_dynamic()

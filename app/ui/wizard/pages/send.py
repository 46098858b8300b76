"""Step 5 (optional): send a real test message with the checked settings."""

from __future__ import annotations

import html as html_mod
import logging
import re
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.ui.desktop import open_url
from app.ui.widgets.attachment_list import AttachmentList
from app.ui.widgets.audit_panel import AuditPanel
from app.ui.widgets.diagnosis_panel import DiagnosisPanel
from app.ui.widgets.flow_layout import FlowRow
from app.ui.widgets.form_rows import FieldMessage, add_validated_row, scrolled
from app.ui.widgets.incoming_box import DeliveryBox
from app.ui.widgets.log_view import LogView
from app.ui.widgets.report_button import ReportButton
from app.ui.wizard.ids import PageId
from app.ui.wizard.pages.base import LazyPage

log = logging.getLogger(__name__)


def html_to_text(markup: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</li>", "\n", markup)
    text = re.sub(r"<[^>]+>", "", text)
    return html_mod.unescape(text).strip()


class SendPage(LazyPage):
    def __init__(self, wizard: Any):
        super().__init__(wizard, "page_send")

    def build(self) -> None:
        self._job = None
        self._prefilled_for: str | None = None
        self.last_result: Any = None
        self.labels: dict[str, QLabel] = {}
        self.messages: dict[str, FieldMessage] = {}
        self._build_fields()
        self._build_layout()
        self.retranslate_ui()

    def _build_fields(self) -> None:
        self.to = QLineEdit(objectName="to")
        self.cc = QLineEdit(objectName="cc")
        self.bcc = QLineEdit(objectName="bcc")
        self.subject = QLineEdit(objectName="subject")
        self.body = QPlainTextEdit(objectName="body")
        self.body.setTabChangesFocus(True)
        self.body.setMinimumHeight(70)
        self.body.setMaximumHeight(120)
        self.html = QCheckBox(objectName="html")
        self.attachments = AttachmentList(objectName="attachments")
        self.attachments.setMaximumHeight(64)
        self.add_attachment = QPushButton(objectName="add_attachment")
        self.remove_attachment = QPushButton(objectName="remove_attachment")
        self.add_attachment.clicked.connect(self._pick_files)
        self.remove_attachment.clicked.connect(self.remove_selected_attachments)
        self.send_test = QPushButton(objectName="send_test")
        self.cancel_send = QPushButton(objectName="cancel_send")
        self.cancel_send.setEnabled(False)
        self.send_test.clicked.connect(self.send)
        self.cancel_send.clicked.connect(self.cancel)
        self.status = QLabel(objectName="send_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # it quotes the server's reply
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.open_inbox = QPushButton(objectName="open_sandbox_inbox")
        self.open_inbox.clicked.connect(self.open_sandbox_inbox)
        self.open_inbox.hide()
        self._defaults: tuple[str, str] = ("", "")  # the subject and body we filled in (follow the language)
        self.diagnosis = DiagnosisPanel()
        self.diagnosis.action_triggered.connect(self._action)
        self.log_view = LogView()
        for w in (self.to, self.cc, self.bcc, self.subject):
            w.textEdited.connect(self._clear_messages)

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for name, w in (("to", self.to), ("cc", self.cc), ("bcc", self.bcc), ("subject", self.subject)):
            self._row(form, name, w)
        self._row(form, "body", self.body)
        form.addRow("", self.html)
        att_buttons = QVBoxLayout()
        att_buttons.addWidget(self.add_attachment)
        att_buttons.addWidget(self.remove_attachment)
        att_buttons.addStretch(1)
        att_row = QHBoxLayout()
        att_row.addWidget(self.attachments, 1, Qt.AlignmentFlag.AlignTop)
        att_row.addLayout(att_buttons)
        self._row(form, "attachments", att_row, buddy=self.attachments)
        buttons = FlowRow()  # wraps at 800 px in Russian instead of widening the window
        buttons.addWidget(self.send_test)
        buttons.addWidget(self.cancel_send)
        self.report = ReportButton(self._wizard.model, "send")
        buttons.addWidget(self.report)
        top = QWidget()
        top_lay = QVBoxLayout(top)
        top_lay.setContentsMargins(0, 0, 0, 0)
        top_lay.addLayout(form)
        top_lay.addLayout(buttons)
        top_lay.addWidget(self.status)
        inbox_row = QHBoxLayout()
        inbox_row.addWidget(self.open_inbox)
        inbox_row.addStretch(1)
        top_lay.addLayout(inbox_row)
        top_lay.addWidget(self.diagnosis)
        self.delivery = DeliveryBox(self._wizard.bridge)
        self.delivery.finished.connect(self._wizard.model.set_delivery_result)
        top_lay.addWidget(self.delivery)
        self.audit = AuditPanel(self._wizard.model, self._wizard.bridge)  # the From domain's DNS, after a send
        self.delivery.finished.connect(self.audit.delivery_finished)
        top_lay.addWidget(self.audit)
        scroll = self.scroll = scrolled(top)
        splitter = QSplitter(Qt.Orientation.Vertical, objectName="send_splitter")
        splitter.addWidget(scroll)
        splitter.addWidget(self.log_view)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([430, 130])
        splitter.setChildrenCollapsible(False)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(splitter)

    def _row(self, form: QFormLayout, name: str, field: Any, *, buddy: QWidget | None = None) -> None:
        add_validated_row(form, name, field, self.labels, self.messages, buddy=buddy)

    # -- content --------------------------------------------------------------------------
    def on_enter(self) -> None:
        model = self._wizard.model
        sender = model.email
        if self._prefilled_for != sender:
            if not self.to.text().strip() or self.to.text().strip() == (self._prefilled_for or ""):
                self.to.setText(sender)
            self._prefilled_for = sender
        self._fill_defaults()
        if not self.is_running() and not self.delivery.is_running():
            self.delivery.prepare(model.provider, model.settings)

    def _fill_defaults(self) -> None:
        """Fill an empty (or still default) subject and body in the current language."""
        old_subject, old_body = self._defaults
        subject, body = self.tr("MailSetup test message"), self.default_body()
        if self.subject.text() in ("", old_subject):
            self.subject.setText(subject)
        if self.body.toPlainText() in ("", old_body):
            self.body.setPlainText(body)
        self._defaults = (subject, body)

    def is_sandbox(self) -> bool:
        from app.core.catalog import ProviderKind

        return getattr(self._wizard.model.provider, "kind", None) is ProviderKind.SANDBOX

    def open_sandbox_inbox(self) -> None:
        server = self._wizard.sandbox
        if server is None:
            return
        from app.ui.dialogs.sandbox_viewer import SandboxInboxDialog

        self.inbox_dialog = SandboxInboxDialog(server, self)
        self.inbox_dialog.show()

    def default_body(self) -> str:
        s = self._wizard.model.settings
        where = f"{s.host}:{s.port} ({s.security.value.upper()})" if s is not None else ""
        return self.tr(
            "Hello!\n\nThis is a test message sent by MailSetup through {server}.\n"
            "If you can read it, sending mail works. You can delete this message.\n"
        ).format(server=where)

    def add_files(self, paths: list[str]) -> None:
        self.attachments.add_files(paths)

    def attachment_paths(self) -> list[Path]:
        return self.attachments.paths()

    def remove_selected_attachments(self) -> None:
        self.attachments.remove_selected()

    def _pick_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, self.tr("Attach files"))
        if paths:
            self.add_files(paths)

    def _clear_messages(self) -> None:
        for m in self.messages.values():
            m.set_message("")

    def compose(self) -> Any:
        """The MessageSpec to send (built into a message off the GUI thread); address problems are
        shown next to the fields (returns None)."""
        from app.core.smtp import MessageError, MessageSpec, parse_address_list

        model = self._wizard.model
        self._clear_messages()
        lists: dict[str, list[str]] = {}
        for name, w in (("to", self.to), ("cc", self.cc), ("bcc", self.bcc)):
            try:
                lists[name] = parse_address_list(w.text(), name)
            except (MessageError, ValueError) as exc:
                self.messages[name].set_message(
                    self.tr("Check the addresses: {problem}. Separate several with ; or ,").format(
                        problem=getattr(exc, "message", None) or str(exc)
                    )
                )
                return None
        if not (lists["to"] or lists["cc"] or lists["bcc"]):
            self.messages["to"].set_message(self.tr("Enter at least one recipient."))
            return None
        body = self.body.toPlainText()
        is_html = self.html.isChecked()
        spec = MessageSpec(
            from_addr=model.email,
            from_name=model.from_name,
            to=lists["to"],
            cc=lists["cc"],
            bcc=lists["bcc"],
            subject=self.subject.text(),
            text=html_to_text(body) if is_html else body,
            html=body if is_html else None,
            attachments=[str(p) for p in self.attachment_paths()],
        )
        return spec

    def _show_field_problem(self, diagnosis: Any) -> None:
        """An unusable field found while the message was built: its message goes next to the field."""
        params = getattr(diagnosis, "params", {}) or {}
        field = params.get("field", "")
        target = self.messages.get(field if field in self.messages else "to")
        if target is not None and params.get("message"):
            target.set_message(params["message"])

    # -- sending --------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self._job is not None and self._job.running

    def send(self) -> None:
        if self.is_running():
            return
        spec = self.compose()
        if spec is None:
            return
        model = self._wizard.model
        settings, password, provider = model.settings, model.password or None, model.provider
        self.last_result = None
        self.diagnosis.show_diagnosis(None)
        self.log_view.clear()
        self.set_dynamic(self.status, lambda: self.tr("Sending…"))
        self.send_test.setEnabled(False)
        self.cancel_send.setEnabled(True)
        self.completeChanged.emit()

        # proof of delivery (IMAP, or the sandbox's inbox): the message carries a unique token
        self._token, prepare = self.delivery.token_for(provider, settings, sandbox=self.is_sandbox())

        async def run(on_event: Any) -> Any:
            from app.core.smtp import send_spec

            return await send_spec(settings, password, spec, on_event=on_event, provider=provider, prepare=prepare)

        job = self._wizard.bridge.submit(run, name="send")
        job.event.connect(model.record_send().record)  # for "Save report…"
        job.event.connect(self.log_view.add_event)
        job.finished.connect(self._finished)
        job.failed.connect(self._failed)
        job.cancelled.connect(lambda: self.set_dynamic(self.status, lambda: self.tr("Sending cancelled.")))
        job.done.connect(self._ended)
        self._job = job

    def cancel(self) -> None:
        if self.is_running():
            self._job.cancel()
        self.delivery.cancel()
        self.audit.cancel()

    def cleanupPage(self) -> None:
        self.cancel()

    def _finished(self, result: Any) -> None:
        from app.core.model import LogLevel

        self.last_result = result
        self._wizard.model.set_send_result(result)
        self.open_inbox.setVisible(result.ok and self.is_sandbox())
        if result.ok:
            self.set_dynamic(self.status, lambda: self._success_text(result))
            self.log_view.add_line(LogLevel.INFO, self._success_text(result, advice=False))
            if getattr(self, "_token", None):
                sandbox = self._wizard.sandbox if self.is_sandbox() else None
                self.delivery.after_send(self._wizard.model, sandbox, self._token, result)
            self.audit.after_send(result, sandbox=self.is_sandbox())
        else:
            self.set_dynamic(self.status, lambda: self.tr("The message was not sent."))
            self.diagnosis.show_diagnosis(result.diagnosis)
            if result.diagnosis is not None and result.diagnosis.variant == "message":
                self._show_field_problem(result.diagnosis)
        QTimer.singleShot(0, lambda ok=result.ok: self._reveal_outcome(ok))  # once the layout has the new sizes

    def _reveal_outcome(self, ok: bool) -> None:
        """Scroll the outcome (the inbox button, or the diagnosis' fixes) into view."""
        if ok:
            self.scroll.ensureWidgetVisible(self.open_inbox if self.open_inbox.isVisible() else self.status)
        else:
            self.scroll.ensureWidgetVisible(self.diagnosis.buttons[0] if self.diagnosis.buttons else self.diagnosis)

    def _success_text(self, result: Any, *, advice: bool = True) -> str:
        """What happened; with ``advice`` also where to look for the message (the status line, not the log)."""
        reply = (result.server_reply or "").strip()
        text = self.tr("Sent in {ms} ms. The server answered: “{reply}”.").format(
            ms=f"{result.elapsed_ms:.0f}", reply=reply
        )
        if getattr(result, "queue_id", None):
            text += " " + self.tr("Queue id: {id}.").format(id=result.queue_id)
        if not advice:
            pass
        elif self.is_sandbox():
            text += " " + self.tr("It is in the sandbox inbox on this computer: open it with the button below.")
        else:
            text += " " + self.tr("Look in the recipient's Inbox — and in Spam, where first test messages often land.")
        refused = getattr(result, "refused", None)
        if refused:
            text += " " + self.tr("Refused recipients: {list}").format(list=", ".join(str(r) for r in refused))
        return text

    def _failed(self, exc: Any) -> None:
        log.error("send crashed", exc_info=exc)
        self.set_dynamic(
            self.status, lambda: self.tr("Sending stopped with an internal error: {error}").format(error=str(exc))
        )

    def _ended(self) -> None:
        self.send_test.setEnabled(True)
        self.cancel_send.setEnabled(False)
        self.completeChanged.emit()

    def _action(self, action: Any) -> None:
        if action.kind == "open_url":
            open_url(str(action.params.get("url", "")))
        else:
            self.send()

    # -- wizard protocol ------------------------------------------------------------------
    def isComplete(self) -> bool:
        if not self.built:
            return False
        return not self.is_running()

    def nextId(self) -> int:
        return int(PageId.SAVE)

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Send a test message"))
        self.setSubTitle(self.tr("Optional: send a real message to see it arrive. You can skip to Save."))
        texts = {
            "to": self.tr("T&o:"),
            "cc": self.tr("&Cc:"),
            "bcc": self.tr("Bcc (h&idden):"),
            "subject": self.tr("S&ubject:"),
            "body": self.tr("Mess&age:"),
            "attachments": self.tr("Attach&ments:"),
        }
        for name, text in texts.items():
            self.labels[name].setText(text)
            self.labels[name].buddy().setAccessibleName(text.replace("&", "").rstrip(":"))
        hint = self.tr("Several addresses: separate with ; or ,")
        for w in (self.to, self.cc, self.bcc):
            w.setPlaceholderText(hint)
        self.html.setText(self.tr("Send as &HTML"))
        self.add_attachment.setText(self.tr("Add &files…"))
        self.remove_attachment.setText(self.tr("&Remove"))
        self.send_test.setText(self.tr("&Send test message"))
        self.cancel_send.setText(self.tr("Cancel sendin&g"))
        self.open_inbox.setText(self.tr("O&pen the sandbox inbox"))
        if self._defaults != ("", ""):
            self._fill_defaults()
        self.refresh_dynamic()

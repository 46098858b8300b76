"""The incoming side in the wizard: the IMAP/POP3 check beside the SMTP check (Check page) and the proof
of delivery after the test send (Send page). Both run on the engine bridge; verdicts come from
app.core.incoming, these widgets only render them."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from app.ui.widgets.diagnosis_panel import DiagnosisPanel

log = logging.getLogger(__name__)

DELIVERY_TIMEOUT = 60.0


class _EngineBox(QGroupBox):
    """A group box with a status line and a diagnosis panel, running one engine job at a time."""

    finished = Signal(object)  # the engine's result

    def __init__(self, bridge: Any, object_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self._bridge = bridge
        self._job: Any = None
        self.result: Any = None
        self.status = QLabel(objectName=f"{object_name}_status")
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # may quote server text
        self.status.setWordWrap(True)
        self.diagnosis = DiagnosisPanel()
        self.diagnosis.show_diagnosis(None)
        self.diagnosis.action_triggered.connect(self._action)
        lay = QVBoxLayout(self)
        lay.addWidget(self.status)
        lay.addWidget(self.diagnosis)
        self.hide()

    def is_running(self) -> bool:
        return self._job is not None and self._job.running

    def show_diagnosis(self, diagnosis: Any) -> None:
        """The diagnosis with only the remedies that work here: the provider's pages. The incoming server
        comes from the catalogue, so a port switch is told in the fixes, not offered as a button."""
        from dataclasses import replace

        if diagnosis is not None:
            diagnosis = replace(diagnosis, actions=tuple(a for a in diagnosis.actions if a.kind == "open_url"))
        self.diagnosis.show_diagnosis(diagnosis)

    def _action(self, action: Any) -> None:
        from app.ui.desktop import open_url

        url = action.params.get("url")
        if action.kind == "open_url" and url:
            open_url(url)

    def cancel(self) -> None:
        if self.is_running():
            old = self._job
            for signal in (old.finished, old.failed, old.cancelled):
                signal.disconnect()
            old.cancel()
            self._job = None

    def _submit(self, factory: Any, name: str) -> None:
        self.cancel()
        self.result = None
        self.diagnosis.show_diagnosis(None)
        job = self._bridge.submit(factory, name=name)
        job.finished.connect(self._done)
        job.failed.connect(self._crashed)
        job.cancelled.connect(lambda: self.status.setText(self.tr("Cancelled.")))
        self._job = job

    def _crashed(self, exc: Any) -> None:
        log.error("%s crashed", self.objectName(), exc_info=exc)
        self.status.setText(self.tr("Stopped with an internal error: {error}").format(error=str(exc)))

    def _done(self, result: Any) -> None:
        self.result = result
        self.render(result)
        self.finished.emit(result)

    def render(self, result: Any) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError


class IncomingCheckBox(_EngineBox):
    """Check page: the account's IMAP (or POP3) login, run in parallel with the SMTP check."""

    def __init__(self, bridge: Any, parent: QWidget | None = None):
        super().__init__(bridge, "incoming_check", parent)
        self.protocol: Any = None
        self.settings: Any = None

    def start(self, provider: Any, smtp_settings: Any, password: str | None) -> bool:
        """Start the incoming check for the provider's endpoint; False (box hidden) when it has none."""
        from app.core.incoming import incoming_for

        self.cancel()
        found = incoming_for(provider, smtp_settings) if smtp_settings is not None else None
        if found is None:
            self.hide()
            return False
        self.protocol, self.settings = found
        self.show()
        self._retitle()
        self.status.setText(
            self.tr("Checking the login to {host}:{port}…").format(host=self.settings.host, port=self.settings.port)
        )
        settings, protocol = self.settings, self.protocol

        async def run(on_event: Any) -> Any:
            from app.core.incoming import run_incoming_check

            return await run_incoming_check(protocol, settings, password, on_event=on_event, provider=provider)

        self._submit(run, "incoming_check")
        return True

    def _retitle(self) -> None:
        if self.protocol is not None:
            self.setTitle(self.tr("Incoming mail ({protocol})").format(protocol=self.protocol.name))

    def render(self, result: Any) -> None:
        if result.ok:
            text = (
                self.tr("{protocol} login works ({host}:{port}, {ms} ms).")
                if result.auth_verified
                else self.tr("{protocol} server answers ({host}:{port}, {ms} ms); no login was tested.")
            )
            self.status.setText(
                text.format(
                    protocol=result.protocol.name,
                    host=result.settings.host,
                    port=result.settings.port,
                    ms=f"{result.elapsed_ms:.0f}",
                )
            )
        else:
            self.status.setText(self.tr("The {protocol} check failed.").format(protocol=result.protocol.name))
        self.show_diagnosis(result.diagnosis)


class DeliveryBox(_EngineBox):
    """Send page: after the test send, waits for the message in the mailbox (IMAP) and says where it landed."""

    def __init__(self, bridge: Any, parent: QWidget | None = None):
        super().__init__(bridge, "delivery", parent)
        self.timeout = DELIVERY_TIMEOUT
        # asked, default keep: the test message stays in the mailbox unless the user ticks this
        self.delete_after = QCheckBox(objectName="delivery_delete")
        self.layout().addWidget(self.delete_after)
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Proof of delivery"))
        self.delete_after.setText(self.tr("Delete the test message from the mailbox once it is found"))

    def prepare(self, provider: Any, smtp_settings: Any) -> None:
        """Before the send: say that the message will be looked for (and offer to delete it), or hide."""
        if not self.available(provider, smtp_settings) or not smtp_settings.username:
            self.hide()
            return
        self.delete_after.show()
        self.result = None
        self.diagnosis.show_diagnosis(None)
        self.show()
        self.status.setText(self.tr("After sending, MailSetup looks for the message in the mailbox (Inbox and Spam)."))

    def available(self, provider: Any, smtp_settings: Any) -> bool:
        from app.core.incoming import incoming_for

        return smtp_settings is not None and incoming_for(provider, smtp_settings, imap_only=True) is not None

    def start(self, provider: Any, smtp_settings: Any, password: str | None, token: str, sent_at: float) -> bool:
        from app.core.incoming import incoming_for

        found = incoming_for(provider, smtp_settings, imap_only=True) if smtp_settings is not None else None
        if found is None or not smtp_settings.username:
            self.hide()
            return False
        _protocol, settings = found
        self.show()
        self.retranslate_ui()
        self.status.setText(
            self.tr("Waiting for the message in {host} (up to {seconds} s)…").format(
                host=settings.host, seconds=f"{self.timeout:g}"
            )
        )
        timeout, delete = self.timeout, self.delete_after.isChecked()

        async def run(on_event: Any) -> Any:
            from app.core.incoming import confirm_delivery

            return await confirm_delivery(
                settings, password, token, timeout=timeout, sent_at=sent_at, delete=delete, provider=provider
            )

        self._submit(run, "delivery")
        return True

    def token_for(self, provider: Any, smtp_settings: Any, *, sandbox: bool) -> tuple[str | None, Any]:
        """Before a send: (token, a function marking the message with it), or (None, None) without a mailbox."""
        self.cancel()
        if not (sandbox or self.available(provider, smtp_settings)):
            return None, None
        from app.core.incoming import mark_message, new_token

        token = new_token()
        return token, lambda message: mark_message(message, token)

    def after_send(self, model: Any, sandbox: Any, token: str, sent: Any) -> None:
        """After a successful send: the sandbox's own inbox at once, else the IMAP search."""
        import time

        if sandbox is not None:
            inbox = [m.parsed() for m in sandbox.inbox]
            self.show_sandbox(inbox, token, model.settings, sent.elapsed_ms / 1000)
        else:
            self.start(model.provider, model.settings, model.password or None, token, time.monotonic())

    def show_sandbox(self, messages: Any, token: str, smtp_settings: Any, seconds: float) -> None:
        """The sandbox's own inbox serves as the mailbox offline: the verdict at once, no IMAP."""
        from app.core.incoming import find_in_messages

        self.cancel()
        self.show()
        self.retranslate_ui()
        self.delete_after.hide()
        found = find_in_messages(messages, token, smtp_settings, folder=self.tr("the sandbox inbox"), seconds=seconds)
        self._done(found)

    def render(self, result: Any) -> None:
        if result.found:
            ar = result.authentication_results
            verdicts = ar.summary() if ar is not None else self.tr("no Authentication-Results from the receiver")
            text = (
                self.tr("Landed in {folder} after {seconds} s ({verdicts}).")
                if result.in_spam
                else self.tr("Arrived in {folder} after {seconds} s ({verdicts}).")
            )
            self.status.setText(text.format(folder=result.folder, seconds=f"{result.seconds:.1f}", verdicts=verdicts))
        elif result.diagnosis is not None and result.diagnosis.code.value != "delivery_not_confirmed":
            self.status.setText(self.tr("Could not look into the mailbox."))
        else:
            self.status.setText(self.tr("Not arrived within {seconds} s.").format(seconds=f"{self.timeout:g}"))
        self.show_diagnosis(result.diagnosis)

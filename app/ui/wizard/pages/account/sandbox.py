"""The Account page with the Local sandbox provider: starting the sandbox server and filling its settings."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from app.core.catalog import ProviderKind
from app.core.model import (
    Security,
    SmtpSettings,
)

log = logging.getLogger(__name__)


class AccountSandbox:
    """Part of AccountPage (see __init__.py); a mixin: it uses the page's widgets and model."""

    def _fill_sandbox(self) -> None:
        info = self._wizard.sandbox_info
        if info is not None:
            self._apply_sandbox(info)
            return
        job = self._wizard.start_sandbox()
        if job is None:
            return
        self._sandbox_pending = True
        self.sandbox_status.setText(self.tr("Starting the local sandbox server…"))
        job.finished.connect(self._apply_sandbox)
        job.failed.connect(self._sandbox_failed)
        job.done.connect(self._sandbox_done)

    def _sandbox_done(self) -> None:
        self._sandbox_pending = False
        self.completeChanged.emit()

    def _apply_sandbox(self, info: Any) -> None:
        model = self.model
        if getattr(model.provider, "kind", None) is not ProviderKind.SANDBOX:
            return  # the user chose another provider meanwhile
        base = model.settings or SmtpSettings(host="", port=0, security=Security.SSL)
        model.set_settings(
            replace(
                base,
                host=info.host,
                port=info.ssl_port,
                security=Security.SSL,
                username=info.username,
                tls=replace(base.tls, cafile=str(info.ca_file)),
            )
        )
        model.set_password(info.password)
        if not model.email.strip():
            model.email = "test@mailsetup.localhost"
        self.render()
        self.sandbox_status.setText(
            self.tr(
                "The sandbox runs on this computer: ports {ssl} (SSL) and {starttls} (STARTTLS). Messages stay here."
            ).format(ssl=info.ssl_port, starttls=info.starttls_port)
        )

    def _sandbox_failed(self, exc: Any) -> None:
        self.sandbox_status.setText(self.tr("The sandbox could not start: {error}").format(error=str(exc)))

    def open_sandbox_inbox(self) -> None:
        server = self._wizard.sandbox
        if server is None:
            return
        from app.ui.dialogs.sandbox_viewer import SandboxInboxDialog

        self.inbox_dialog = SandboxInboxDialog(server, self)
        self.inbox_dialog.show()

"""The Provider page's "Find my settings automatically": the search started and stopped, its result offered."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def email_domain(email: str) -> str:
    """The domain of a bare address, by the engine's one address parser ("" when it is not one)."""
    from app.core.model import AddressError, parse_address  # at the first keystroke, not before the page shows

    try:
        parsed = parse_address(email)
    except AddressError:
        return ""
    domain = parsed.domain.strip(".").lower()
    return domain if not parsed.name and "." in domain else ""


class ProviderDetection:
    """Part of ProviderPage (see __init__.py); a mixin: it uses the page's widgets and model."""

    # -- autodetect ----------------------------------------------------------------------
    def start_detect(self) -> None:
        email = self.email.text().strip()
        if not email_domain(email):
            self.set_dynamic(self.detect_status, lambda: self.tr("Type your e-mail address first."))
            self.email.setFocus()
            return
        self.stop_detect()
        self.probe_table.setRowCount(0)
        self.probe_table.show()
        self.detect_result = None
        self.set_dynamic(self.detect_status, lambda: self.tr("Trying the usual servers and ports…"))
        self.find_settings.setEnabled(False)
        self.cancel_detect.show()
        model = self._wizard.model
        opts = dict(model.detect_options)
        opts.setdefault("catalogue", self._wizard.catalogue)
        if model.password and "password" not in opts:
            opts["password"] = model.password

        async def run(on_event: Any) -> Any:
            from app.core.detect import detect

            return await detect(email, on_event=on_event, **opts)

        job = self._wizard.bridge.submit(run, name="detect")
        job.event.connect(self.probe_table.handle)
        job.finished.connect(self._detect_done)
        job.failed.connect(self._detect_failed)
        job.cancelled.connect(lambda: self.set_dynamic(self.detect_status, lambda: self.tr("Search cancelled.")))
        job.done.connect(self._detect_ended)
        self._detect_job = job

    def stop_detect(self) -> None:
        if self._detect_job is not None and self._detect_job.running:
            self._detect_job.cancel()

    def _detect_done(self, result: Any) -> None:
        self.detect_result = result
        model = self._wizard.model
        if getattr(result, "ok", False) and result.settings is not None:
            s = result.settings
            model.email = self.email.text().strip()
            pid = getattr(result, "provider", None) or getattr(result, "provider_id", None)
            pid = getattr(pid, "id", pid)
            if not (pid and self.select_provider(pid, by_user=False)):
                self.select_custom(by_user=False)
            model.set_provider(self.selected_provider())
            model.prefill = s
            model.settings = None  # the Account page starts from what was found
            self.set_dynamic(
                self.detect_status,
                lambda: self.tr("Found: {host}, port {port}, {security}, in {ms} ms. Press Next to use it.").format(
                    host=s.host, port=s.port, security=s.security.value.upper(), ms=f"{result.elapsed_ms:.0f}"
                ),
            )
        else:
            from app.ui.widgets.diagnosis_panel import render_diagnosis

            diag = getattr(result, "diagnosis", None)

            def reason() -> str:
                if diag is None:
                    return ""
                title, explanation, _fixes = render_diagnosis(diag)
                return f"{title}. {explanation}"

            # nothing was probed (e.g. an unknown domain with no server names): say what was looked for
            # instead of showing an empty table
            self.probe_table.setVisible(self.probe_table.rowCount() > 0)
            self.set_dynamic(
                self.detect_status,
                lambda: self.tr(
                    "No working server found. {reason} Choose Custom server and type the server's name."
                ).format(reason=reason()),
            )

    def _detect_failed(self, exc: Any) -> None:
        log.warning("autodetect failed", exc_info=exc)
        self.set_dynamic(
            self.detect_status, lambda: self.tr("The search stopped with an error: {error}").format(error=str(exc))
        )

    def _detect_ended(self) -> None:
        self.find_settings.setEnabled(True)
        self.cancel_detect.hide()

"""The account being set up: one object the wizard pages read and write (never each other's widgets).

Pages render from the model and write what the user typed back into it; remedies (switch the port,
trust a certificate, allow plain login) change the model and every page re-renders. The password
lives only here (memory) and, once saved, in the keyring.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

if TYPE_CHECKING:  # the settings model is first needed on the Account page, not before the first page shows
    from app.core.model import SmtpSettings


class WizardModel(QObject):
    """Provider, settings, password, trusted-certificate pins, and the check/send/save results.

    ``settings_changed`` carries the object that made the change (a page skips its own echo).
    """

    provider_changed = Signal()
    settings_changed = Signal(object)
    pins_changed = Signal()
    check_changed = Signal()
    send_changed = Signal()
    saved_changed = Signal()
    report_changed = Signal()  # a run a report can be made of started or ended
    oauth_sign_in_requested = Signal()  # a diagnosis' "Sign in again": the sign-in box opens its dialog

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.provider: Any = None  # app.core.catalog.Provider
        self.email = ""
        self.from_name = ""
        self.settings: SmtpSettings | None = None
        self.password = ""
        # verified by autodetect or loaded from a profile: the Account page starts from it
        self.prefill: SmtpSettings | None = None
        self.prefill_username: str | None = None
        self.prefill_password: str | None = None
        self.pins: dict[tuple[str, int], str] = {}  # (host, port) -> trusted certificate SHA-256
        self.check_result: Any = None  # the last successful CheckResult
        self.checked_settings: SmtpSettings | None = None
        self.checked_password: str | None = None
        self.send_result: Any = None
        self.editing_profile: str | None = None
        self.skip_guide = False
        self.saved_profile: Any = None
        self.dirty = False  # something the user typed that is not saved yet (the pages set it)
        self.detect_options: dict[str, Any] = {}  # extra detect() arguments (tests point it at local servers)
        # An OAuth sign-in (app.core.oauth): (OAuthAccount, Grant); the password is then its access token.
        self.oauth: Any = None
        # what a "Save report…" is made of (app.core.report): the last runs' recorded events and results
        self.check_record: Any = None  # ReportRecorder of the last check run
        self.last_verdict: Any = None  # its Verdict, a failed one too
        self.incoming_result: Any = None  # the IMAP/POP3 check that ran beside it
        self.send_record: Any = None
        self.delivery_result: Any = None
        self.audit_result: Any = None  # the sender-domain audit (app.core.audit.AuditReport) run after a send

    # -- provider ------------------------------------------------------------------------------
    def set_provider(self, provider: Any) -> None:
        """Choose the provider; a different one resets what belonged to the previous one."""
        old = getattr(self.provider, "id", None)
        self.provider = provider
        if old is not None and old != getattr(provider, "id", None):
            self.reset_provider_state()
        self.provider_changed.emit()

    def reset_provider_state(self) -> None:
        """Forget the settings, password, CA file, pins and results that came with the previous provider."""
        self.settings = None
        self.password = ""
        self.prefill = None
        self.prefill_username = None
        self.prefill_password = None
        self.oauth = None
        self.pins.clear()
        self.clear_check()
        self.send_result = None
        self.check_record = self.last_verdict = self.incoming_result = None
        self.send_record = self.delivery_result = self.audit_result = None
        self.report_changed.emit()
        self.pins_changed.emit()
        self.settings_changed.emit(self)

    # -- settings -----------------------------------------------------------------------------
    def pin_for(self, host: str, port: int) -> str | None:
        return self.pins.get((host.strip().lower(), port))

    def set_settings(self, settings: SmtpSettings, source: Any = None) -> None:
        """Store ``settings``; the trusted certificate is the pin of exactly their host and port."""
        pin = self.pin_for(settings.host, settings.port)
        if settings.tls.pinned_sha256 != pin:
            settings = replace(settings, tls=replace(settings.tls, pinned_sha256=pin))
        if settings == self.settings:
            return
        self.settings = settings
        self.check_changed.emit()
        self.settings_changed.emit(source)

    def update_settings(self, source: Any = None, **changes: Any) -> None:
        """Change some fields of the current settings (what a remedy does)."""
        if self.settings is None:
            return
        self.set_settings(replace(self.settings, **changes), source)

    def set_password(self, password: str, source: Any = None) -> None:
        if password == self.password:
            return
        self.oauth = None  # a typed password replaces a sign-in
        self.password = password
        self.check_changed.emit()
        self.settings_changed.emit(source)

    def set_oauth(self, account: Any, grant: Any, access_token: str, username: str, source: Any = None) -> None:
        """Use an OAuth sign-in: XOAUTH2 as ``username`` with ``access_token``; the grant is saved later."""
        from app.core.model import AuthMechanism

        self.password = access_token
        self.oauth = (account, grant)
        self.dirty = True
        if self.settings is not None:
            self.settings = replace(self.settings, username=username, auth=AuthMechanism.XOAUTH2)
        self.check_changed.emit()
        self.settings_changed.emit(source)

    def request_oauth_sign_in(self) -> None:
        self.oauth_sign_in_requested.emit()

    # -- pins -----------------------------------------------------------------------------------
    def adopt_pin(self, settings: SmtpSettings) -> None:
        """Remember the pin that came with loaded settings (a saved profile) for their host and port."""
        pin = settings.tls.pinned_sha256
        if pin:
            self.pins[(settings.host.strip().lower(), settings.port)] = pin
            self.pins_changed.emit()

    def trust(self, sha256: str) -> None:
        """Trust the certificate ``sha256`` for the current host and port only."""
        s = self.settings
        if s is None or not sha256:
            return
        self.pins[(s.host.strip().lower(), s.port)] = sha256
        self.pins_changed.emit()
        self.set_settings(s)

    def forget_pin(self, host: str, port: int) -> None:
        if self.pins.pop((host.strip().lower(), port), None) is None:
            return
        self.pins_changed.emit()
        if self.settings is not None:
            self.set_settings(self.settings)

    # -- results -------------------------------------------------------------------------------
    def retest_options(self, catalogue: Any) -> dict[str, Any]:
        """detect() arguments for re-testing the typed settings: their host, their port then the usual ones,
        their timeouts, TLS options and proxy (what the test hooks in ``detect_options`` set wins)."""
        from app.core.detect import PROBE_PORTS

        opts = dict(self.detect_options)
        opts.setdefault("catalogue", catalogue)
        settings = self.settings
        if settings is not None:
            if settings.host:
                opts.setdefault("host", settings.host)
            own = (settings.port,) if 0 < settings.port <= 65535 else ()
            opts.setdefault("ports", tuple(dict.fromkeys(own + tuple(PROBE_PORTS))))
            opts.setdefault("timeouts", settings.timeouts)
            opts.setdefault("tls", settings.tls)
            opts.setdefault("proxy", settings.proxy)
        return opts

    def clear_check(self) -> None:
        self.check_result = None
        self.checked_settings = None
        self.checked_password = None
        self.check_changed.emit()

    def set_check_result(self, result: Any, settings: SmtpSettings | None, password: str) -> None:
        """A successful check of ``settings`` with ``password`` (what Next on the Check page needs)."""
        self.check_result = result
        self.checked_settings = settings
        self.checked_password = password
        self.check_changed.emit()

    def check_passed(self) -> bool:
        """The current settings and password passed a check."""
        return (
            self.check_result is not None
            and self.checked_settings == self.settings
            and self.checked_password == self.password
        )

    def set_send_result(self, result: Any) -> None:
        self.send_result = result
        self.send_changed.emit()
        self.report_changed.emit()

    # -- reports -------------------------------------------------------------------------------
    def record_check(self) -> Any:
        """A fresh recorder for the check run that starts now (the page feeds it the run's events)."""
        from app.core.report import ReportRecorder

        self.check_record, self.last_verdict, self.incoming_result = ReportRecorder(), None, None
        self.report_changed.emit()
        return self.check_record

    def set_last_verdict(self, verdict: Any) -> None:
        """The Verdict of the last check run, whatever it said."""
        self.last_verdict = verdict
        self.report_changed.emit()

    def set_incoming_result(self, result: Any) -> None:
        """The IMAP/POP3 check that ran beside the SMTP check."""
        self.incoming_result = result
        self.report_changed.emit()

    def record_send(self) -> Any:
        """A fresh recorder for the test send that starts now; the previous send's results are dropped."""
        from app.core.report import ReportRecorder

        self.send_record, self.send_result, self.delivery_result = ReportRecorder(), None, None
        self.send_record.begin("Send")
        self.report_changed.emit()
        return self.send_record

    def set_delivery_result(self, result: Any) -> None:
        self.delivery_result = result
        self.report_changed.emit()

    def set_audit_result(self, result: Any) -> None:
        """The last sender-domain audit (the Send page's audit panel); it goes into the Send page's report."""
        self.audit_result = result
        self.report_changed.emit()

    def report_inputs(self, kind: str) -> dict[str, Any] | None:
        """build_report's arguments for the Check page ("check") or the Send page ("send"); None before a run.

        Never a password: the report is made of results and recorded events only."""
        from app.core.report import merge_recorders

        verdict = self.last_verdict or self.check_result
        if verdict is None or (kind == "send" and self.send_result is None):
            return None
        provider = getattr(self.provider, "id", "") or ""
        args: dict[str, Any] = {
            "verdict": verdict,
            "incoming": self.incoming_result,
            "provider": provider,
            "profile": self.editing_profile or "",
        }
        if kind == "send":
            args.update(
                recorder=merge_recorders(self.check_record, self.send_record),
                send=self.send_result,
                delivery=self.delivery_result,
                audit=self.audit_result,
            )
        else:
            args["recorder"] = self.check_record
        return args

    def set_saved(self, profile: Any) -> None:
        self.saved_profile = profile
        self.editing_profile = profile.name
        self.dirty = False
        self.saved_changed.emit()

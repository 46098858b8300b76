""" "Sign in with <provider>": the admin's own client id, a guide for registering one, and the browser sign-in.

The sign-in runs on the engine bridge (app.core.oauth.sign_in_browser): the system browser opens the
provider's page, the loopback listener takes the answer, PKCE and the state are checked in core. The
user can cancel at any time; a failure shows its diagnosis with a one-click "Sign in again". Nothing
here keeps a token: the caller reads ``tokens``/``account``/``client_secret`` once the dialog is accepted.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog import ClientPreset, ClientSecretUse, Provider
from app.core.diagnosis import Action, DiagnosedError
from app.ui.bridge import EngineBridge, Job
from app.ui.desktop import open_url
from app.ui.widgets.diagnosis_panel import DiagnosisPanel

log = logging.getLogger(__name__)


class OAuthSignInDialog(QDialog):
    """Collects the client registration, runs the browser sign-in, shows what went wrong."""

    def __init__(
        self,
        provider: Provider,
        bridge: EngineBridge,
        parent: QWidget | None = None,
        *,
        user: str = "",
        preset: ClientPreset | None = None,
        lang: str = "en",
        timeout: float = 300.0,
    ):
        super().__init__(parent)
        assert provider.oauth is not None, "only for providers with an [oauth] table"
        self.setObjectName("oauth_sign_in_dialog")
        self.provider = provider
        self.spec = provider.oauth
        self.bridge = bridge
        self.lang = lang
        self.timeout = timeout
        self.job: Job | None = None
        self.tokens: Any = None
        self.account: Any = None
        self.client_secret: str | None = None

        self._build_form(user, preset)
        row = self._build_controls()
        lay = QVBoxLayout(self)
        lay.addWidget(self.intro)
        lay.addLayout(self.form)
        lay.addWidget(self.guide)
        lay.addLayout(row)
        lay.addWidget(self.status)
        lay.addWidget(self.panel)
        lay.addWidget(self.box)
        self.retranslate_ui()

    def _build_form(self, user: str, preset: ClientPreset | None) -> None:
        self.intro = QLabel(objectName="oauth_intro")
        self.intro.setWordWrap(True)
        self.client_id = QLineEdit(preset.client_id if preset else "", objectName="oauth_client_id")
        self.tenant = QLineEdit((preset.tenant or "") if preset else "", objectName="oauth_tenant")
        self.tenant.setPlaceholderText(self.spec.default_tenant or "")
        self.secret = QLineEdit(objectName="oauth_client_secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.user = QLineEdit(user, objectName="oauth_user")
        self.form = QFormLayout()
        self.labels = {key: QLabel() for key in ("client_id", "tenant", "secret", "user")}
        self.form.addRow(self.labels["user"], self.user)
        self.form.addRow(self.labels["client_id"], self.client_id)
        if self.spec.needs_tenant:
            self.form.addRow(self.labels["tenant"], self.tenant)
        if self.spec.client_secret is not ClientSecretUse.NONE:
            self.form.addRow(self.labels["secret"], self.secret)
        for key, field in (
            ("user", self.user),
            ("client_id", self.client_id),
            ("tenant", self.tenant),
            ("secret", self.secret),
        ):
            self.labels[key].setBuddy(field)

    def _build_controls(self) -> QHBoxLayout:
        self.guide = QLabel(objectName="oauth_guide")
        self.guide.setWordWrap(True)
        self.guide.linkActivated.connect(open_url)
        self.status = QLabel(objectName="oauth_status")
        self.status.setWordWrap(True)
        self.panel = DiagnosisPanel(self)
        self.panel.action_triggered.connect(self._on_action)

        self.sign_in_button = QPushButton(objectName="oauth_sign_in")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.start)
        self.cancel_button = QPushButton(objectName="oauth_cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.setEnabled(False)
        self.box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.box.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.sign_in_button)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        return row

    # -- texts -----------------------------------------------------------------------------------------
    def retranslate_ui(self) -> None:
        name = self.provider.display_name(self.lang)
        self.setWindowTitle(self.tr("Sign in with {provider}").format(provider=name))
        self.intro.setText(
            self.tr(
                "MailSetup signs in with your organisation's own app registration at {provider}: enter its client id. "
                "The sign-in is kept in the system keyring, never in a file."
            ).format(provider=name)
        )
        self.labels["user"].setText(self.tr("&Mailbox:"))
        self.labels["client_id"].setText(self.tr("Client &ID:"))
        self.labels["tenant"].setText(self.tr("&Tenant:"))
        self.labels["secret"].setText(self.tr("Client &secret:"))
        self.sign_in_button.setText(self.tr("Sign &in with {provider}").format(provider=name))
        self.cancel_button.setText(self.tr("&Cancel sign-in"))
        self.guide.setText(self._guide_html())

    def _guide_html(self) -> str:
        guide = self.spec.guide.get(self.lang) or self.spec.guide.get("en")
        if guide is None:
            return ""
        items = []
        for step in guide.steps:
            link = (
                f" <a href='{html.escape(step.link)}'>{html.escape(step.link_label or step.link)}</a>"
                if step.link
                else ""
            )
            items.append(f"<li>{html.escape(step.text)}{link}</li>")
        caption = html.escape(self.tr("No client id yet? Register your own app:"))
        return f"<p>{caption}</p><ol>{''.join(items)}</ol><p>{html.escape(guide.result_hint)}</p>"

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    # -- the sign-in -----------------------------------------------------------------------------------
    def start(self) -> None:
        """Validate what was typed (keeping it), then open the browser sign-in on the bridge."""
        from app.core.oauth import OAuthAccount, OAuthClient, OAuthInputError, sign_in_browser

        if self.job is not None and self.job.running:
            return
        self.panel.show_diagnosis(None)
        secret = self.secret.text().strip() or None
        client = OAuthClient(
            self.provider.id,
            self.provider.display_name(self.lang),
            self.spec,
            self.client_id.text().strip(),
            self.tenant.text().strip() or None,
            secret,
        )
        try:
            client = client.validated()
        except OAuthInputError as exc:
            field = {"client_id": self.client_id, "tenant": self.tenant, "client_secret": self.secret}.get(exc.field)
            self.status.setText(self.tr("Cannot sign in yet: {problem}").format(problem=exc.message))
            if field is not None:
                field.setFocus()
            return
        user = self.user.text().strip()
        account = OAuthAccount(self.provider.id, client.client_id, client.tenant, client.protocols)

        def factory(on_event: Any) -> Any:
            return sign_in_browser(
                client, lambda url: on_event(("open_url", url)), timeout=self.timeout, login_hint=user or None
            )

        self.job = job = self.bridge.submit(factory, name="oauth_sign_in")
        job.event.connect(self._on_event)
        job.finished.connect(lambda tokens: self._signed_in(tokens, account, secret))
        job.failed.connect(lambda exc: self._failed(exc, job))
        job.cancelled.connect(lambda: self._cancelled(job))
        job.done.connect(lambda: self._idle(job))
        self._busy(True)
        self.status.setText(self.tr("Opening the browser…"))

    def cancel(self) -> None:
        if self.job is not None and self.job.running:
            self.job.cancel()

    def reject(self) -> None:
        self.cancel()  # closing the dialog stops the listener too
        super().reject()

    def _busy(self, busy: bool) -> None:
        self.sign_in_button.setEnabled(not busy)
        self.cancel_button.setEnabled(busy)
        for field in (self.client_id, self.tenant, self.secret, self.user):
            field.setReadOnly(busy)

    def _idle(self, job: Any) -> None:
        if self.job is None or self.job is job:  # not a finished attempt's late signal after a new start
            self.job = None
            self._busy(False)

    def _outcome_known(self, job: Any) -> bool:
        """The attempt has its outcome: "Sign in again" may start a new one at once, before the job's done signal.
        False for a replaced attempt's late signal (it must not touch the new one)."""
        if job is not None and self.job is not None and self.job is not job:
            return False
        self.job = None
        self._busy(False)
        return True

    def _on_event(self, event: Any) -> None:
        if isinstance(event, tuple) and len(event) == 2 and event[0] == "open_url":
            url = str(event[1])
            open_url(url)
            self.status.setText(
                self.tr(
                    "Finish the sign-in in the browser window that opened, then come back here. "
                    "If no window opened, open this address: {url}"
                ).format(url=url)
            )

    def _signed_in(self, tokens: Any, account: Any, secret: str | None) -> None:
        self.tokens, self.account, self.client_secret = tokens, account, secret
        self.status.setText(self.tr("Signed in."))
        self.accept()

    def _failed(self, exc: BaseException, job: Any = None) -> None:
        if not self._outcome_known(job):
            return
        if isinstance(exc, DiagnosedError):
            self.status.setText(self.tr("The sign-in did not succeed."))
            self.panel.show_diagnosis(exc.diagnosis)
            return
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        self.status.setText(self.tr("The sign-in stopped: {error}").format(error=message))

    def _cancelled(self, job: Any = None) -> None:
        if not self._outcome_known(job):
            return
        self.status.setText(self.tr("Sign-in cancelled. You can start it again at any time."))

    def _on_action(self, action: Action) -> None:
        if action.kind in ("oauth_sign_in", "retry"):
            self.start()
        elif action.kind == "open_url":
            open_url(str(action.params.get("url", "")))

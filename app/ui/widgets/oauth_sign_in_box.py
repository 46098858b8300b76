"""The Account page's "Sign in with <provider>…" path, for providers whose catalogue entry has ``[oauth]``.

A button opens the sign-in dialog (app/ui/dialogs/oauth_sign_in.py); a successful sign-in goes into the
wizard's model (XOAUTH2 with the access token as the password; the grant is saved with the profile), so
the Check, Send and Save pages work on it unchanged. The line under the button says who is signed in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget


class OAuthSignInBox(QFrame):
    """Shown only when the model's provider offers OAuth; ``model`` is the wizard's WizardModel."""

    def __init__(self, model: Any, bridge: Any, lang: Callable[[], str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("oauth_sign_in_box")
        self.model = model
        self.bridge = bridge
        self.lang = lang
        self.dialog: Any = None
        self.button = QPushButton(objectName="oauth_open_dialog")
        self.button.clicked.connect(self.open_dialog)
        self.state = QLabel(objectName="oauth_state")
        self.state.setWordWrap(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.button)
        lay.addWidget(self.state, 1)
        model.provider_changed.connect(self.refresh)
        if hasattr(model, "oauth_sign_in_requested"):
            model.oauth_sign_in_requested.connect(self.open_dialog)
        model.settings_changed.connect(lambda _source: self.refresh())
        self.refresh()

    def provider(self) -> Any:
        p = self.model.provider
        return p if getattr(p, "oauth", None) is not None else None

    def refresh(self) -> None:
        p = self.provider()
        self.setVisible(p is not None)
        if p is None:
            return
        name = p.display_name(self.lang())
        self.button.setText(self.tr("Sign in with {provider}…").format(provider=name))
        self.button.setAccessibleName(self.button.text().replace("&", ""))
        s = self.model.settings
        if self.model.oauth is not None and s is not None:
            self.state.setText(self.tr("Signed in as {user}: no password needed.").format(user=s.username))
        else:
            self.state.setText(
                self.tr("{provider} can sign in with OAuth 2.0 instead of a password.").format(provider=name)
            )

    def open_dialog(self) -> None:
        from app.core.catalog import ClientPreset, load_client_presets
        from app.ui.dialogs.oauth_sign_in import OAuthSignInDialog

        p = self.provider()
        if p is None:
            return
        preset = load_client_presets().get(p.id)
        if self.model.oauth is not None:  # signing in again: keep the registration already typed
            account = self.model.oauth[0]
            preset = ClientPreset(p.id, account.client_id, account.tenant)
        s = self.model.settings
        user = (s.username if s is not None else "") or self.model.email
        self.dialog = OAuthSignInDialog(p, self.bridge, self, user=user, preset=preset, lang=self.lang())
        self.dialog.accepted.connect(self._signed_in)
        self.dialog.open()

    def _signed_in(self) -> None:
        from app.core.oauth import Grant

        d = self.dialog
        if d is None or d.tokens is None:
            return
        if not d.tokens.refresh_token:
            self.state.setText(self.tr("The provider gave no lasting sign-in (no refresh token); sign in again."))
            return
        grant = Grant(d.tokens.refresh_token, d.client_secret)
        self.model.set_oauth(d.account, grant, d.tokens.access_token, d.user.text().strip())
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.refresh()
        super().changeEvent(event)


def save_oauth_blocking(name: str, settings: Any, model: Any, *, replace_existing: bool = False) -> Any:
    """Save an OAuth account: its grant to the keyring and the profile with the client id (worker thread).
    A name that is taken raises ProfileStoreError (EXISTS) unless ``replace_existing``: the Save page asks."""
    from dataclasses import replace

    from app.core.oauth import oauth_profile, save_oauth_account
    from app.core.store import normalize_name

    account, grant = model.oauth
    profile = oauth_profile(
        normalize_name(name), model.provider, account, settings.username, settings=settings, from_addr=model.email
    )
    return save_oauth_account(replace(profile, from_name=model.from_name), grant, replace_existing=replace_existing)

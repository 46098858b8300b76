"""Step 3: sender, login, password and (under Advanced) server, port, security, TLS, proxy."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from app.core.catalog import ProviderKind
from app.core.model import (
    DEFAULT_PORTS,
    AuthMechanism,
    Security,
    SmtpSettings,
    TlsMinimum,
)
from app.ui.wizard.ids import PageId
from app.ui.wizard.pages.account.checks import AccountChecks
from app.ui.wizard.pages.account.form import AccountForm
from app.ui.wizard.pages.account.sandbox import AccountSandbox
from app.ui.wizard.pages.base import LazyPage

log = logging.getLogger(__name__)


def set_text(w: QLineEdit, text: str) -> None:
    """Set ``text`` unless the field already says it (keeps the cursor where the user is)."""
    if w.text() != text:
        w.setText(text)


def wrap_hex(sha256: str) -> str:
    """A SHA-256 fingerprint as colon pairs in two lines of 16, so it wraps in narrow windows."""
    pairs = [sha256[i : i + 2].upper() for i in range(0, len(sha256), 2)]
    return ":".join(pairs[:16]) + ("\n" + ":".join(pairs[16:]) if len(pairs) > 16 else "")


class AccountPage(AccountForm, AccountSandbox, AccountChecks, LazyPage):
    def __init__(self, wizard: Any):
        super().__init__(wizard, "page_account")

    # -- helpers -----------------------------------------------------------------------------
    def provider(self) -> Any:
        return self._wizard.model.provider

    def _toggle_password(self, shown: bool) -> None:
        self.password.setEchoMode(QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)

    def _toggle_advanced(self, shown: bool) -> None:
        self.advanced_box.setVisible(shown)
        self.advanced.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)

    def _pick_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a CA certificate"), "", self.tr("Certificates (*.pem *.crt *.cer);;All files (*)")
        )
        if path:
            self.ca_file.setText(path)
            self._edited("tls.cafile")

    def _security_changed(self, *_: Any) -> None:
        if not self._rendering:
            # the usual port follows the mode: 465 <-> 587 (any other port is the user's own choice)
            sec = Security(self.security.currentData())
            other = {Security.SSL: 587, Security.STARTTLS: 465}.get(sec)
            if other is not None and self.port.text().strip() == str(other):
                self.port.setText(str(DEFAULT_PORTS[sec]))
        self._edited("security")

    def _security_mismatch(self) -> str:
        """A warning when the port usually expects the other security mode ("" when they fit)."""
        try:
            port = int(self.port.text().strip())
        except ValueError:
            return ""
        sec = Security(self.security.currentData())
        if sec is Security.STARTTLS and port == 465:
            return self.tr("Port 465 usually expects SSL/TLS from the start; with STARTTLS the check will likely hang.")
        if sec is Security.SSL and port in (25, 587, 2525):
            return self.tr("Port {port} usually expects STARTTLS; with SSL/TLS the handshake will likely fail.").format(
                port=port
            )
        return ""

    def _render_pins(self) -> None:
        """List every trusted certificate (host, port, fingerprint) with a Forget button."""
        from app.ui.widgets.form_rows import clear_layout

        clear_layout(self.pins_layout)
        self.forget_buttons = []
        for n, ((host, port), sha) in enumerate(sorted(self.model.pins.items()), 1):
            row = QHBoxLayout()
            label = QLabel(
                self.tr("Trusted for {host}:{port}: SHA-256 {fp}").format(host=host, port=port, fp=wrap_hex(sha)),
                objectName=f"trusted_certificate_{n}",
            )
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            forget = QPushButton(self.tr("Forget"), objectName=f"forget_pin_{n}")
            forget.setAccessibleName(
                self.tr("Forget the trusted certificate of {host}:{port}").format(host=host, port=port)
            )
            forget.clicked.connect(lambda _=False, h=host, p=port: self.model.forget_pin(h, p))
            row.addWidget(label, 1)
            row.addWidget(forget)
            holder = QWidget()
            holder.setLayout(row)
            self.pins_layout.addWidget(holder)
            self.forget_buttons.append(forget)
        self.pins_box.setVisible(bool(self.model.pins))

    def _edited(self, name: str) -> None:
        self._touched.add(name)
        self.model.dirty = True
        self._validate()

    def password_value(self) -> str:
        """The password as it will be used (app-password spaces removed when the provider says so)."""
        text = self.password.text()
        p = self.provider()
        if p is not None and getattr(p, "strip_password_spaces", False):
            text = "".join(text.split())
        return text

    # -- filling -------------------------------------------------------------------------------
    @property
    def model(self) -> Any:
        return self._wizard.model

    def on_enter(self) -> None:
        model = self.model
        p = self.provider()
        key = (getattr(p, "id", None), model.email)
        if key != self._filled_key or model.settings is None:
            self._filled_key = key
            self._fill_from(model, p)
        self._entered = True
        self.render()
        self._update_provider_texts()
        self._validate()
        # after QWizard has put the focus on the page itself
        QTimer.singleShot(0, self.focus_first_empty)

    def focus_first_empty(self) -> None:
        """Put the cursor where the user has to type first (the first empty field, else the password)."""
        if not self.isVisible():
            return
        fields = [self.from_address, self.username, self.password]
        if self.advanced.isChecked():
            fields.insert(2, self.host)
        target = next((w for w in fields if not w.text()), self.password)
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def _fill_from(self, model: Any, p: Any) -> None:
        """Start the model's settings from the loaded/found settings, or the provider's defaults."""
        email = model.email
        kind = getattr(p, "kind", ProviderKind.CUSTOM)
        self.sandbox_status.setVisible(kind is ProviderKind.SANDBOX)
        self.view_inbox.setVisible(kind is ProviderKind.SANDBOX)
        if kind is ProviderKind.SANDBOX:
            self._fill_sandbox()
            return
        s = model.prefill
        if s is None and p is not None and p.smtp:
            ep = p.smtp[0]
            s = SmtpSettings(host=ep.host, port=ep.port, security=Security(ep.security))
        elif s is None:
            s = SmtpSettings(host="", port=DEFAULT_PORTS[Security.STARTTLS], security=Security.STARTTLS)
        if model.settings is not None:  # same provider, new address: keep what was typed
            s = model.settings
        username = s.username
        if model.prefill_username is not None:
            username = model.prefill_username
        elif p is not None and email:
            username = p.username_for(email)
        model.set_settings(replace(s, username=username))
        if model.prefill_password:
            model.set_password(model.prefill_password)
        if kind is ProviderKind.CUSTOM:
            self.advanced.setChecked(True)  # the server fields are the point for a custom server

    def render(self, source: Any = None) -> None:
        """Show the model's settings, password and sender in the fields (skips the page's own echo)."""
        if source is self or not self.built:
            return
        model = self.model
        s = model.settings
        self._rendering = True
        try:
            set_text(self.from_address, model.email)
            set_text(self.from_name, model.from_name)
            set_text(self.password, model.password)
            if s is not None:
                self.apply_settings(s)
            self._validate()
        finally:
            self._rendering = False

    def apply_settings(self, s: SmtpSettings) -> None:
        """Put ``s`` into the fields."""
        set_text(self.host, s.host)
        set_text(self.port, str(s.port) if s.port > 0 else self.port.text())
        self._set_security(s.security)
        set_text(self.username, s.username)
        self.auth.setCurrentIndex(max(0, self.auth.findData(s.auth.value)))
        self.timeout_connect.setValue(s.timeouts.connect)
        self.timeout_total.setValue(s.timeouts.total)
        self.tls_minimum.setCurrentIndex(max(0, self.tls_minimum.findData(s.tls.minimum.value)))
        set_text(self.ca_file, s.tls.cafile or "")
        self.pinned.setVisible(bool(s.tls.pinned_sha256))
        self._retranslate_pinned()
        self._render_pins()
        set_text(self.proxy, s.proxy or "")
        self.allow_plain.setChecked(s.allow_plain_auth)

    def _set_security(self, sec: Security) -> None:
        self.security.setCurrentIndex(max(0, self.security.findData(sec.value)))

    # -- settings and validation ------------------------------------------------------------
    def current_settings(self) -> SmtpSettings:
        """The model's settings with what the fields say (may be invalid: see ``field_errors``)."""
        try:
            port = int(self.port.text().strip())
        except ValueError:
            port = -1
        base = self.model.settings or SmtpSettings(host="", port=port, security=Security.STARTTLS)
        return replace(
            base,
            host=self.host.text().strip(),
            port=port,
            security=Security(self.security.currentData()),
            username=self.username.text().strip(),
            auth=AuthMechanism(self.auth.currentData()),
            timeouts=replace(base.timeouts, connect=self.timeout_connect.value(), total=self.timeout_total.value()),
            tls=replace(
                base.tls,
                minimum=TlsMinimum(self.tls_minimum.currentData()),
                cafile=self.ca_file.text().strip() or None,
            ),
            proxy=self.proxy.text().strip() or None,
            allow_plain_auth=self.allow_plain.isChecked(),
        )

    def write_model(self) -> None:
        """Put what the fields say into the model (the page is the source of this change)."""
        model = self.model
        model.email = self.from_address.text().strip()
        model.from_name = self.from_name.text().strip()
        model.set_settings(self.current_settings(), self)
        model.set_password(self.password_value(), self)

    def isComplete(self) -> bool:
        if not self.built:
            return False
        return not self._sandbox_pending and not self.field_errors()

    def validatePage(self) -> bool:
        errs = self.field_errors()
        if errs:
            self._touched.update(errs)
            self._validate()
            return False
        self.write_model()
        return True

    def nextId(self) -> int:
        return int(PageId.CHECK)

    # -- i18n ------------------------------------------------------------------------------
    def _update_provider_texts(self) -> None:
        p = self.provider()
        kind = getattr(p, "password_kind", None)
        from app.core.catalog import PasswordKind

        if kind is PasswordKind.API_KEY:
            self.labels["password"].setText(self.tr("API &key:"))
        elif kind is PasswordKind.APP_PASSWORD and getattr(p, "kind", None) is ProviderKind.PRESET:
            self.labels["password"].setText(self.tr("App &password:"))
        else:
            self.labels["password"].setText(self.tr("&Password:"))
        self.password.setAccessibleName(self.labels["password"].text().replace("&", "").rstrip(":"))
        name = p.display_name(self._wizard.lang) if p is not None else ""
        pkind = getattr(p, "kind", ProviderKind.CUSTOM)
        if pkind is ProviderKind.SANDBOX:
            self.setSubTitle(self.tr("Everything is filled in for the local sandbox; just press Next."))
        elif pkind is ProviderKind.CUSTOM or not name:
            self.setSubTitle(self.tr("Type your server's settings; your provider or administrator has them."))
        else:
            self.setSubTitle(
                self.tr(
                    "Account at {name}. Server settings are filled in; change them under Advanced if needed."
                ).format(name=name)
            )

    def _retranslate_pinned(self) -> None:
        s = self.model.settings
        pin = s.tls.pinned_sha256 if s is not None else None
        if pin:
            self.pinned.setText(self.tr("Trusted certificate (SHA-256): {fp}").format(fp=wrap_hex(pin)))

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Your account"))
        texts = {
            "from_address": self.tr("Sender add&ress:"),
            "from_name": self.tr("&Display name:"),
            "username": self.tr("Lo&gin:"),
            "password": self.tr("&Password:"),
            "host": self.tr("SMTP &server:"),
            "port": self.tr("P&ort:"),
            "security": self.tr("Securit&y:"),
            "auth": self.tr("A&uthentication:"),
            "timeouts.connect": self.tr("&Connect timeout, s:"),
            "timeouts.total": self.tr("&Total timeout, s:"),
            "tls.minimum": self.tr("&Minimum TLS version:"),
            "tls.cafile": self.tr("CA &file:"),
            "proxy": self.tr("Pro&xy URL:"),
        }
        for name, text in texts.items():
            self.labels[name].setText(text)
            buddy = self.labels[name].buddy()
            if buddy is not None:
                buddy.setAccessibleName(text.replace("&", "").rstrip(":"))
        self.from_address.setPlaceholderText(self.tr("name@example.com"))
        self.from_name.setPlaceholderText(self.tr("Optional, e.g. Support team"))
        self.host.setPlaceholderText(self.tr("smtp.example.com"))
        self.proxy.setPlaceholderText(self.tr("Optional, e.g. socks5://127.0.0.1:1080"))
        self.ca_file.setPlaceholderText(self.tr("Optional: a PEM file with your own CA"))
        self.show_password.setText(self.tr("Sho&w"))
        self.show_password.setToolTip(self.tr("Show or hide the password"))
        self.show_password.setAccessibleName(self.tr("Show password"))
        sec_names = {
            "ssl": self.tr("SSL/TLS from the start (usually port 465)"),
            "starttls": self.tr("STARTTLS (usually port 587)"),
            "none": self.tr("None — unencrypted (not recommended)"),
        }
        for i in range(self.security.count()):
            self.security.setItemText(i, sec_names[self.security.itemData(i)])
        auth_names = {
            "auto": self.tr("Automatic (strongest offered)"),
            "plain": "PLAIN",
            "login": "LOGIN",
            "cram-md5": "CRAM-MD5",
            "xoauth2": self.tr("XOAUTH2 (OAuth2 token as password)"),
        }
        for i in range(self.auth.count()):
            self.auth.setItemText(i, auth_names.get(self.auth.itemData(i), self.auth.itemData(i)))
        self.browse_ca.setText(self.tr("Brows&e…"))
        self.browse_ca.setAccessibleName(self.tr("Choose a CA file"))
        self.allow_plain.setText(self.tr("Allow the password w&ithout encryption"))
        self.allow_plain_warning.setText(
            self.tr("Warning: anyone on the network path can read the password. Use only on a trusted local network.")
        )
        self.advanced.setText(self.tr("&Advanced: server, port, security, TLS, proxy"))
        self.view_inbox.setText(self.tr("&View sandbox inbox"))
        self._update_provider_texts()
        self._retranslate_pinned()
        self._validate()

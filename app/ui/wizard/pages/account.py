"""Step 3: sender, login, password and (under Advanced) server, port, security, TLS, proxy."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog import ProviderKind
from app.core.model import (
    DEFAULT_PORTS,
    AuthMechanism,
    Security,
    SmtpSettings,
    Timeouts,
    TlsMinimum,
)
from app.core.smtp import is_valid_address
from app.ui.widgets.form_rows import FieldMessage, add_validated_row, scrolled
from app.ui.widgets.oauth_sign_in_box import OAuthSignInBox
from app.ui.wizard.ids import PageId
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


class AccountPage(LazyPage):
    def __init__(self, wizard: Any):
        super().__init__(wizard, "page_account")

    def build(self) -> None:
        self._filled_key: Any = None
        self._touched: set[str] = set()
        self._sandbox_pending = False
        self._rendering = False
        self._entered = False  # the fields write the model once they have been filled from it
        self.messages: dict[str, FieldMessage] = {}
        self.labels: dict[str, QLabel] = {}

        self._build_account_fields()
        self._build_advanced_fields()
        self._build_advanced_toggle()
        self._build_layout()

    def _line(self, name: str, echo: QLineEdit.EchoMode = QLineEdit.EchoMode.Normal) -> QLineEdit:
        w = QLineEdit(objectName=name)
        w.setEchoMode(echo)
        w.textEdited.connect(lambda *_: self._edited(name))
        return w

    def _build_account_fields(self) -> None:
        self.from_address = self._line("from_address")
        self.from_name = self._line("from_name")
        self.username = self._line("username")
        self.password = self._line("password", QLineEdit.EchoMode.Password)
        # one show-password control: a checkbox (reachable by keyboard, unlike an icon in the field)
        self.show_password = QCheckBox(objectName="show_password")
        self.show_password.toggled.connect(self._toggle_password)
        self.password_hint = QLabel(objectName="password_hint")
        self.password_hint.setWordWrap(True)

    def _build_advanced_fields(self) -> None:
        self.host = self._line("host")
        self.port = self._line("port")
        self.port.setMaximumWidth(110)
        self.security = QComboBox(objectName="security")
        for sec in (Security.SSL, Security.STARTTLS, Security.NONE):
            self.security.addItem("", sec.value)
        self.security.currentIndexChanged.connect(self._security_changed)
        self.auth = QComboBox(objectName="auth")
        for mech in AuthMechanism:
            self.auth.addItem("", mech.value)
        self.auth.currentIndexChanged.connect(lambda *_: self._edited("auth"))
        for combo in (self.security, self.auth):
            # long (translated) choices must not widen the page beyond 800 px: the combo shrinks,
            # its list shows the full texts
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(18)
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)  # use the row's width
        self.timeout_connect = QDoubleSpinBox(objectName="timeout_connect")
        self.timeout_total = QDoubleSpinBox(objectName="timeout_total")
        for spin, value in ((self.timeout_connect, Timeouts().connect), (self.timeout_total, Timeouts().total)):
            spin.setRange(0.1, 600.0)
            spin.setDecimals(1)
            spin.setValue(value)
            spin.valueChanged.connect(lambda *_: self._validate())
        self.tls_minimum = QComboBox(objectName="tls_minimum")
        for m in TlsMinimum:
            self.tls_minimum.addItem(f"TLS {m.value}", m.value)
        self.ca_file = self._line("ca_file")
        self.browse_ca = QPushButton(objectName="browse_ca_file")
        self.browse_ca.clicked.connect(self._pick_ca)
        self.proxy = self._line("proxy")
        self.allow_plain = QCheckBox(objectName="allow_plain")
        self.allow_plain.toggled.connect(lambda *_: self._edited("allow_plain"))
        self.allow_plain_warning = QLabel(objectName="allow_plain_warning")
        self.allow_plain_warning.setWordWrap(True)
        self.allow_plain_warning.hide()
        self.pinned = QLabel(objectName="pinned_certificate")  # the pin of the current host and port
        self.pinned.setWordWrap(True)
        self.pinned.hide()
        self.pins_box = QWidget(objectName="trusted_certificates")  # every pin, each with Forget
        self.pins_layout = QVBoxLayout(self.pins_box)
        self.pins_layout.setContentsMargins(0, 0, 0, 0)
        self.forget_buttons: list[QPushButton] = []
        self.security_warning = QLabel(objectName="security_warning")
        self.security_warning.setWordWrap(True)
        self.security_warning.hide()

    def _build_advanced_toggle(self) -> None:
        self.advanced = QToolButton(objectName="advanced")
        self.advanced.setCheckable(True)
        self.advanced.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advanced.setArrowType(Qt.ArrowType.RightArrow)
        self.advanced.toggled.connect(self._toggle_advanced)
        self.advanced_box = QFrame(objectName="advanced_box")
        self.advanced_box.setFrameShape(QFrame.Shape.StyledPanel)

        self.sandbox_status = QLabel(objectName="sandbox_status")
        self.sandbox_status.setWordWrap(True)
        self.sandbox_status.hide()
        self.view_inbox = QPushButton(objectName="view_sandbox_inbox")
        self.view_inbox.clicked.connect(self.open_sandbox_inbox)
        self.view_inbox.hide()

    def _build_layout(self) -> None:
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self._add_row(form, "from_address", self.from_address)
        self._add_row(form, "from_name", self.from_name)
        self._add_row(form, "username", self.username)
        pw_row = QHBoxLayout()
        pw_row.addWidget(self.password, 1)
        pw_row.addWidget(self.show_password)
        self._add_row(form, "password", pw_row, buddy=self.password)
        form.addRow("", self.password_hint)

        self._layout_advanced()
        self._layout_page(form)

    def _layout_advanced(self) -> None:
        adv = QFormLayout(self.advanced_box)
        adv.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self._add_row(adv, "host", self.host)
        self._add_row(adv, "port", self.port)
        self._add_row(adv, "security", self.security)
        adv.addRow("", self.security_warning)
        self._add_row(adv, "auth", self.auth)
        self._add_row(adv, "timeouts.connect", self.timeout_connect)
        self._add_row(adv, "timeouts.total", self.timeout_total)
        self._add_row(adv, "tls.minimum", self.tls_minimum)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_file, 1)
        ca_row.addWidget(self.browse_ca)
        self._add_row(adv, "tls.cafile", ca_row, buddy=self.ca_file)
        self._add_row(adv, "proxy", self.proxy)
        adv.addRow("", self.allow_plain)
        adv.addRow("", self.allow_plain_warning)
        adv.addRow("", self.pinned)
        adv.addRow("", self.pins_box)
        self.advanced_box.hide()

    def _layout_page(self, form: QFormLayout) -> None:
        sandbox_row = QHBoxLayout()
        sandbox_row.addWidget(self.sandbox_status, 1)
        sandbox_row.addWidget(self.view_inbox)
        inner = QWidget()
        inner_lay = QVBoxLayout(inner)
        inner_lay.addLayout(sandbox_row)
        self.oauth_box = OAuthSignInBox(self.model, self._wizard.bridge, lambda: self._wizard.lang, self)
        inner_lay.addWidget(self.oauth_box)  # "Sign in with <provider>…" where the catalogue has [oauth]
        inner_lay.addLayout(form)
        inner_lay.addWidget(self.advanced, 0, Qt.AlignmentFlag.AlignLeft)
        inner_lay.addWidget(self.advanced_box)
        inner_lay.addStretch(1)
        scroll = scrolled(inner, "account_scroll")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(scroll)
        self.model.settings_changed.connect(self.render)
        self.model.pins_changed.connect(self._render_pins)
        self.retranslate_ui()

    def _add_row(self, form: QFormLayout, name: str, field: Any, *, buddy: QWidget | None = None) -> None:
        add_validated_row(form, name, field, self.labels, self.messages, buddy=buddy)

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

    def field_errors(self) -> dict[str, str]:
        """Field name -> a specific, translated message; empty when the page is usable."""
        s = self.current_settings()
        errs: dict[str, str] = {}
        for e in s.errors():
            if e.field == "host":
                errs["host"] = (
                    self.tr("Enter the SMTP server name, for example smtp.example.com.")
                    if not s.host
                    else self.tr("“{host}” is not a valid server name or IP address.").format(host=s.host)
                )
            elif e.field == "port":
                errs["port"] = self.tr("The port is a whole number from 1 to 65535 (usually 465 or 587).")
            elif e.field == "username":
                errs["username"] = self.tr("The login must not contain line breaks.")
            elif e.field.startswith("timeouts."):
                errs[e.field] = self.tr("A timeout must be between 0 and 600 seconds.")
            else:
                errs.setdefault(e.field, e.message)
        addr = self.from_address.text().strip()
        if not addr:
            errs["from_address"] = self.tr("Enter the address the messages come from.")
        elif not is_valid_address(addr):
            errs["from_address"] = self.tr(
                "“{addr}” is not an e-mail address (it needs a name, @ and a domain)."
            ).format(addr=addr)
        password = self.password_value()
        if s.username and not password:
            errs["password"] = self.tr("Enter the password for this login (or clear the login to test without one).")
        elif password and not s.username:
            errs["username"] = self.tr("Enter the login that goes with this password.")
        if s.security is Security.NONE and password and not s.allow_plain_auth:
            errs["security"] = self.tr(
                "Without encryption the password would travel readable. Choose SSL or STARTTLS, "
                "or allow it explicitly under Advanced."
            )
        ca = s.tls.cafile
        if ca:
            from pathlib import Path

            if not Path(ca).is_file():
                errs["tls.cafile"] = self.tr("The CA file “{path}” does not exist.").format(path=ca)
        proxy = s.proxy
        if proxy and "://" not in proxy:
            errs["proxy"] = self.tr("A proxy URL looks like socks5://host:1080 or http://host:3128.")
        return errs

    def _validate(self) -> None:
        errs = self.field_errors()
        # pre-filled fields count as touched so their problems show at once
        for name, w in (("host", self.host), ("port", self.port), ("from_address", self.from_address)):
            if w.text():
                self._touched.add(name)
        for name, msg in self.messages.items():
            show = (
                name in self._touched
                or name in ("security", "tls.cafile", "proxy")
                or (name == "password" and "username" in self._touched)
            )
            msg.set_message(errs.get(name, "") if show else "")
        if (
            any(
                k in errs
                for k in (
                    "host",
                    "port",
                    "security",
                    "auth",
                    "tls.cafile",
                    "proxy",
                    "timeouts.connect",
                    "timeouts.total",
                )
            )
            and not self.advanced.isChecked()
            and self._touched & {"host", "port", "security"}
        ):
            self.advanced.setChecked(True)
        self._update_password_hint()
        self.allow_plain_warning.setVisible(self.allow_plain.isChecked())
        mismatch = self._security_mismatch()
        self.security_warning.setText(mismatch)
        self.security_warning.setVisible(bool(mismatch))
        if self._entered and not self._rendering:
            self.write_model()
        s = self.model.settings
        self.pinned.setVisible(bool(s is not None and s.tls.pinned_sha256))
        self._retranslate_pinned()
        self.completeChanged.emit()

    def _update_password_hint(self) -> None:
        p = self.provider()
        raw = self.password.text()
        if p is not None and getattr(p, "strip_password_spaces", False) and any(c.isspace() for c in raw):
            self.password_hint.setText(
                self.tr("Spaces in the app password are removed: {provider} ignores them.").format(
                    provider=p.display_name(self._wizard.lang)
                )
            )
        elif raw != raw.strip():
            self.password_hint.setText(self.tr("Note: the password starts or ends with a space."))
        else:
            self.password_hint.setText("")
        self.password_hint.setVisible(bool(self.password_hint.text()))

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

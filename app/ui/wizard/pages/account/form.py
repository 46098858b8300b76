"""The Account page's widgets and layout: account fields, Advanced (server, security, timeouts, TLS, proxy)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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

from app.core.model import (
    AuthMechanism,
    Security,
    Timeouts,
    TlsMinimum,
)
from app.ui.widgets.form_rows import FieldMessage, add_validated_row, scrolled
from app.ui.widgets.oauth_sign_in_box import OAuthSignInBox


class AccountForm:
    """Part of AccountPage (see __init__.py); a mixin: it uses the page's widgets and model."""

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

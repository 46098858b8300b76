"""The Account page's field messages: what is wrong with each field, shown beside it, and the password hint."""

from __future__ import annotations

from app.core.model import (
    Security,
)
from app.core.smtp import is_valid_address


class AccountChecks:
    """Part of AccountPage (see __init__.py); a mixin: it uses the page's widgets and model."""

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

"""The server's certificate, with an explicit button to trust exactly this one (the Check page)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget


def local_date(value: Any) -> str:
    """An ISO date/time (or datetime) in the UI language's short date format; the raw text when unparsable."""
    from datetime import datetime

    from PySide6.QtCore import QDate, QLocale

    try:
        dt = value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    from app.ui import i18n

    return QLocale(i18n.current_language()).toString(QDate(dt.year, dt.month, dt.day), QLocale.FormatType.LongFormat)


class CertificateBox(QFrame):
    """The server's certificate, and an explicit button to trust exactly this one (pin by SHA-256)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("certificate_box")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.details = None
        self.caption = QLabel()
        f = self.caption.font()
        f.setBold(True)
        self.caption.setFont(f)
        self.text = QLabel(objectName="certificate_details")
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.trust = QPushButton(objectName="trust_certificate")
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.trust)
        lay = QVBoxLayout(self)
        lay.addWidget(self.caption)
        lay.addWidget(self.text)
        lay.addWidget(self.warning)
        lay.addLayout(row)
        self.hide()
        self.retranslate_ui()

    def show_details(self, details: Any, *, trustable: bool = True) -> None:
        """Show ``details``; ``trustable`` False (an expired certificate) offers no Trust button."""
        self.details = details
        self.trust.setVisible(trustable)
        self.warning.setVisible(trustable)
        self.retranslate_ui()
        self.setVisible(details is not None)

    def retranslate_ui(self) -> None:
        self.caption.setText(self.tr("The server's certificate"))
        self.trust.setText(self.tr("&Trust this certificate"))
        self.trust.setAccessibleName(self.tr("Trust this certificate"))
        self.warning.setText(
            self.tr(
                "Trust it only if you know this server uses a self-signed or private certificate. "
                "The check will then accept exactly this certificate and nothing else."
            )
        )
        d = self.details
        if d is None:
            return
        pairs = [d.sha256[i : i + 2].upper() for i in range(0, len(d.sha256), 2)]
        rows = [
            (self.tr("Subject"), d.subject),
            (self.tr("Issuer"), d.issuer),
            (self.tr("Names"), ", ".join(d.sans) or "—"),
            (
                self.tr("Valid"),
                self.tr("{start} to {end}").format(start=local_date(d.not_before), end=local_date(d.not_after)),
            ),
        ]
        import html

        # the fingerprint in two lines of 16 pairs: one unbroken 95-character line would not fit
        fp = "<br>".join(html.escape(":".join(pairs[i : i + 16])) for i in range(0, len(pairs), 16))
        self.text.setText(
            "<table>"
            + "".join(
                f"<tr><td><b>{html.escape(k)}:</b>&nbsp;</td><td>{html.escape(str(v))}</td></tr>" for k, v in rows
            )
            + f"<tr><td><b>{html.escape(self.tr('SHA-256'))}:</b>&nbsp;</td><td><tt>{fp}</tt></td></tr>"
            + "</table>"
        )

"""The sandbox inbox: a live list of the messages the local test server received, and a reader for one.

The sandbox calls its listeners from its own server thread; ``_InboxRelay`` turns each call into
a Qt signal queued to the GUI thread, so widgets are only ever touched from the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.core.sandbox import ReceivedMessage, SandboxServer

log = logging.getLogger(__name__)

_ID_ROLE = Qt.ItemDataRole.UserRole


class _InboxRelay(QObject):
    """Lives in the GUI thread; ``arrived`` is emitted from the server thread and delivered queued."""

    arrived = Signal(object)

    def __call__(self, message: ReceivedMessage) -> None:  # runs in the sandbox server thread
        try:
            self.arrived.emit(message)
        except RuntimeError:  # the dialog (and this object) is already gone
            pass


def _size_text(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


class SandboxInboxDialog(QDialog):
    """Messages received by the sandbox (from, to, subject, size, attachments), updated live."""

    COLUMNS = 6  # received, from, to, subject, size, attachments

    def __init__(self, server: SandboxServer, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("sandbox_inbox")
        self._server = server
        self._messages: dict[str, ReceivedMessage] = {}

        self._info = QLabel(self)
        self._info.setObjectName("sandbox_info")
        self._info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._info.setWordWrap(True)

        self._table = QTableWidget(0, self.COLUMNS, self)
        self._table.setObjectName("sandbox_messages")
        self._table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self._table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self._table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self._table.verticalHeader().setVisible(False)
        self._table.setWordWrap(False)
        header = self._table.horizontalHeader()
        for col in range(self.COLUMNS):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)  # subject takes the spare width
        self._table.itemSelectionChanged.connect(self._show_selected)

        self._view = QPlainTextEdit(self)
        self._view.setObjectName("sandbox_message_view")
        self._view.setReadOnly(True)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self._table)
        splitter.addWidget(self._view)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)

        self._clear = QPushButton(self)
        self._clear.setObjectName("sandbox_clear")
        self._clear.clicked.connect(self._clear_inbox)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.addButton(self._clear, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self._info)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.resize(820, 560)

        self._relay = _InboxRelay(self)
        self._relay.arrived.connect(self._add_message, Qt.ConnectionType.QueuedConnection)
        relay = self._relay
        server.add_listener(relay)
        self.destroyed.connect(lambda *_: server.remove_listener(relay))
        self.finished.connect(lambda *_: server.remove_listener(relay))

        self._retranslate()
        for message in server.inbox:  # messages that arrived before the dialog opened
            self._add_message(message)

    # -- public --------------------------------------------------------------------------------
    def message_count(self) -> int:
        """Rows in the table."""
        return self._table.rowCount()

    def select_row(self, row: int) -> None:
        """Select one message (shows it below the list)."""
        self._table.selectRow(row)

    # -- texts -----------------------------------------------------------------------------------
    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._retranslate()
        super().changeEvent(event)

    def _retranslate(self) -> None:
        self.setWindowTitle(self.tr("Sandbox inbox"))
        self._table.setHorizontalHeaderLabels(
            [
                self.tr("Received"),
                self.tr("From"),
                self.tr("To"),
                self.tr("Subject"),
                self.tr("Size"),
                self.tr("Attachments"),
            ]
        )
        self._clear.setText(self.tr("Clear list"))
        info = self._server.info
        if info is None:
            self._info.setText(self.tr("The sandbox server is not running."))
        else:
            self._info.setText(
                self.tr(  # one literal: lupdate does not join concatenated strings
                    "Local test server {host}: port {ssl} (SSL/TLS) and {starttls} (STARTTLS), login {user}, password {password}. Messages sent to it are shown here and delivered nowhere."
                ).format(
                    host=info.host,
                    ssl=info.ssl_port,
                    starttls=info.starttls_port,
                    user=info.username,
                    password=info.password,
                )
            )
        self._show_selected()

    # -- slots -----------------------------------------------------------------------------------
    @Slot(object)
    def _add_message(self, message: ReceivedMessage) -> None:
        if message.id in self._messages:
            return
        self._messages[message.id] = message
        row = self._table.rowCount()
        self._table.insertRow(row)
        attachments = ", ".join(f"{name} ({_size_text(size)})" for name, size in message.attachments)
        cells = [
            message.received_at.astimezone().strftime("%H:%M:%S"),
            message.mail_from or "<>",
            ", ".join(message.rcpt_tos),
            message.subject or self.tr("(no subject)"),
            _size_text(message.size),
            attachments,
        ]
        for col, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setData(_ID_ROLE, message.id)
            item.setToolTip(text)
            self._table.setItem(row, col, item)
        self._table.scrollToBottom()
        if self._table.currentRow() < 0:
            self._table.selectRow(row)

    @Slot()
    def _show_selected(self) -> None:
        rows = self._table.selectionModel().selectedRows() if self._table.selectionModel() else []
        if not rows:
            self._view.setPlainText(self.tr("Select a message to read it."))
            return
        item = self._table.item(rows[0].row(), 0)
        message = self._messages.get(item.data(_ID_ROLE)) if item else None
        if message is None:
            self._view.clear()
            return
        self._view.setPlainText(self._render(message))

    def _render(self, message: ReceivedMessage) -> str:
        parsed = message.parsed()
        sender_label = self.tr("Envelope sender")
        recipients_label = self.tr("Envelope recipients")
        lines = [
            f"{sender_label}: {message.mail_from or '<>'}",
            f"{recipients_label}: {', '.join(message.rcpt_tos)}",
            "",
        ]
        for name in ("From", "To", "Cc", "Reply-To", "Subject", "Date", "Message-ID"):
            value = parsed.get(name)
            if value is not None:
                lines.append(f"{name}: {value}")
        lines.append("")
        try:
            body = parsed.get_body(preferencelist=("plain", "html"))
            text = body.get_content() if body is not None else ""
        except (LookupError, ValueError, AttributeError) as exc:
            log.debug("could not decode a sandbox message body: %s", exc)
            text = ""
        lines.append(text.rstrip("\n") if text else self.tr("(no text part)"))
        if message.attachments:
            lines += ["", self.tr("Attachments:")]
            lines += [f"  {name} ({_size_text(size)})" for name, size in message.attachments]
        return "\n".join(lines)

    @Slot()
    def _clear_inbox(self) -> None:
        self._server.clear_inbox()
        self._messages.clear()
        self._table.setRowCount(0)
        self._show_selected()

"""Step 2: how to get the app password / API key at the chosen provider (skipped for custom and sandbox)."""

from __future__ import annotations

import html
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.catalog import PasswordKind
from app.ui.desktop import open_url
from app.ui.widgets.form_rows import clear_layout, scrolled
from app.ui.wizard.ids import PageId
from app.ui.wizard.pages.base import LazyPage

log = logging.getLogger(__name__)


class GuidePage(LazyPage):
    def __init__(self, wizard: Any):
        super().__init__(wizard, "page_guide")

    def build(self) -> None:
        self.link_buttons: list[QPushButton] = []
        self.opened_urls: list[str] = []  # what the link buttons opened (for tests and the log)

        self.prereq = QLabel(objectName="guide_prerequisites")
        self.prereq.setWordWrap(True)
        self.prereq.setFrameShape(QFrame.Shape.StyledPanel)
        self.steps_box = QWidget(objectName="guide_steps")
        self.steps_layout = QVBoxLayout(self.steps_box)
        self.steps_layout.setContentsMargins(0, 0, 0, 0)
        self.result_hint = QLabel(objectName="guide_result_hint")
        self.result_hint.setWordWrap(True)
        self.tips = QLabel(objectName="guide_tips")
        self.tips.setWordWrap(True)
        inner = QWidget()
        inner_lay = QVBoxLayout(inner)
        inner_lay.addWidget(self.prereq)
        inner_lay.addWidget(self.steps_box)
        inner_lay.addWidget(self.result_hint)
        inner_lay.addWidget(self.tips)
        inner_lay.addStretch(1)
        scroll = scrolled(inner, "guide_scroll")
        self.confirm = QCheckBox(objectName="password_created")
        self.confirm.toggled.connect(lambda *_: self.completeChanged.emit())
        self.already_have = QPushButton(objectName="already_have_password")
        self.already_have.clicked.connect(self._already_have)
        # shown when the browser cannot be opened: the address to copy by hand
        self.link_failed = QLabel(objectName="link_failed")
        self.link_failed.setWordWrap(True)
        self.link_failed.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_link = QPushButton(objectName="copy_link")
        self.copy_link.clicked.connect(self._copy_failed_url)
        self.failed_url = ""
        failed_row = QHBoxLayout()
        failed_row.addWidget(self.link_failed, 1)
        failed_row.addWidget(self.copy_link)
        self.link_failed.hide()
        self.copy_link.hide()
        confirm_row = QHBoxLayout()
        confirm_row.addWidget(self.confirm, 1)
        confirm_row.addWidget(self.already_have)
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addLayout(failed_row)
        lay.addLayout(confirm_row)
        self.retranslate_ui()

    def provider(self) -> Any:
        return self._wizard.model.provider

    def _kind(self) -> PasswordKind:
        p = self.provider()
        return p.password_kind if p is not None else PasswordKind.APP_PASSWORD

    def on_enter(self) -> None:
        self.confirm.setChecked(False)
        self._build()

    def _clear_steps(self) -> None:
        self.link_buttons = []
        clear_layout(self.steps_layout)

    def _build(self) -> None:
        self._clear_steps()
        p = self.provider()
        if p is None:
            return
        lang = self._wizard.lang
        cap_pre = html.escape(self.tr("Before you start:"))
        cap_res = html.escape(self.tr("What you get:"))
        cap_tips = html.escape(self.tr("Good to know:"))
        guide = p.guide.get(lang) or p.guide.get("en")
        if guide is not None and guide.prerequisites:
            items = "".join(f"<li>{html.escape(x)}</li>" for x in guide.prerequisites)
            self.prereq.setText(f"<b>{cap_pre}</b><ul>{items}</ul>")
            self.prereq.show()
        else:
            self.prereq.hide()
        steps = guide.steps if guide is not None else ()
        for n, step in enumerate(steps, 1):
            row = QHBoxLayout()
            label = QLabel(f"{n}. {step.text}", objectName=f"guide_step_{n}")
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setWordWrap(True)
            row.addWidget(label, 1)
            if step.link:
                button = QPushButton(objectName=f"open_link_{n}")
                text = step.link_label or self.tr("Open page")
                button.setText(text)
                button.setToolTip(step.link)
                button.setAccessibleName(text)
                button.clicked.connect(lambda _=False, url=step.link: self._open(url))
                row.addWidget(button)
                self.link_buttons.append(button)
            holder = QWidget()
            holder.setLayout(row)
            self.steps_layout.addWidget(holder)
        extra_links = [u for role, u in sorted(p.links.items()) if u not in {s.link for s in steps}]
        if not steps and extra_links:
            for n, url in enumerate(extra_links, 1):
                button = QPushButton(url, objectName=f"open_link_{n}")
                button.clicked.connect(lambda _=False, u=url: self._open(u))
                self.steps_layout.addWidget(button)
                self.link_buttons.append(button)
        hint = guide.result_hint if guide is not None else ""
        self.result_hint.setText(f"<b>{cap_res}</b> {html.escape(hint)}" if hint else "")
        self.result_hint.setVisible(bool(hint))
        tips = p.tips_for(lang)
        if tips:
            items = "".join(f"<li>{html.escape(t)}</li>" for t in tips)
            self.tips.setText(f"<b>{cap_tips}</b><ul>{items}</ul>")
        self.tips.setVisible(bool(tips))
        self._retranslate_kind()

    def _open(self, url: str) -> None:
        self.opened_urls.append(url)
        opened = open_url(url)
        self.failed_url = "" if opened else url
        self.link_failed.setVisible(not opened)
        self.copy_link.setVisible(not opened)
        self._retranslate_failed()

    def _retranslate_failed(self) -> None:
        if self.failed_url:
            self.link_failed.setText(
                self.tr("The browser could not be opened. Open this address yourself: {url}").format(
                    url=self.failed_url
                )
            )

    def _copy_failed_url(self) -> None:
        from PySide6.QtGui import QGuiApplication

        QGuiApplication.clipboard().setText(self.failed_url)
        self.copy_link.setText(self.tr("Copied"))

    def _already_have(self) -> None:
        """Someone who already has an app password goes straight on to type it."""
        self.confirm.setChecked(True)
        self._wizard.next()

    def _retranslate_kind(self) -> None:
        p = self.provider()
        name = p.display_name(self._wizard.lang) if p is not None else ""
        kind = self._kind()
        if kind is PasswordKind.API_KEY:
            self.setTitle(self.tr("Create an API key at {name}").format(name=name))
            self.setSubTitle(
                self.tr("{name} does not take your account password for SMTP: it takes an API key.").format(name=name)
            )
            self.confirm.setText(self.tr("I have &created the API key and copied it"))
        elif kind is PasswordKind.GENERATED:
            self.setTitle(self.tr("Copy the SMTP credentials from {name}").format(name=name))
            self.setSubTitle(self.tr("{name} generates a login and a password for you; copy both.").format(name=name))
            self.confirm.setText(self.tr("I have &copied the generated login and password"))
        elif kind is PasswordKind.ACCOUNT_PASSWORD:
            self.setTitle(self.tr("Prepare your password for {name}").format(name=name))
            self.setSubTitle(
                self.tr("{name} accepts your mailbox password once SMTP access is enabled.").format(name=name)
            )
            self.confirm.setText(self.tr("I have &enabled SMTP access"))
        else:
            self.setTitle(self.tr("Create an app password at {name}").format(name=name))
            self.setSubTitle(
                self.tr("{name} rejects your normal password in mail programs. Create a separate app password.").format(
                    name=name
                )
            )
            self.confirm.setText(self.tr("I have &created the password"))
        self.confirm.setAccessibleName(self.confirm.text().replace("&", ""))
        self.already_have.setText(self.tr("I &already have one"))
        self.copy_link.setText(self.tr("Cop&y the address"))
        self._retranslate_failed()

    def isComplete(self) -> bool:
        if not self.built:
            return False
        return self.confirm.isChecked()

    def nextId(self) -> int:
        return int(PageId.ACCOUNT)

    def retranslate_ui(self) -> None:
        if self.provider() is not None:
            checked = self.confirm.isChecked()
            self._build()
            self.confirm.setChecked(checked)
        else:
            self._retranslate_kind()

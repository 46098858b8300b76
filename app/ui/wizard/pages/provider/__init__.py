"""Step 1: pick the provider (presets, custom server, local sandbox), type the address, optionally autodetect."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QSize, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QStyledItemDelegate,
    QVBoxLayout,
    QWizardPage,
)

from app.ui.desktop import settings_store
from app.ui.widgets.provider_extras import ProviderSearch, RegionBox, audience_label
from app.ui.wizard.ids import PageId
from app.ui.wizard.pages.base import DynamicTexts
from app.ui.wizard.pages.provider.detection import ProviderDetection, email_domain

if TYPE_CHECKING:  # the list is filled from the catalogue's entries; its model loads when a provider is needed
    from app.core.catalog import Provider, ProviderEntry

log = logging.getLogger(__name__)

# Qt.ItemDataRole.UserRole as its number: touching the Qt namespace at start-up creates all of its
# Python enums (~20 ms); the first page avoids it, later pages use Qt freely.
ID_ROLE = 0x0100
MX_DEBOUNCE_MS = 600


def fallback_custom() -> Provider:
    """A Custom-server provider for when the catalogue is unavailable."""
    from app.core.catalog import Provider, ProviderKind

    return Provider(id="custom", kind=ProviderKind.CUSTOM, name={"en": "Custom server", "ru": "Свой сервер"})


def badge_letter(entry: ProviderEntry) -> str:
    """What a provider's badge shows: "@" for Custom server, "#" for the sandbox, else its initial."""
    return {"custom": "@", "sandbox": "#"}.get(entry.kind, entry.display_name("en"))


class BadgeDelegate(QStyledItemDelegate):
    """Gives each row of the provider list its letter badge as the row is painted.

    Only the rows in view are painted, and only when the list is: a start paints the badges of the
    rows the user sees, in the list's own first paint, not all of them before the window shows. Badges
    are drawn once per provider and size (app.ui.icons.letter_badge caches them).
    """

    def __init__(self, entry_of: Any, parent: QListWidget):
        super().__init__(parent)
        self._entry_of = entry_of  # (provider id) -> ProviderEntry | None
        self._sizing = False

    def badge(self, provider_id: str, size: int) -> Any:  # QIcon | None
        """The badge of ``provider_id`` drawn at ``size`` device pixels (None for an unknown id)."""
        entry = self._entry_of(provider_id)
        if entry is None:
            return None
        from app.ui.icons import letter_badge

        return letter_badge(entry.id, badge_letter(entry), size)

    def sizeHint(self, option: Any, index: Any) -> Any:
        # a row's size needs the badge's size, not its pixels (laying the list out paints nothing)
        self._sizing = True
        try:
            return super().sizeHint(option, index)
        finally:
            self._sizing = False

    def initStyleOption(self, option: Any, index: Any) -> None:
        super().initStyleOption(option, index)
        from PySide6.QtWidgets import QStyleOptionViewItem

        option.features |= QStyleOptionViewItem.ViewItemFeature.HasDecoration
        if self._sizing:
            return
        widget = option.widget
        dpr = widget.devicePixelRatioF() if widget is not None else 1.0
        icon = self.badge(index.data(ID_ROLE), round(option.decorationSize.width() * dpr))
        if icon is not None:
            option.icon = icon


async def lookup_provider_by_mx(domain: str, catalogue: Any, **options: Any) -> Any:
    """The catalogue provider whose MX patterns match ``domain``'s MX hosts, or None."""
    from app.core.detect import discover

    # only the catalogue by MX matters here: no autoconfig requests while the user is still typing
    options.setdefault("autoconfig", False)
    result = await discover("postmaster@" + domain, catalogue=catalogue, **options)
    return result.provider if result.via in ("provider", "mx") else None


class ProviderPage(ProviderDetection, DynamicTexts, QWizardPage):
    def __init__(self, wizard: Any):
        super().__init__()
        self.setObjectName("page_provider")
        self._wizard = wizard
        self._user_picked = False  # a manual choice wins over automatic pre-selection
        self._providers_by_id: dict[str, Provider] | None = None  # made when a provider is first needed
        self._entries: dict[str, ProviderEntry] = {}  # provider id -> its row's entry (see _fill_list)
        self._filled_from: tuple[ProviderEntry, ...] = ()
        self._mx_job = None
        self._mx_domain = ""
        self._detect_job = None
        self.mx_options: dict[str, Any] = {}  # extra discover() arguments (resolver, timeout)
        self.detect_result: Any = None
        self._build_widgets()
        self._build_layout()
        self._connect_signals()
        self._fill_list()
        last = settings_store().value("last_provider")
        if last:
            self.select_provider(str(last), by_user=False)
        self.retranslate_ui()

    def _build_widgets(self) -> None:
        self.email_label = QLabel()
        self.email = QLineEdit(objectName="email")
        self.email_label.setBuddy(self.email)
        self.email_hint = QLabel(objectName="email_hint")
        self.email_hint.setWordWrap(True)

        self.list_label = QLabel()
        self.provider_list = QListWidget(objectName="provider_list")
        self.provider_list.setIconSize(QSize(24, 24))
        self.provider_list.setUniformItemSizes(True)
        self.list_label.setBuddy(self.provider_list)
        self.badges = BadgeDelegate(lambda pid: self._entries.get(pid), self.provider_list)
        self.provider_list.setItemDelegate(self.badges)
        self._variants: dict[str, Provider] = {}  # provider id -> the regional variant for this address
        self.search = ProviderSearch(self.provider_list, lambda item: self.provider_by_id(item.data(ID_ROLE)))
        self.region_box = RegionBox()
        self.region_box.region_chosen.connect(self._region_chosen)

        self.find_settings = QPushButton(objectName="find_settings")
        self.cancel_detect = QPushButton(objectName="cancel_detect")
        self.cancel_detect.hide()
        self.saved_accounts = QPushButton(objectName="saved_accounts")
        self.detect_status = QLabel(objectName="detect_status")
        self.detect_status.setWordWrap(True)
        self._probe_table: Any = None  # made on the first automatic search (see probe_table)

    def _build_layout(self) -> None:
        row = QHBoxLayout()
        row.addWidget(self.find_settings)
        row.addWidget(self.cancel_detect)
        row.addStretch(1)
        row.addWidget(self.saved_accounts)
        lay = QVBoxLayout(self)
        lay.addWidget(self.email_label)
        lay.addWidget(self.email)
        lay.addWidget(self.email_hint)
        lay.addWidget(self.list_label)
        lay.addWidget(self.search)
        lay.addWidget(self.provider_list, 1)
        lay.addWidget(self.region_box)
        lay.addLayout(row)
        lay.addWidget(self.detect_status)
        self._lay = lay

    @property
    def probe_table(self) -> Any:  # app.ui.widgets.probe_table.ProbeTable
        """The servers an automatic search tried; made when first needed (a table costs ~4 ms at start-up)."""
        if self._probe_table is None:
            from app.ui.widgets.probe_table import ProbeTable

            self._probe_table = ProbeTable(self)  # hidden until a search fills it
            self._lay.addWidget(self._probe_table, 1)
        return self._probe_table

    def _connect_signals(self) -> None:
        self._mx_timer = QTimer(self, singleShot=True, interval=MX_DEBOUNCE_MS)
        self._mx_timer.timeout.connect(self._start_mx_lookup)
        self.email.textChanged.connect(self._email_changed)
        self.provider_list.currentItemChanged.connect(lambda *_: self._selection_changed())
        self.provider_list.itemClicked.connect(self._picked)
        self.provider_list.itemActivated.connect(self._picked)
        self.find_settings.clicked.connect(self.start_detect)
        self.cancel_detect.clicked.connect(self.stop_detect)
        self.saved_accounts.clicked.connect(self.open_saved_accounts)
        self.setTabOrder(self.email, self.search)
        self.setTabOrder(self.search, self.provider_list)
        self.setTabOrder(self.provider_list, self.find_settings)
        self.setTabOrder(self.find_settings, self.saved_accounts)

    # -- catalogue ---------------------------------------------------------------------
    def providers(self) -> list[Provider]:
        """Every listed provider (loads the catalogue's providers if they are not yet)."""
        cat = self._wizard.catalogue
        items = list(cat.providers) if cat is not None else []
        if not any(p.kind.value == "custom" for p in items):
            items.append(fallback_custom())
        return items

    def provider_by_id(self, provider_id: Any) -> Provider | None:
        """The listed provider with this id (None for an id not in the list)."""
        if self._providers_by_id is None:
            self._providers_by_id = {p.id: p for p in self.providers()}
        return self._providers_by_id.get(provider_id) if isinstance(provider_id, str) else None

    def _fill_list(self) -> None:
        """The rows, from the catalogue's entries: the providers themselves are not needed to list them."""
        from app.core.catalog import entries_of

        self._filled_from = tuple(self._wizard.catalogue_entries)
        entries = list(self._filled_from)
        if not any(e.kind == "custom" for e in entries):
            entries += entries_of([fallback_custom()])
        self._entries = {}
        for e in entries:
            item = QListWidgetItem()
            item.setData(ID_ROLE, e.id)
            self._entries[e.id] = e
            self.provider_list.addItem(item)

    def sync_entries(self) -> bool:
        """Re-fill the list if the loaded providers differ from the entries it was filled from (a cache
        file whose entries did not match its providers): the list then shows what can be chosen.
        True when it was re-filled."""
        if tuple(self._wizard.catalogue_entries) == self._filled_from:
            return False
        current = self._current_entry()
        self.provider_list.clear()
        self._providers_by_id = None
        self._fill_list()
        self._retranslate_list()
        if current is not None:
            self.select_provider(current.id, by_user=self._user_picked)
        self.search.apply()
        self.completeChanged.emit()
        return True

    def _current_entry(self) -> ProviderEntry | None:
        item = self.provider_list.currentItem()
        return self._entries.get(item.data(ID_ROLE)) if item is not None else None

    def _retranslate_list(self) -> None:
        lang = self._wizard.lang
        for i in range(self.provider_list.count()):
            item = self.provider_list.item(i)
            e = self._entries[item.data(ID_ROLE)]
            name = e.display_name(lang)
            if e.kind == "custom":
                name = self.tr("Custom server (type host and port)")
            elif e.kind == "sandbox":
                name = self.tr("Local sandbox (test server on this computer)")
            audience = audience_label(e.audience)
            item.setText(f"{name} — {audience}" if audience else name)

    def set_input_hints(self) -> None:
        """The e-mail keyboard for on-screen keyboards: set while the wizard is idle after it shows (the
        Qt namespace's first use builds all of its enums, ~15 ms, not worth paying before the page shows)."""
        from PySide6.QtCore import Qt

        self.email.setInputMethodHints(Qt.InputMethodHint.ImhEmailCharactersOnly)

    def selected_provider(self) -> Provider | None:
        """The chosen provider; with its regional servers when the address or the region box picked them."""
        entry = self._current_entry()
        if entry is None:
            return None
        return self._variants.get(entry.id) or self.provider_by_id(entry.id)

    def _selection_changed(self) -> None:
        entry = self._current_entry()
        if entry is not None and entry.regional:  # only then does the region box need the provider itself
            p = self.selected_provider()
            self.region_box.show_regions(p, self._wizard.lang, p.region if p is not None else "")
        else:
            self.region_box.show_regions(None, self._wizard.lang)
        self.completeChanged.emit()

    def _region_chosen(self, region_id: str) -> None:
        entry = self._current_entry()
        base = self.provider_by_id(entry.id) if entry is not None else None
        variant = base.in_region(region_id) if base is not None else None
        if variant is not None:
            self._variants[variant.id] = variant
            self.completeChanged.emit()

    def select_provider(self, provider_id: str, *, by_user: bool = True) -> bool:
        for i in range(self.provider_list.count()):
            item = self.provider_list.item(i)
            if item.data(ID_ROLE) == provider_id:
                self.provider_list.setCurrentItem(item)
                self.provider_list.scrollToItem(item)
                if by_user:
                    self._user_picked = True
                return True
        return False

    def _picked(self, _item: QListWidgetItem) -> None:
        self._user_picked = True

    # -- e-mail -> provider ---------------------------------------------------------------
    def _email_changed(self, text: str) -> None:
        self._variants.clear()
        self._wizard.model.dirty = True
        self.completeChanged.emit()
        domain = email_domain(text)
        self._mx_timer.stop()
        if not domain:
            self.set_dynamic(self.email_hint, None)
            return
        cat = self._wizard.catalogue
        found = cat.by_email(text.strip()) if cat is not None else None
        if found is not None:
            self._auto_select(found, via_mx=False)
        elif cat is not None:
            self._mx_timer.start()  # debounced: only the last keystroke triggers a lookup
        else:
            self.unknown_domain()

    def _auto_select(self, provider: Provider, *, via_mx: bool) -> None:
        if self._user_picked:
            return
        if provider.region:
            self._variants[provider.id] = provider  # e.g. zoho.eu -> Zoho's EU servers
        self.select_provider(provider.id, by_user=False)
        self._selection_changed()
        name = provider.display_name(self._wizard.lang)
        if via_mx:
            self.set_dynamic(
                self.email_hint, lambda: self.tr("This domain's mail is handled by {name}.").format(name=name)
            )
        else:
            self.set_dynamic(self.email_hint, lambda: self.tr("Recognised: {name}.").format(name=name))

    def _start_mx_lookup(self) -> None:
        domain = email_domain(self.email.text())
        if not domain or domain == self._mx_domain:
            return
        if self._mx_job is not None and self._mx_job.running:
            self._mx_job.cancel()
        self._mx_domain = domain
        cat = self._wizard.catalogue
        opts = dict(self.mx_options)
        job = self._wizard.bridge.submit(lambda _cb: lookup_provider_by_mx(domain, cat, **opts), name="mx")
        job.finished.connect(lambda provider, d=domain: self._mx_done(d, provider))
        job.failed.connect(lambda exc, d=domain: self._mx_failed(d, exc))
        self._mx_job = job

    def _mx_failed(self, domain: str, exc: Any) -> None:
        log.info("MX lookup failed: %s", exc)
        if domain == email_domain(self.email.text()):
            self.unknown_domain()

    def _mx_done(self, domain: str, provider: Any) -> None:
        if domain != email_domain(self.email.text()):
            return  # the user typed on; a newer lookup will answer
        if provider is not None:
            self._auto_select(provider, via_mx=True)
        else:
            self.unknown_domain()

    def select_custom(self, *, by_user: bool = True) -> bool:
        """Select the Custom server row."""
        custom = next((e for e in self._entries.values() if e.kind == "custom"), None)
        return custom is not None and self.select_provider(custom.id, by_user=by_user)

    def unknown_domain(self) -> None:
        """No provider handles the domain: select Custom server (unless the user chose) and say so."""
        if not self._user_picked and self.select_custom(by_user=False):
            self.set_dynamic(
                self.email_hint,
                lambda: self.tr(
                    "Unknown domain: Custom server is selected. Type your server's settings on the next pages, "
                    "or find them automatically."
                ),
            )
        else:
            self.set_dynamic(
                self.email_hint,
                lambda: self.tr("Unknown domain: choose Custom server or find the settings automatically."),
            )

    def stop_timers(self) -> None:
        """Stop the debounced MX lookup (the window is closing)."""
        self._mx_timer.stop()

    # -- saved accounts ---------------------------------------------------------------
    def open_saved_accounts(self) -> None:
        from app.ui.dialogs.saved_accounts import SavedAccountsDialog

        dialog = SavedAccountsDialog(self._wizard, self)
        dialog.edit_requested.connect(self.edit_profile)
        self.saved_dialog = dialog
        dialog.open()

    def edit_profile(self, profile: Any, password: str | None) -> None:
        """Re-open the wizard pre-filled with a saved profile (jumps to Account)."""
        model = self._wizard.model
        self._user_picked = False
        self.email.setText(getattr(profile, "from_addr", "") or getattr(profile, "from_address", "") or "")
        pid = getattr(profile, "provider_id", None)
        if not (pid and self.select_provider(pid)):
            self.select_custom()
        model.set_provider(self.selected_provider())
        model.settings = None
        model.editing_profile = profile.name
        model.prefill = profile.settings
        model.prefill_username = profile.settings.username
        model.prefill_password = password
        model.adopt_pin(profile.settings)
        model.from_name = getattr(profile, "from_name", "") or ""
        model.skip_guide = True
        self._wizard.next()

    # -- wizard protocol ---------------------------------------------------------------
    def isComplete(self) -> bool:
        return self._current_entry() is not None

    def validatePage(self) -> bool:
        self._wizard.ensure_pages()  # Next may come before the idle creation of the other pages
        provider = self.selected_provider()  # loads the providers if the idle slice has not yet
        if self.sync_entries():  # the rows did not describe the providers (see sync_entries): look again
            return False
        model = self._wizard.model
        model.set_provider(provider)
        model.email = self.email.text().strip()
        self.stop_detect()
        return True

    def nextId(self) -> int:
        entry = self._current_entry()
        if entry is not None and entry.guided and not self._wizard.model.skip_guide:
            return int(PageId.GUIDE)
        return int(PageId.ACCOUNT)

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Who provides your mailbox?"))
        self.setSubTitle(self.tr("Type your address; we recognise the provider. Or pick it from the list."))
        self.email_label.setText(self.tr("Your &e-mail address:"))
        self.email.setPlaceholderText(self.tr("name@example.com"))
        self.email.setAccessibleName(self.tr("E-mail address"))
        self.list_label.setText(self.tr("&Provider:"))
        self.provider_list.setAccessibleName(self.tr("Provider"))
        self.search.retranslate()
        self.region_box.retranslate()
        self.find_settings.setText(self.tr("&Find my settings automatically"))
        self.find_settings.setAccessibleName(self.tr("Find my settings automatically"))
        self.cancel_detect.setText(self.tr("Stop searc&h"))
        self.saved_accounts.setText(self.tr("&Saved accounts…"))
        if self._probe_table is not None:
            self._probe_table.retranslate_ui()
        self._retranslate_list()
        self.refresh_dynamic()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

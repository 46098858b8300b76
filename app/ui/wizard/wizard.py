"""The setup wizard: provider -> app-password guide -> account -> live check -> test send -> save.

``SetupWizard`` holds what the pages share (``WizardModel``), the engine bridge,
the catalogue and the optional local sandbox server. Pages are reachable by
``PageId``; every input has a stable snake_case objectName.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QByteArray, QEvent, QSize, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QFont
from PySide6.QtWidgets import QApplication, QComboBox, QLabel, QPushButton, QVBoxLayout, QWidget, QWizard

from app.ui import i18n
from app.ui.bridge import EngineBridge, Job
from app.ui.desktop import settings_store
from app.ui.wizard.ids import PageId
from app.ui.wizard.model import WizardModel

log = logging.getLogger(__name__)


def catalogue_source(catalogue: Any = None) -> Any:
    """The provider catalogue as a source (``app.core.catalog.CatalogueSource``: its entries at once, its
    providers on first use), or None when it cannot be loaded (the wizard then offers Custom only).
    ``catalogue``: a Catalogue or a CatalogueSource to use instead of the default one."""
    try:
        from app.core.catalog import CatalogueSource, default_source
    except ImportError:  # pragma: no cover - catalogue module missing
        log.warning("provider catalogue module is not available")
        return None
    if catalogue is None:
        return default_source()
    return catalogue if isinstance(catalogue, CatalogueSource) else CatalogueSource.of(catalogue)


class _SideBar(QWidget):
    """Step list and the language switch, shown on the wizard's left."""

    def __init__(self, wizard: SetupWizard):
        super().__init__(wizard)
        self.setObjectName("side_bar")
        self._wizard = wizard
        self.steps = {pid: QLabel(objectName=f"step_{pid.name.lower()}") for pid in PageId}
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 8, 12, 8)
        for label in self.steps.values():
            label.setWordWrap(True)
            lay.addWidget(label)
        lay.addStretch(1)
        # the reply decoder: reachable on every page, for a reply seen here or a bounce from elsewhere
        self.explain = QPushButton(objectName="open_explain")
        self.explain.clicked.connect(wizard.open_explain)
        lay.addWidget(self.explain)
        self.language_label = QLabel()
        self.language = QComboBox(objectName="language")
        for code, name in i18n.language_names().items():
            if code in i18n.available_languages():
                self.language.addItem(name, code)
        self.language_label.setBuddy(self.language)
        lay.addWidget(self.language_label)
        lay.addWidget(self.language)
        self.setMinimumWidth(150)

    def retranslate_ui(self) -> None:
        names = {
            PageId.PROVIDER: self.tr("Provider"),
            PageId.GUIDE: self.tr("App password"),
            PageId.ACCOUNT: self.tr("Account"),
            PageId.CHECK: self.tr("Connection check"),
            PageId.SEND: self.tr("Test message"),
            PageId.SAVE: self.tr("Save"),
        }
        for pid, label in self.steps.items():
            label.setText(names[pid])
        self.explain.setText(self.tr("Decode a reply…"))  # short: the side bar is narrow at 800x600
        self.explain.setToolTip(self.tr("Explain an SMTP reply or a bounce message"))
        self.language_label.setText(self.tr("&Language:"))
        self.language.setAccessibleName(self.tr("Interface language"))
        self.highlight(self._wizard.currentId())

    def highlight(self, current: int) -> None:
        for pid, label in self.steps.items():
            f = QFont(label.font())
            f.setBold(pid == current)
            label.setFont(f)
            label.setEnabled(pid == current or pid in self._wizard.visitedIds())


class SetupWizard(QWizard):
    """The MailSetup wizard window. ``pages_built`` fires once every page exists (after the first is shown)."""

    pages_built = Signal()

    def __init__(self, catalogue: Any = None, parent: QWidget | None = None, *, lang: str | None = None):
        super().__init__(parent)
        self.setObjectName("setup_wizard")
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setOption(QWizard.WizardOption.HaveHelpButton, False)
        self.model = WizardModel(self)
        self._catalogue_source = catalogue_source(catalogue)
        self.bridge = EngineBridge(self)
        self.sandbox = None  # app.core.sandbox.server.SandboxServer once started
        self.sandbox_info = None
        self._sandbox_job: Job | None = None
        self._sandbox_starting: Any = None  # (server, began, finished, cancelled) while a start is pending
        self._closed = False
        self.lang = lang or i18n.current_language()

        from app.ui.wizard.pages.provider import ProviderPage

        # Only the first page exists before the window shows; the others (and their modules)
        # are created while it is idle, or at once when something asks for them.
        self.provider_page = ProviderPage(self)
        self.setPage(int(PageId.PROVIDER), self.provider_page)
        self._pages: dict[PageId, Any] = {PageId.PROVIDER: self.provider_page}
        self.setStartId(int(PageId.PROVIDER))

        self.side_bar = _SideBar(self)
        self.setSideWidget(self.side_bar)
        idx = self.side_bar.language.findData(self.lang)
        self.side_bar.language.setCurrentIndex(max(0, idx))
        self.side_bar.language.currentIndexChanged.connect(self._language_chosen)
        self.currentIdChanged.connect(self.side_bar.highlight)
        self.retranslate_ui()
        self._restore_geometry()
        self._lazy_scheduled = False
        self._providers_ready = False
        self.discard_box: Any = None
        self.explain_dialog: Any = None
        from app.ui.widgets.alt_keys import AltKeyGuard

        app = QApplication.instance()
        if isinstance(app, QApplication):  # Alt+<key> of a hidden/disabled button never types a letter
            self._alt_guard = AltKeyGuard(app, self)

    @property
    def catalogue(self) -> Any:  # app.core.catalog.Catalogue | None
        """The provider catalogue; its providers load here on first use (normally while the first page is
        idle: the first page lists them from ``catalogue_entries``)."""
        source = self._catalogue_source
        return source.catalogue() if source is not None else None

    @property
    def catalogue_entries(self) -> tuple[Any, ...]:  # tuple[app.core.catalog.ProviderEntry, ...]
        source = self._catalogue_source
        return source.entries if source is not None else ()

    def open_explain(self) -> None:
        """The "Decode a server reply…" dialog (one at a time; raised when already open)."""
        from app.ui.dialogs.explain import ExplainDialog

        if self.explain_dialog is None:
            self.explain_dialog = ExplainDialog(self.catalogue, self)
        self.explain_dialog.show()
        self.explain_dialog.raise_()
        self.explain_dialog.activateWindow()

    # -- lazy pages ------------------------------------------------------------------------
    def ensure_pages(self) -> None:
        """Create the page objects after the first one (their widgets still build on first use)."""
        if len(self._pages) == len(PageId):
            return
        from app.ui.wizard.pages.account import AccountPage
        from app.ui.wizard.pages.check import CheckPage
        from app.ui.wizard.pages.guide import GuidePage
        from app.ui.wizard.pages.save import SavePage
        from app.ui.wizard.pages.send import SendPage

        for pid, cls in (
            (PageId.GUIDE, GuidePage),
            (PageId.ACCOUNT, AccountPage),
            (PageId.CHECK, CheckPage),
            (PageId.SEND, SendPage),
            (PageId.SAVE, SavePage),
        ):
            page = cls(self)
            self._pages[pid] = page
            self.setPage(int(pid), page)

    guide_page = property(lambda self: self.page_by_id(PageId.GUIDE))
    account_page = property(lambda self: self.page_by_id(PageId.ACCOUNT))
    check_page = property(lambda self: self.page_by_id(PageId.CHECK))
    send_page = property(lambda self: self.page_by_id(PageId.SEND))
    save_page = property(lambda self: self.page_by_id(PageId.SAVE))

    def build_all_pages(self) -> None:
        """Build every page's widgets now (normally they are built while the first page is idle)."""
        self.ensure_pages()
        for pid in PageId:
            page = self.page(int(pid))
            if hasattr(page, "ensure_built"):
                page.ensure_built()

    def _build_one_pending(self) -> None:
        if self._closed:
            return
        source = self._catalogue_source
        if source is not None and not self._providers_ready:
            self._providers_ready = True
            source.catalogue()  # before the user types an address or presses Next
            self.provider_page.sync_entries()
            QTimer.singleShot(15, self._build_one_pending)
            return
        if len(self._pages) < len(PageId):
            self.provider_page.set_input_hints()
            self.ensure_pages()
            QTimer.singleShot(15, self._build_one_pending)
            return
        for pid in PageId:
            page = self.page(int(pid))
            if hasattr(page, "ensure_built") and not page.built:
                page.ensure_built()
                QTimer.singleShot(15, self._build_one_pending)  # one page per idle slice
                return
        self.pages_built.emit()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._lazy_scheduled:
            self._lazy_scheduled = True
            self.fit_to_screen()  # the window frame is known only now
            QTimer.singleShot(150, self._build_one_pending)

    # -- pages ---------------------------------------------------------------------
    def page_by_id(self, pid: PageId) -> Any:
        """The page object for ``pid`` (created on demand)."""
        if pid not in self._pages:
            self.ensure_pages()
        return self._pages[pid]

    # -- language ------------------------------------------------------------------
    def _language_chosen(self, index: int) -> None:
        code = self.side_bar.language.itemData(index)
        app = QApplication.instance()
        if app is not None and code:
            self.lang = i18n.install_translator(app, code)
            store = settings_store()
            store.setValue("language", self.lang)
            # Qt only broadcasts LanguageChange while app.exec() runs (not before, nor in
            # tests); re-send it to every window so all texts follow the switch.
            for top in QApplication.topLevelWidgets():
                QApplication.sendEvent(top, QEvent(QEvent.Type.LanguageChange))

    def set_language(self, code: str) -> None:
        """Switch the UI language (what the ``language`` combo does)."""
        idx = self.side_bar.language.findData(code)
        if idx >= 0:
            self.side_bar.language.setCurrentIndex(idx)

    def retranslate_ui(self) -> None:
        # the platform adds the application's display name ("— MailSetup") itself
        self.setWindowTitle(self.tr("Set up a mailbox"))
        self.setButtonText(QWizard.WizardButton.NextButton, self.tr("&Next >"))
        self.setButtonText(QWizard.WizardButton.BackButton, self.tr("< &Back"))
        self.setButtonText(QWizard.WizardButton.FinishButton, self.tr("&Finish"))
        self.setButtonText(QWizard.WizardButton.CancelButton, self.tr("Cancel"))
        self.side_bar.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.lang = i18n.current_language()
            self.retranslate_ui()
        super().changeEvent(event)

    # -- sandbox -------------------------------------------------------------------
    def start_sandbox(self) -> Job | None:
        """Start the local sandbox server off the GUI thread; the job's result is its SandboxInfo."""
        if self._sandbox_job is not None and self._sandbox_job.running:
            return self._sandbox_job
        if self.sandbox_info is not None:
            return None
        import threading

        from app.core.sandbox import SandboxServer

        server = SandboxServer()
        began, finished, cancelled = threading.Event(), threading.Event(), threading.Event()
        self._sandbox_starting = (server, began, finished, cancelled)

        def start() -> Any:
            began.set()
            if cancelled.is_set():  # the window closed before the worker got to it
                return None
            try:
                return server.start()
            finally:
                finished.set()

        job = self.bridge.run_blocking(start, name="sandbox-start")

        def started(info: Any) -> None:
            if info is None:
                return
            self.sandbox = server
            self.sandbox_info = info
            self._sandbox_starting = None

        job.finished.connect(started)
        self._sandbox_job = job
        return job

    def stop_sandbox(self) -> None:
        starting, self._sandbox_starting = self._sandbox_starting, None
        if starting is not None and starting[0] is not self.sandbox:
            server, began, finished, cancelled = starting
            cancelled.set()  # first: a start that has not begun now never will
            if began.is_set():  # closed while it was starting: let it finish, then stop it
                finished.wait(10)
                try:
                    server.stop()
                except Exception:
                    log.warning("sandbox server did not stop cleanly", exc_info=True)
        server, self.sandbox, self.sandbox_info = self.sandbox, None, None
        if server is not None:
            try:
                server.stop()
            except Exception:
                log.warning("sandbox server did not stop cleanly", exc_info=True)

    # -- persistence and shutdown -----------------------------------------------------
    def _restore_geometry(self) -> None:
        store = settings_store()
        geo = store.value("window/geometry")
        size = store.value("window/size")
        if isinstance(geo, QByteArray) and not geo.isEmpty():
            self.restoreGeometry(geo)  # position (and size, where the screen allows)
        if isinstance(size, QSize) and size.isValid():
            self.resize(size)
        elif not isinstance(geo, QByteArray) or geo.isEmpty():
            self.resize(QSize(940, 700))
        self.fit_to_screen()

    def fit_to_screen(self) -> None:
        """Keep the whole window (Next and Cancel included) on the screen's available area."""
        screen = self.screen() or QApplication.primaryScreen()
        if screen is None:
            return
        avail = screen.availableGeometry()
        frame = self.frameGeometry()
        extra_w = max(0, frame.width() - self.width())
        extra_h = max(0, frame.height() - self.height())
        w = min(self.width(), avail.width() - extra_w)
        h = min(self.height(), avail.height() - extra_h)
        if (w, h) != (self.width(), self.height()):
            self.resize(w, h)
        x = min(max(self.x(), avail.left()), avail.right() - w - extra_w + 1)
        y = min(max(self.y(), avail.top()), avail.bottom() - h - extra_h + 1)
        if (x, y) != (self.x(), self.y()):
            self.move(x, y)

    # -- leaving -----------------------------------------------------------------------------
    def has_unsaved_input(self) -> bool:
        """Something was typed and not saved since (what Escape, Cancel and Finish ask about)."""
        return self.model.dirty

    def confirm_discard(self, then: Any) -> None:
        """Call ``then`` now, or after the user agrees to lose what was typed and not saved."""
        if not self.has_unsaved_input():
            then()
            return
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(self)
        box.setObjectName("confirm_discard")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle(self.tr("Close without saving?"))
        box.setText(self.tr("The account is not saved. Close the wizard and lose what you typed?"))
        close = box.addButton(self.tr("&Close without saving"), QMessageBox.ButtonRole.DestructiveRole)
        close.setObjectName("discard_close")
        stay = box.addButton(self.tr("&Stay"), QMessageBox.ButtonRole.RejectRole)
        stay.setObjectName("discard_stay")
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        box.buttonClicked.connect(lambda button: then() if button is close else None)
        box.finished.connect(box.deleteLater)
        self.discard_box = box
        box.open()

    def reject(self) -> None:  # Escape, Cancel
        self.confirm_discard(lambda: QWizard.reject(self))

    def accept(self) -> None:  # Finish
        self.confirm_discard(lambda: QWizard.accept(self))

    def remember(self) -> None:
        store = settings_store()
        store.setValue("window/geometry", self.saveGeometry())
        store.setValue("window/size", self.size())
        if self.model.provider is not None:
            store.setValue("last_provider", self.model.provider.id)
        store.sync()

    def shutdown(self) -> None:
        """Cancel running work, stop the sandbox and end the engine thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.remember()
        except Exception:
            log.warning("could not save window settings", exc_info=True)
        self.provider_page.stop_timers()
        self.bridge.cancel_all()
        self.bridge.shutdown()
        self.stop_sandbox()

    def done(self, result: int) -> None:
        self.shutdown()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)  # QDialog asks reject(), which may keep the window open
        if event.isAccepted() and not self.isVisible():
            self.shutdown()

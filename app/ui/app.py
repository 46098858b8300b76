"""GUI entry point: ``run_wizard(argv)`` creates the application, installs the translation, shows the wizard."""

from __future__ import annotations

import logging
import sys

log = logging.getLogger(__name__)


def create_wizard(lang: str | None = None):  # -> SetupWizard
    """Install the translation (saved choice, else the system language) and build the wizard."""
    from PySide6.QtWidgets import QApplication

    from app.ui import i18n
    from app.ui.desktop import settings_store
    from app.ui.wizard.wizard import SetupWizard

    app = QApplication.instance()
    saved = settings_store().value("language")
    used = i18n.install_translator(app, lang or (str(saved) if saved else None))
    return SetupWizard(lang=used)


def settle_gc() -> None:
    """Collect once, then freeze what start-up created (``gc.freeze``).

    Later cyclic collections then skip the thousands of long-lived Qt wrappers, enums and
    catalogue objects, which keeps each collection -- run on the GUI thread -- to a few ms.
    """
    import gc

    gc.collect()
    gc.freeze()


def quit_on_interrupt(wizard, quit) -> None:  # wizard: SetupWizard, quit: () -> None
    """Ctrl+C in the terminal ends the wizard: close without asking, stop the engine, quit.

    Python runs signal handlers only when it gets control, so a timer hands it control a few
    times a second while Qt's event loop runs.
    """
    import signal

    from PySide6.QtCore import QTimer

    def interrupted(_signum: int, _frame: object) -> None:
        wizard.model.dirty = False  # the user asked to stop: no question
        wizard.shutdown()
        wizard.hide()
        quit()

    signal.signal(signal.SIGINT, interrupted)
    wizard.interrupt_handler = interrupted
    wizard.interrupt_timer = QTimer(wizard, interval=250)
    wizard.interrupt_timer.timeout.connect(lambda: None)
    wizard.interrupt_timer.start()


def run_wizard(argv: list[str] | None = None) -> int:
    """Show the setup wizard and run the Qt event loop; returns the exit code."""
    from app.ui.platform_check import xcb_problem

    problem = xcb_problem()  # before Qt: without these libraries it would abort with a core dump
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    argv = list(argv if argv is not None else sys.argv[:1])
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("MailSetup")
    app.setApplicationName("mailsetup")
    app.setApplicationDisplayName("MailSetup")
    wizard = create_wizard()
    wizard.pages_built.connect(settle_gc)
    quit_on_interrupt(wizard, app.quit)
    wizard.show()
    code = app.exec()
    wizard.shutdown()
    return int(code)


if __name__ == "__main__":
    sys.exit(run_wizard(sys.argv))

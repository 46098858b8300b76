"""GUI entry point: ``run_wizard(argv)`` creates the application, installs the translation, shows the wizard."""

from __future__ import annotations

import logging
import sys
from typing import Any

log = logging.getLogger(__name__)


def create_wizard(lang: str | None = None):  # -> SetupWizard
    """Install the translation (saved choice, else the system language) and build the wizard.

    The cyclic garbage collector is paused until the event loop first runs (normally: once the window
    has been shown). Building the wizard creates only long-lived objects (modules, classes, Qt wrappers
    and enums), so the ~10 collections it would trigger find nothing to free and cost ~2 ms.
    """
    import gc

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    collecting = gc.isenabled()
    gc.disable()
    try:
        from app.ui import i18n
        from app.ui.desktop import settings_store
        from app.ui.wizard.wizard import SetupWizard

        app = QApplication.instance()
        saved = settings_store().value("language")
        used = i18n.install_translator(app, lang or (str(saved) if saved else None))
        wizard = SetupWizard(lang=used)
    except BaseException:
        if collecting:
            gc.enable()
        raise
    if collecting:
        QTimer.singleShot(0, gc.enable)
    return wizard


def settle_gc() -> None:
    """Collect once, then freeze what start-up created (``gc.freeze``).

    Later cyclic collections then skip the thousands of long-lived Qt wrappers, enums and
    catalogue objects, which keeps each collection -- run on the GUI thread -- to a few ms.
    """
    import gc

    gc.collect()
    gc.freeze()


def quit_on_interrupt(wizard, quit) -> None:  # wizard: SetupWizard, quit: () -> None
    """Ctrl+C (or SIGTERM) ends the wizard: close without asking, stop the engine, quit.

    While Qt's loop runs, Python never gets control to run a signal handler. The C-level handler
    writes to a socket (``signal.set_wakeup_fd``); a QSocketNotifier on the other end wakes the GUI
    thread, Python runs the handler at once. No polling timer.
    """
    import signal
    import socket

    from PySide6.QtCore import QSocketNotifier

    def interrupted(_signum: int, _frame: object) -> None:
        wizard.model.dirty = False  # the user asked to stop: no question
        wizard.shutdown()
        wizard.hide()
        quit()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, interrupted)
    wizard.interrupt_handler = interrupted
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    try:
        signal.set_wakeup_fd(writer.fileno())
    except ValueError:  # not the main thread (an embedding host): the handler runs when Python next runs
        reader.close()
        writer.close()
        return
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read, wizard)

    def drain() -> None:
        try:
            reader.recv(64)
        except OSError:
            pass

    notifier.activated.connect(drain)
    wizard.interrupt_wakeup = (reader, writer, notifier)  # kept alive with the window


def end_process(wizard: Any, code: int) -> int:
    """Shut the wizard down; if a blocking helper thread (DNS, keyring) is still stuck, do not wait for it.

    The interpreter would otherwise join those worker threads at exit, and closing the window must end
    the process within a second whatever a server or resolver does.
    """
    import threading
    import time

    wizard.shutdown()
    end = time.monotonic() + 0.5  # idle workers leave at once; a stuck DNS or keyring call would not
    for t in threading.enumerate():
        if t is not threading.main_thread() and not t.daemon:
            t.join(max(end - time.monotonic(), 0))
    stuck = [t for t in threading.enumerate() if t is not threading.main_thread() and t.is_alive() and not t.daemon]
    if stuck:
        import os

        from app.ui.desktop import settings_store

        settings_store().sync()

        log.warning("not waiting for %s", ", ".join(t.name for t in stuck))
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        logging.shutdown()
        os._exit(code)
    return code


def run_wizard(argv: list[str] | None = None) -> int:
    """Show the setup wizard and run the Qt event loop; returns the exit code."""
    from app.ui.platform_check import xcb_problem

    problem = xcb_problem()  # before Qt: without these libraries it would abort with a core dump
    if problem:
        print(problem, file=sys.stderr)
        return 1
    from PySide6.QtWidgets import QApplication

    from app.ui.pyside_hook import quicken_feature_hook

    quicken_feature_hook()
    argv = list(argv if argv is not None else sys.argv[:1])
    app = QApplication.instance() or QApplication(argv)
    app.setOrganizationName("MailSetup")
    app.setApplicationName("mailsetup")
    app.setApplicationDisplayName("MailSetup")
    wizard = create_wizard()
    wizard.pages_built.connect(settle_gc)
    quit_on_interrupt(wizard, app.quit)
    wizard.show()
    code = int(app.exec())
    return end_process(wizard, code)


if __name__ == "__main__":
    sys.exit(run_wizard(sys.argv))

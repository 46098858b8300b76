"""Render every wizard page (en/ru, light/dark) to PNG for a visual review.

Run under a real X server (not offscreen), e.g.::

    xvfb-run -a -s "-screen 0 1600x1200x24" env QT_QPA_PLATFORM=xcb \\
        /work/.venv-dev/bin/python tools/render_pages.py [--out shots] [--scale 1.5]

Uses the local sandbox server for the check and send pages (loopback only). The
user config/data dirs are pointed at a temporary folder so nothing real is touched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _isolate() -> None:
    base = Path(tempfile.mkdtemp(prefix="mailsetup-shots-"))
    for var in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        (base / var.lower()).mkdir()
        os.environ[var] = str(base / var.lower())
    os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")


def dark_palette():
    from PySide6.QtGui import QColor, QPalette

    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#2b2b2b",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#1e1e1e",
        QPalette.ColorRole.AlternateBase: "#2f2f2f",
        QPalette.ColorRole.ToolTipBase: "#3a3a3a",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a8a8a",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#353535",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.BrightText: "#ff5555",
        QPalette.ColorRole.Link: "#6cb4ff",
        QPalette.ColorRole.Highlight: "#2f6fb3",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Light: "#4a4a4a",
        QPalette.ColorRole.Midlight: "#3e3e3e",
        QPalette.ColorRole.Mid: "#303030",
        QPalette.ColorRole.Dark: "#1a1a1a",
        QPalette.ColorRole.Shadow: "#000000",
    }
    for role, colour in roles.items():
        p.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return p


def wait_for(condition, timeout_ms: int = 15000) -> bool:
    """Run the event loop until ``condition()`` holds (tool script only)."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer

    if condition():
        return True
    loop = QEventLoop()
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer(interval=20)

    def tick() -> None:
        if condition() or clock.elapsed() > timeout_ms:
            loop.quit()

    timer.timeout.connect(tick)
    timer.start()
    loop.exec()
    timer.stop()
    return condition()


def grab(widget, path: Path) -> None:
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    widget.repaint()
    widget.grab().save(str(path))
    print(path)


def render(lang: str, theme: str, out: Path, suffix: str = "", size: tuple[int, int] = (800, 600)) -> None:
    from PySide6.QtWidgets import QApplication

    from app.ui import i18n
    from app.ui.wizard.ids import PageId
    from app.ui.wizard.wizard import SetupWizard

    app = QApplication.instance()
    app.setPalette(dark_palette() if theme == "dark" else app.style().standardPalette())
    used = i18n.install_translator(app, lang)
    w = SetupWizard(lang=used)
    w.resize(*size)
    w.show()
    prefix = f"{lang}-{theme}{suffix}"
    n = 0

    def shot(name: str) -> None:
        nonlocal n
        n += 1
        grab(w, out / f"{prefix}-{n:02d}-{name}.png")

    page = w.provider_page
    page.email.setText("ivan@yandex.ru")
    shot("provider")
    page.select_provider("gmail")
    page.email.setText("someone@gmail.com")
    w.next()
    assert w.currentId() == PageId.GUIDE
    shot("guide-gmail")
    w.back()
    page.select_provider("sendgrid")
    w.next()
    shot("guide-sendgrid")
    w.back()
    # account page with validation messages (custom server)
    custom = next(p for p in page.providers() if p.kind.value == "custom")
    page.email.setText("me@example.org")
    page.select_provider(custom.id)
    w.next()
    acc = w.account_page
    acc.host.setText("bad host")
    acc._edited("host")
    acc.username.setText("me@example.org")
    acc._edited("username")
    shot("account-errors")
    w.back()
    sandbox = next(p for p in page.providers() if p.kind.value == "sandbox")
    page.select_provider(sandbox.id)
    w.next()
    wait_for(lambda: w.sandbox_info is not None and acc.isComplete())
    shot("account-sandbox")
    # failing check (wrong password) then a good one
    good_password = acc.password.text()
    acc.password.setText("wrong-password")
    acc._validate()
    w.next()
    cp = w.check_page
    wait_for(lambda: cp.last_result is not None and not cp.is_running())
    shot("check-failed")
    cp.log_view.level.setCurrentIndex(2)
    w.back()
    acc.password.setText(good_password)
    acc._validate()
    w.next()
    wait_for(lambda: cp.last_result is not None and not cp.is_running())
    shot("check-ok")
    w.next()
    sp = w.send_page
    sp.cc.setText("team@example.org")
    sp.send()
    wait_for(lambda: sp.last_result is not None and not sp.is_running())
    shot("send")
    w.next()
    save = w.save_page
    wait_for(lambda: save.backend_error is not None or save.backend_name is not None, 5000)
    save.save(store_secret=True)
    wait_for(lambda: not save.is_saving() and save.keyring_box.isVisible(), 5000)
    save.export("env")
    shot("save")
    save.copy_export_text()
    shot("save-copied")
    w.model.dirty = False  # no "close without saving?" question for the tool
    w.close()
    w.deleteLater()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "shots"))
    parser.add_argument("--langs", default="en,ru")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--size", default="800x600", help="window size, e.g. 800x600 (the smallest supported)")
    parser.add_argument("--scale", default="", help="QT_SCALE_FACTOR for this run, e.g. 1.5 (files get a -x1.5 suffix)")
    args = parser.parse_args(argv)
    if args.scale:
        os.environ["QT_SCALE_FACTOR"] = args.scale
    _isolate()
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for lang in args.langs.split(","):
        for theme in args.themes.split(","):
            width, height = (int(v) for v in args.size.lower().split("x"))
            render(lang, theme, out, f"-x{args.scale}" if args.scale else "", (width, height))
    return 0


if __name__ == "__main__":
    sys.exit(main())

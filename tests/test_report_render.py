"""The report as a picture: rendered by a real browser engine (Debian's headless Chromium where installed,
.ci/run installs it) and by Qt's own QTextDocument, then looked at: a non-trivial image whose status colour
(green for a success, red for a failure) is really on screen.

Set MAILSETUP_REPORT_SHOTS=DIR to keep the PNGs for a look by eye.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from app.core.detect import run_pipeline
from app.core.model import AuthMechanism
from app.core.report import ReportRecorder, build_report, render_html
from tests.fixtures.smtp_servers import TEST_USER

CHROMIUM = "/usr/bin/chromium"
GREEN, RED = (0x1A, 0x7F, 0x37), (0xC6, 0x28, 0x28)  # the badge colours of render.py's CSS
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--password-store=basic",  # never the test session's keyring
    "--window-size=1000,1300",
]


async def _report_page(smtp_server, *, fail: bool) -> str:
    server = smtp_server("auth_535" if fail else "smtp")
    settings = server.settings(username=TEST_USER, auth=AuthMechanism.PLAIN, allow_plain_auth=True)
    recorder = ReportRecorder()
    verdict = await run_pipeline(settings, "not-the-password", on_event=recorder)
    assert verdict.ok is not fail
    return render_html(build_report(verdict, recorder=recorder))


def _chromium_png(page: Path, png: Path, profile: Path) -> None:
    cmd = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={png}", page.as_uri()]
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}  # no desktop services
    done = subprocess.run(cmd, capture_output=True, timeout=60, env=dict(env, HOME=str(profile)))
    assert png.exists(), done.stderr.decode(errors="replace")[-2000:]


def _qt_png(html: str, png: Path) -> None:
    from PySide6.QtCore import QSizeF
    from PySide6.QtGui import QColor, QImage, QPainter, QTextDocument

    doc = QTextDocument()
    doc.setHtml(html)
    doc.setPageSize(QSizeF(1000, 1e6))
    doc.setTextWidth(1000)
    height = min(int(doc.size().height()) + 1, 4000)
    image = QImage(1000, height, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    doc.drawContents(painter)
    painter.end()
    assert image.save(str(png))


def _looked_at(png: Path) -> tuple[int, set[tuple[int, int, int]]]:
    """(number of distinct colours, the colours) sampled over the picture."""
    from PySide6.QtGui import QImage

    image = QImage(str(png))
    assert not image.isNull() and image.width() >= 600 and image.height() >= 400
    colours = set()
    for y in range(0, image.height(), 3):
        for x in range(0, image.width(), 3):
            c = image.pixelColor(x, y)
            colours.add((c.red(), c.green(), c.blue()))
    return len(colours), colours


def _near(colours: set[tuple[int, int, int]], want: tuple[int, int, int], tol: int = 12) -> bool:
    return any(all(abs(a - b) <= tol for a, b in zip(c, want)) for c in colours)


def _keep(png: Path) -> None:
    shots = os.environ.get("MAILSETUP_REPORT_SHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        shutil.copy(png, Path(shots) / png.name)


@pytest.mark.parametrize("fail", [False, True], ids=["success", "failure"])
async def test_report_renders_in_a_browser_engine(smtp_server, tmp_path, qapp, fail):
    html = await _report_page(smtp_server, fail=fail)
    page = tmp_path / "report.html"
    page.write_text(html, "utf-8")
    name = "failure" if fail else "success"
    if os.path.exists(CHROMIUM):
        png = tmp_path / f"report-chromium-{name}.png"
        _chromium_png(page, png, tmp_path / "chromium-profile")
    else:  # no browser here: Qt's rich-text engine still shows the page
        png = tmp_path / f"report-qt-{name}.png"
        _qt_png(html, png)
    _keep(png)
    count, colours = _looked_at(png)
    assert count > 50, "the picture is (nearly) blank"
    assert _near(colours, RED if fail else GREEN), "the status colour is not on screen"
    assert not _near(colours, GREEN if fail else RED)


async def test_report_renders_in_qt_text_document(smtp_server, tmp_path, qapp):
    html = await _report_page(smtp_server, fail=True)
    png = tmp_path / "report-qt-failure.png"
    _qt_png(html, png)
    _keep(png)
    count, colours = _looked_at(png)
    assert count > 20 and _near(colours, RED)

"""Render resources/icons/mailsetup.svg into the PNG and ICO files (run after editing the SVG).

QT_QPA_PLATFORM=offscreen python tools/make_icons.py
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"


def render(size: int) -> QImage:
    renderer = QSvgRenderer(str(ICONS / "mailsetup.svg"))
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841
    for path, size, fmt in (
        ("mailsetup.png", 256, "PNG"),
        ("mailsetup-64.png", 64, "PNG"),
        ("mailsetup.ico", 256, "ICO"),
    ):
        if not render(size).save(str(ICONS / path), fmt):
            print(f"could not write {path}", file=sys.stderr)
            return 1
        print(ICONS / path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

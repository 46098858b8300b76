"""Icons drawn with QPainter: neutral letter badges for providers and status marks for stages.

No trademarks: a provider is shown as its initial on a coloured disc whose hue is
derived from the provider id, so it is stable but carries no brand artwork.
"""

from __future__ import annotations

import logging
import zlib
from enum import Enum
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPainterPath, QPen, QPixmap

log = logging.getLogger(__name__)

_SIZE = 64  # drawn large, scaled down by Qt: crisp at 1.5x and 2x


class Status(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


def _pixmap(size: int = _SIZE) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(QColor(0, 0, 0, 0))  # transparent, without touching the Qt namespace (see letter_badge)
    return pm


def _solid(colour: QColor, size: int) -> QPixmap:
    pm = QPixmap(size, size)
    pm.fill(colour)
    return pm


@lru_cache(maxsize=128)
def letter_badge(key: str, letter: str, size: int = _SIZE) -> QIcon:
    """A disc with one white letter; hue from ``key`` (a provider id); ``size`` in device pixels (drawing at
    the size shown is both crisper and ~3x cheaper than scaling down a large one: 21 are painted as the
    first page shows).

    Painted by clipping solid pixmaps to the disc and the glyph outline: brushes, pens and text
    alignment all take Qt-namespace enums, whose first use builds all ~90 of them (~15 ms).
    """
    size = max(8, min(size, 256))
    pm = _pixmap(size)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    disc = QPainterPath()
    edge = size / 32  # the 2 px margin of the 64 px drawing, to scale
    disc.addEllipse(QRectF(edge, edge, size - 2 * edge, size - 2 * edge))
    p.setClipPath(disc)
    p.drawPixmap(0, 0, _solid(QColor.fromHsl(zlib.crc32(key.encode()) % 360, 120, 95), size))
    font = QFont()
    font.setBold(True)
    font.setPixelSize(max(1, int(size * 0.5)))
    glyph = QPainterPath()
    glyph.addText(0, 0, font, (letter or "?")[:1].upper())
    box = glyph.boundingRect()
    glyph.translate(size / 2 - box.center().x(), size / 2 - box.center().y())  # centred on its ink
    p.setClipPath(glyph)
    p.drawPixmap(0, 0, _solid(QColor(255, 255, 255), size))
    p.end()
    return QIcon(pm)


@lru_cache(maxsize=16)
def status_icon(status: Status) -> QIcon:
    """A small mark for a stage or probe state (colours are fixed on purpose: they carry meaning)."""
    from PySide6.QtCore import Qt

    pm = _pixmap()
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    colours = {
        Status.PENDING: "#9e9e9e",
        Status.RUNNING: "#1e88e5",
        Status.OK: "#2e7d32",
        Status.FAILED: "#c62828",
        Status.SKIPPED: "#9e9e9e",
        Status.CANCELLED: "#ef6c00",
    }
    colour = QColor(colours[status])
    s = float(_SIZE)
    if status is Status.PENDING:
        p.setPen(QPen(colour, 5))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawEllipse(QRectF(8, 8, s - 16, s - 16))
    else:
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawEllipse(QRectF(4, 4, s - 8, s - 8))
        pen = QPen(QColor("white"), 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if status is Status.OK:
            path = QPainterPath(QPointF(s * 0.28, s * 0.52))
            path.lineTo(QPointF(s * 0.44, s * 0.68))
            path.lineTo(QPointF(s * 0.73, s * 0.34))
            p.drawPath(path)
        elif status is Status.FAILED:
            p.drawLine(QPointF(s * 0.33, s * 0.33), QPointF(s * 0.67, s * 0.67))
            p.drawLine(QPointF(s * 0.67, s * 0.33), QPointF(s * 0.33, s * 0.67))
        elif status in (Status.SKIPPED, Status.CANCELLED):
            p.drawLine(QPointF(s * 0.3, s * 0.5), QPointF(s * 0.7, s * 0.5))
        elif status is Status.RUNNING:
            p.setBrush(QColor("white"))
            p.setPen(Qt.PenStyle.NoPen)
            for _i, x in enumerate((0.3, 0.5, 0.7)):
                p.drawEllipse(QPointF(s * x, s * 0.5), 4.5, 4.5)
    p.end()
    return QIcon(pm)

"""Status icons (a coloured disc per procedure step state) and the application icon.

Colour is never the only cue: each state also has its own shape (disc, tick,
cross) for colour-blind users and greyscale screenshots. The icons are SVG files
found through :mod:`mppsconsole.resources`; should Qt's SVG plugin or a file be
missing (a broken bundle), the same shapes are drawn here instead, so a table
never shows a blank status.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap

from mppsconsole import resources
from mppsconsole.core.mpps import COMPLETED, DISCONTINUED, IN_PROGRESS

STATUS_COLOURS = {
    IN_PROGRESS: QColor("#1f77d0"),
    COMPLETED: QColor("#2e9d4f"),
    DISCONTINUED: QColor("#c8452f"),
}
_SIZE = 16


@functools.cache
def status_icon(status: str) -> QIcon:
    """The state's SVG icon; drawn in code when it cannot be loaded or the state has none."""
    try:
        icon = QIcon(str(resources.status_icon_path(status)))
    except (ValueError, FileNotFoundError):
        return drawn_status_icon(status)
    return icon if not icon.pixmap(_SIZE, _SIZE).isNull() else drawn_status_icon(status)


def drawn_status_icon(status: str) -> QIcon:
    """The status icon painted in code: the fallback, and the shape the SVGs reproduce."""
    colour = STATUS_COLOURS.get(status, QColor("#888888"))
    pixmap = QPixmap(_SIZE, _SIZE)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setBrush(colour)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.drawEllipse(QRectF(1, 1, _SIZE - 2, _SIZE - 2))
    pen = QPen(QColor("white"), 2)
    painter.setPen(pen)
    if status == COMPLETED:
        painter.drawPolyline([QPointF(4.5, 8.5), QPointF(7, 11), QPointF(11.5, 5.5)])
    elif status == DISCONTINUED:
        painter.drawLine(QPointF(5, 5), QPointF(11, 11))
        painter.drawLine(QPointF(11, 5), QPointF(5, 11))
    else:
        painter.setBrush(QColor("white"))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(QRectF(6, 6, 4, 4))
    painter.end()
    return QIcon(pixmap)


def app_icon() -> QIcon:
    """The window icon from the committed PNG sizes (no SVG plugin needed for it)."""
    icon = QIcon()
    for size in resources.APP_ICON_SIZES:
        icon.addFile(str(resources.app_icon_path(size)), QSize(size, size))
    return icon

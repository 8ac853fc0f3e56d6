#!/usr/bin/env python3
"""Render the application icon's PNG sizes, the Windows .ico and the macOS .icns from the SVG.

Run it after changing ``mppsconsole/data/icons/mppsconsole.svg`` and commit what it
writes: the app, the wheel and the installers use the committed files, so nothing at
run time or in CI needs a renderer. It uses Qt's own SVG renderer (QtSvg ships in
PySide6-Essentials, a dependency anyway), so no image library joins the dependencies.

The .ico and .icns containers are written here rather than by Qt's image plugins: Qt's
ICO writer stores one image per file and it has no ICNS writer, while both formats
accept PNG-compressed entries (Windows Vista+, macOS 10.7+), which keeps them byte-simple.

    .venv/bin/python installer/make-icons.py
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Iterable
from pathlib import Path

# Rendering needs a Qt GUI application but no display.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QGuiApplication, QImage, QImageWriter, QPainter
from PySide6.QtSvg import QSvgRenderer

ICONS = Path(__file__).resolve().parent.parent / "mppsconsole" / "data" / "icons"
SOURCE = ICONS / "mppsconsole.svg"
#: The hicolor theme's usual sizes; 16–48 for menus and title bars, 256/512 for docks.
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
#: Windows shows 16–256; an ICO entry cannot be larger than 256.
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: ICNS entry types and their pixel sizes (the @2x types share pixels with the next size).
ICNS_TYPES = (
    (b"icp4", 16),
    (b"icp5", 32),
    (b"ic11", 32),
    (b"icp6", 64),
    (b"ic12", 64),
    (b"ic07", 128),
    (b"ic08", 256),
    (b"ic13", 256),
    (b"ic09", 512),
    (b"ic14", 512),
    (b"ic10", 1024),
)


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    """The SVG drawn into a transparent ``size`` × ``size`` image, encoded as PNG."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QImageWriter(buffer, QByteArray(b"png"))
    if not writer.write(image):
        raise RuntimeError(f"Qt could not encode a {size} px PNG: {writer.errorString()}")
    buffer.close()
    return bytes(data.data())


def ico_container(pngs: Iterable[tuple[int, bytes]]) -> bytes:
    """An ICO file whose entries are PNG images (ICONDIR, ICONDIRENTRY×n, the images)."""
    entries = list(pngs)
    header = struct.pack("<HHH", 0, 1, len(entries))
    offset = len(header) + 16 * len(entries)
    directory, images = b"", b""
    for size, png in entries:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        directory += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(png), offset)
        images += png
        offset += len(png)
    return header + directory + images


def icns_container(entries: Iterable[tuple[bytes, bytes]]) -> bytes:
    """An ICNS file: the ``icns`` header, then type + length + PNG data per entry."""
    body = b"".join(kind + struct.pack(">I", 8 + len(png)) + png for kind, png in entries)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    """Write the PNGs, the .ico and the .icns next to the SVG; report what was written."""
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"{SOURCE}: not an SVG Qt can render", file=sys.stderr)
        return 1
    sizes = sorted({*PNG_SIZES, *ICO_SIZES, *(size for _, size in ICNS_TYPES)})
    png = {size: render_png(renderer, size) for size in sizes}
    written = []
    for size in PNG_SIZES:
        path = ICONS / f"mppsconsole-{size}.png"
        path.write_bytes(png[size])
        written.append(path)
    ico = ICONS / "mppsconsole.ico"
    ico.write_bytes(ico_container((size, png[size]) for size in ICO_SIZES))
    icns = ICONS / "mppsconsole.icns"
    icns.write_bytes(icns_container((kind, png[size]) for kind, size in ICNS_TYPES))
    for path in [*written, ico, icns]:
        print(f"{path.relative_to(ICONS.parents[2])}: {path.stat().st_size} bytes")
    del app
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

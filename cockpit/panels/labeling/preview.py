"""The large preview: decoded off the GUI thread into a pyramid (the image, then halvings),
kept for the last few images, so a zoom step only redraws.

Painting draws the visible part of the smallest pyramid level at least as large as the
shown size: a downscale from at most twice the size (smooth), or, when the image is shown
larger than its pixels, the full image with nearest-neighbour (small images stay sharp).
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QPointF, QRectF, QRunnable, QSize, Qt, QThreadPool, Signal
from PySide6.QtGui import (
    QImage,
    QImageReader,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

SMALLEST_LEVEL = 512  # halve until a level's longer side is below twice this
CACHED_IMAGES = 3
CACHE_BYTES = 300 << 20  # two 24 MP pyramids; the newest image is always kept
MIN_ZOOM, MAX_ZOOM = 0.25, 8.0


def _read(path: Path, size: QSize | None = None) -> QImage:
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    if size is not None:
        reader.setScaledSize(size)  # in the file's own orientation, before the rotation
    return reader.read()


def build_pyramid(path: Path, early: Callable[[list[QImage]], None] | None = None) -> list[QImage]:
    """The decoded image (EXIF orientation applied) and its successive halvings; an empty
    list when the file cannot be read. ``early`` gets the smallest level first, before the
    full image is decoded, so a large image shows at once and sharpens when done.

    Every level is made by ``QImageReader.read``, which lets the GUI thread run (it
    releases Python's lock) where ``QImage.scaled`` would hold it for 50-150 ms on a
    24 MP image (measured): JPEG levels are decoded at the smaller size (the decoder
    scales, ~2.5 times faster than a full decode), other formats are read again and
    scaled inside the reader.
    """
    stored = QImageReader(str(path)).size()
    sizes: list[QSize] = []
    if stored.isValid():
        width, height = stored.width(), stored.height()
        while max(width, height) >= 2 * SMALLEST_LEVEL:
            width, height = max(1, width // 2), max(1, height // 2)
            sizes.append(QSize(width, height))
    smallest = None
    if sizes and early is not None:
        smallest = _read(path, sizes[-1])
        if smallest.isNull():
            smallest = None
        else:
            early([smallest])
    image = _read(path)
    if image.isNull():
        return []
    levels = [image]
    for size in sizes[:-1] if smallest is not None else sizes:
        level = _read(path, size)
        if level.isNull():
            return levels
        levels.append(level)
    if smallest is not None:
        levels.append(smallest)
    return levels


class _Signals(QObject):
    sig_decoded = Signal()


class _Decode(QRunnable):
    def __init__(self, loader: PreviewLoader, key: object, path: Path) -> None:
        super().__init__()
        self.loader, self.key, self.path = loader, key, path

    def run(self) -> None:
        self.loader.decode_threads.append(threading.get_ident())
        try:
            levels = build_pyramid(self.path, lambda first: self._publish(first, False))
        except Exception:  # an unreadable file is shown as such; the loader goes on
            levels = []
        self._publish(levels, True)

    def _publish(self, levels: list[QImage], final: bool) -> None:
        self.loader.decoded.put((self.key, levels, final))
        self.loader.signals.sig_decoded.emit()


class PreviewLoader(QObject):
    """Decodes one image at a time on its own thread; while one decodes, only the newest
    request waits (scrolling through images with the arrow keys skips the ones passed).
    ``sig_ready(key, levels)`` arrives on the GUI thread, for a large image twice (its
    smallest level first, then the whole pyramid); ``levels`` is empty for a file that
    cannot be read."""

    sig_ready = Signal(object, list)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        # (key, levels, final) from the decoding thread, one per sig_decoded
        self.decoded: queue.SimpleQueue = queue.SimpleQueue()
        self.cache: OrderedDict[object, list[QImage]] = OrderedDict()
        self.busy = False
        self.waiting: tuple[object, Path] | None = None
        self.wanted: object = None
        self.complete = True  # whether the last sig_ready carried the whole pyramid
        self.decode_threads: list[int] = []  # which threads decoded (the tests look)
        self.signals = _Signals(self)
        self.signals.sig_decoded.connect(self._decoded)

    def request(self, key: object, path: Path) -> None:
        self.wanted = key
        levels = self.cache.get(key)
        if levels is not None:
            self.cache.move_to_end(key)
            self.complete = True
            self.sig_ready.emit(key, levels)
            return
        if self.busy:
            self.waiting = (key, path)
            return
        self.busy = True
        self.pool.start(_Decode(self, key, path))

    def _decoded(self) -> None:
        key, levels, final = self.decoded.get_nowait()
        if not final:  # the smallest level, ahead of the rest
            if key == self.wanted:
                self.complete = False
                self.sig_ready.emit(key, levels)
            return
        self.busy = False
        self.complete = True
        self.cache[key] = levels
        while len(self.cache) > 1 and (
            len(self.cache) > CACHED_IMAGES
            or sum(i.sizeInBytes() for ls in self.cache.values() for i in ls) > CACHE_BYTES
        ):
            self.cache.popitem(last=False)
        if key == self.wanted:
            self.sig_ready.emit(key, levels)
        if self.waiting is not None:
            (next_key, path), self.waiting = self.waiting, None
            self.request(next_key, path)

    def stop(self) -> None:
        self.waiting = None
        self.pool.waitForDone(10_000)


class ImagePreview(QWidget):
    """Shows a pyramid at ``zoom`` times the fitted size; the wheel zooms, dragging pans."""

    sig_zoom_changed = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.levels: list[QImage] = []
        self.message = "select an image"
        self.zoom = 1.0
        self.pan = QPointF(0, 0)  # offset of the image centre from the widget centre
        self._drag_from: QPointF | None = None
        self.last_smooth: bool | None = None  # how the last paint scaled (the tests look)
        self.provisional = False  # only the smallest level has arrived
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 160)

    def set_levels(
        self, levels: list[QImage], message: str = "", *, same_image: bool = False
    ) -> None:
        """Show ``levels`` (largest first); ``same_image`` keeps zoom and position (the
        whole pyramid arriving after its smallest level)."""
        self.levels = levels
        self.message = message
        if not same_image:
            self.pan = QPointF(0, 0)
        self.update()

    def set_zoom(self, zoom: float) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        if zoom != self.zoom:
            self.zoom = zoom
            self.update()
            self.sig_zoom_changed.emit(zoom)

    def shown_scale(self) -> float:
        """Shown pixels per image pixel."""
        if not self.levels:
            return 1.0
        full = self.levels[0]
        fit = min(self.width() / full.width(), self.height() / full.height())
        return fit * self.zoom

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        if not self.levels:
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        full = self.levels[0]
        scale = self.shown_scale()
        width, height = full.width() * scale, full.height() * scale
        centre = QPointF(self.width() / 2, self.height() / 2) + self.pan
        target = QRectF(centre.x() - width / 2, centre.y() - height / 2, width, height)
        visible = target.intersected(QRectF(self.rect()))
        if visible.isEmpty():
            return
        level = full
        for candidate in reversed(self.levels):  # smallest first
            if candidate.width() >= width:
                level = candidate
                break
        ratio = level.width() / width  # level pixels per shown pixel
        source = QRectF(
            (visible.x() - target.x()) * ratio,
            (visible.y() - target.y()) * ratio,
            visible.width() * ratio,
            visible.height() * ratio,
        )
        # enlarged beyond its pixels: nearest-neighbour, unless only a smaller level is
        # here yet (the whole image is still decoding)
        self.last_smooth = scale < 1.0 or self.provisional
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.last_smooth)
        painter.drawImage(visible, level, source)

    def wheelEvent(self, event: QWheelEvent) -> None:
        steps = event.angleDelta().y() / 120
        if steps:
            self.set_zoom(self.zoom * (1.25**steps))
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag_from is not None:
            self.pan += event.position() - self._drag_from
            self._drag_from = event.position()
            self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag_from = None
        self.unsetCursor()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.pan = QPointF(0, 0)  # back to the fitted view
        self.set_zoom(1.0)
        self.update()

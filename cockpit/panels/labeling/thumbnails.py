"""Thumbnails decoded off the GUI thread, cached on disk and (bounded) in memory."""

from __future__ import annotations

import queue
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage, QImageReader

THUMB_SIZE = 96
MEMORY_ITEMS = 3000  # ~100 MB of 96 px RGBA thumbnails at most
COLLECT_MS = 30


class _Job(QRunnable):
    def __init__(self, image_id: int, source: Path, cached: Path, ready: queue.SimpleQueue) -> None:
        super().__init__()
        self.image_id, self.source, self.cached, self.ready = image_id, source, cached, ready

    def run(self) -> None:
        image = QImage(str(self.cached)) if self.cached.exists() else QImage()
        if image.isNull():
            reader = QImageReader(str(self.source))
            size = reader.size()
            if size.isValid():  # decode at thumbnail size: big files stay cheap
                reader.setScaledSize(
                    size.scaled(QSize(THUMB_SIZE, THUMB_SIZE), Qt.AspectRatioMode.KeepAspectRatio)
                )
            image = reader.read()
            if not image.isNull():
                self.cached.parent.mkdir(parents=True, exist_ok=True)
                temporary = self.cached.with_suffix(".tmp.png")
                if image.save(str(temporary), "PNG"):
                    temporary.replace(self.cached)
        self.ready.put((self.image_id, image))


class ThumbnailCache(QObject):
    """``get`` returns a cached thumbnail or None and starts loading it. Finished
    thumbnails are collected by a timer on the GUI thread and announced together in one
    ``sig_ready`` (a list of image ids): however fast the workers are, the GUI handles at
    most one batch per tick, and no Qt object crosses threads through a signal."""

    sig_ready = Signal(list)

    def __init__(self, workspace_root: Path, cache_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.root = workspace_root
        self.cache_dir = cache_dir
        self.images: OrderedDict[int, QImage] = OrderedDict()
        self.loading: set[int] = set()
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(2)
        self.ready: queue.SimpleQueue = queue.SimpleQueue()
        self.timer = QTimer(self, interval=COLLECT_MS)
        self.timer.timeout.connect(self._collect)
        self.timer.start()

    def get(self, image_id: int, relative_path: str) -> QImage | None:
        image = self.images.get(image_id)
        if image is not None:
            self.images.move_to_end(image_id)
            return image
        if image_id not in self.loading:
            self.loading.add(image_id)
            cached = self.cache_dir / f"{image_id}.png"
            self.pool.start(_Job(image_id, self.root / relative_path, cached, self.ready))
        return None

    def _collect(self) -> None:
        arrived = []
        while True:
            try:
                image_id, image = self.ready.get_nowait()
            except queue.Empty:
                break
            self.loading.discard(image_id)
            self.images[image_id] = image
            arrived.append(image_id)
        if not arrived:
            return
        while len(self.images) > MEMORY_ITEMS:
            self.images.popitem(last=False)
        self.sig_ready.emit(arrived)

    def stop(self) -> None:
        """Drop queued thumbnails and wait for the running ones: a thread pool destroyed
        with Python jobs still running can deadlock the interpreter's shutdown."""
        self.timer.stop()
        self.pool.clear()
        self.pool.waitForDone(10_000)

    def clear_pending(self) -> None:
        self.pool.clear()
        self.loading.clear()

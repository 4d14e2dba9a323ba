"""Thumbnails decoded off the GUI thread, cached on disk and (bounded) in memory.

Requests go into a bounded most-recent-first list that two workers drain, so after a fast
scroll the rows on screen come first and requests for rows long scrolled past are dropped
(a thread pool queue of thousands of jobs would make every new request slower).
"""

from __future__ import annotations

import queue
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage, QImageReader

THUMB_SIZE = 96
MEMORY_ITEMS = 3000  # ~100 MB of 96 px RGBA thumbnails at most
WANTED_ITEMS = 400  # requests kept; older ones are dropped and asked again when visible
WORKERS = 2
COLLECT_MS = 30


def load_thumbnail(source: Path, cached: Path) -> QImage:
    """The cached thumbnail, or one decoded at thumbnail size and written to the cache."""
    image = QImage(str(cached)) if cached.exists() else QImage()
    if not image.isNull():
        return image
    reader = QImageReader(str(source))
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > THUMB_SIZE:
        # decode at thumbnail size: big files stay cheap; small ones are never upscaled
        # here (the grid draws them larger with nearest-neighbour, sharp)
        reader.setScaledSize(
            size.scaled(QSize(THUMB_SIZE, THUMB_SIZE), Qt.AspectRatioMode.KeepAspectRatio)
        )
    image = reader.read()
    if not image.isNull():
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_name(f"{cached.stem}.{threading.get_ident()}.tmp.png")
            if image.save(str(temporary), "PNG"):
                temporary.replace(cached)
        except OSError:
            pass  # the cache is an optimisation: a full or read-only disk only costs speed
    return image


class _Worker(QRunnable):
    def __init__(self, cache: ThumbnailCache) -> None:
        super().__init__()
        self.cache = cache

    def run(self) -> None:
        while (item := self.cache.next_request()) is not None:
            image_id, relative_path = item
            try:
                image = load_thumbnail(
                    self.cache.root / relative_path, self.cache.cache_dir / f"{image_id}.png"
                )
            except Exception:  # an unreadable file shows the placeholder, the worker goes on
                image = QImage()
            self.cache.ready.put((image_id, image))


class ThumbnailCache(QObject):
    """``get`` returns a cached thumbnail or None and asks for it. Finished thumbnails are
    collected by a timer on the GUI thread and announced together in one ``sig_ready``
    (a list of image ids); no Qt object crosses threads through a signal."""

    sig_ready = Signal(list)

    def __init__(self, workspace_root: Path, cache_dir: Path, parent: QObject | None = None):
        super().__init__(parent)
        self.root = workspace_root
        self.cache_dir = cache_dir
        self.images: OrderedDict[int, QImage] = OrderedDict()
        self.wanted: OrderedDict[int, str] = OrderedDict()
        self.in_progress: set[int] = set()
        self.lock = threading.Lock()
        self.workers = 0
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(WORKERS)
        self.ready: queue.SimpleQueue = queue.SimpleQueue()
        self.timer = QTimer(self, interval=COLLECT_MS)
        self.timer.timeout.connect(self._collect)
        self.timer.start()

    def get(self, image_id: int, relative_path: str) -> QImage | None:
        image = self.images.get(image_id)
        if image is not None:
            self.images.move_to_end(image_id)
            return image
        with self.lock:
            if image_id in self.in_progress:
                return None
            self.wanted[image_id] = relative_path
            self.wanted.move_to_end(image_id)
            while len(self.wanted) > WANTED_ITEMS:
                self.wanted.popitem(last=False)
            start = self.workers < WORKERS
            if start:
                self.workers += 1
        if start:
            self.pool.start(_Worker(self))
        return None

    def next_request(self) -> tuple[int, str] | None:
        """The newest request (a worker's next job), or None when there is none left."""
        with self.lock:
            if not self.wanted:
                self.workers -= 1
                return None
            image_id, relative_path = self.wanted.popitem(last=True)
            self.in_progress.add(image_id)
            return image_id, relative_path

    def _collect(self) -> None:
        arrived = []
        while True:
            try:
                image_id, image = self.ready.get_nowait()
            except queue.Empty:
                break
            with self.lock:
                self.in_progress.discard(image_id)
            self.images[image_id] = image
            arrived.append(image_id)
        if not arrived:
            return
        while len(self.images) > MEMORY_ITEMS:
            self.images.popitem(last=False)
        self.sig_ready.emit(arrived)

    def clear_pending(self) -> None:
        with self.lock:
            self.wanted.clear()

    def stop(self) -> None:
        """Drop open requests and wait for the running ones: a thread pool destroyed with
        Python jobs still running can deadlock the interpreter's shutdown."""
        self.timer.stop()
        self.clear_pending()
        self.pool.waitForDone(10_000)

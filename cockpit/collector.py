"""Garbage collection on the GUI thread only.

Python collects garbage on whichever thread happens to allocate. When that is a worker
thread (a panel's background read) and the garbage holds a Qt object, Qt's destructor can
wait for the interpreter while holding a lock the GUI thread waits for: both hang. So the
application turns automatic collection off and collects on the GUI thread, from a timer,
by the same generation thresholds Python itself would use (the approach PyQt and PySide
applications take for this)."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        self.timer.start(interval_ms)

    def collect(self) -> int:
        """Collect the oldest generation whose count passed its threshold (as Python's
        automatic collection would); returns the generation, or -1 for none."""
        young, middle, old = gc.get_count()
        first, second, third = self.thresholds
        if young <= first:
            return -1
        generation = 0
        if middle > second:
            generation = 1
            if old > third:
                generation = 2
        gc.collect(generation)
        return generation

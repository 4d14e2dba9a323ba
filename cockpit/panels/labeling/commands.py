"""Undoable label actions. The previous labels come from the model (known at once), the
database writes go to one background thread in order, so undo always follows its redo."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QUndoCommand


class _Signals(QObject):
    sig_failed = Signal(str)


class _Write(QRunnable):
    def __init__(self, action: Callable[[], Any], signals: _Signals) -> None:
        super().__init__()
        self.action, self.signals = action, signals

    def run(self) -> None:
        try:
            self.action()
        except Exception as exc:  # shown by the panel, which reloads from the database
            self.signals.sig_failed.emit(str(exc))


class SerialWriter(QObject):
    """Runs database writes one after another off the GUI thread."""

    sig_failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.signals = _Signals(self)
        self.signals.sig_failed.connect(self.sig_failed)

    def submit(self, action: Callable[[], Any]) -> None:
        self.pool.start(_Write(action, self.signals))

    def wait(self, msecs: int = 10_000) -> bool:
        return self.pool.waitForDone(msecs)


class LabelCommand(QUndoCommand):
    def __init__(
        self,
        text: str,
        new: dict[int, int | None],
        previous: dict[int, int | None],
        apply: Callable[[dict[int, int | None], bool], None],
    ) -> None:
        super().__init__(text)
        self.new, self.previous, self.apply = new, previous, apply

    def redo(self) -> None:
        self.apply(self.new, False)

    def undo(self) -> None:
        self.apply(self.previous, True)

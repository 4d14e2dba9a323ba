"""A busy line for one long task of the panel (export, predict, MLflow start): what runs,
a moving bar, the seconds so far and a Cancel button. Hidden while nothing runs."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from cockpit.richtext import plain


class BusyBar(QWidget):
    def __init__(self, cancel_tip: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = plain(QLabel())
        self.bar = QProgressBar()
        self.bar.setRange(0, 0)  # no known length: the bar moves to show it is alive
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(140)
        self.bar.setMaximumHeight(14)
        self.elapsed = QLabel()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip(cancel_tip)
        self.cancel_button.clicked.connect(self._cancel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.bar)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.elapsed)
        layout.addWidget(self.cancel_button)
        self._on_cancel: Callable[[], None] | None = None
        self._started = 0.0
        self._timer = QTimer(self, interval=500)
        self._timer.timeout.connect(self._tick)
        self.hide()

    @property
    def busy(self) -> bool:
        return self._on_cancel is not None

    def start(self, text: str, on_cancel: Callable[[], None]) -> None:
        self.label.setText(text)
        self._on_cancel = on_cancel
        self._started = time.monotonic()
        self.elapsed.setText("0 s")
        self.cancel_button.setEnabled(True)
        self._timer.start()
        self.show()

    def finish(self) -> None:
        self._on_cancel = None
        self._timer.stop()
        self.hide()

    def _tick(self) -> None:
        self.elapsed.setText(f"{time.monotonic() - self._started:.0f} s")

    def _cancel(self) -> None:
        on_cancel, self._on_cancel = self._on_cancel, None
        self.cancel_button.setEnabled(False)
        if on_cancel is not None:
            on_cancel()

"""A job's log in a window that follows the file while the job runs."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFontDatabase, QTextCursor
from PySide6.QtWidgets import QDialog, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from cockpit.panels.queue.details import plain
from core.jobs.tail import FileTail
from core.workspace import Workspace

FIRST_READ_BYTES = 256 * 1024  # a huge log opens at its end, at once
MAX_BLOCKS = 20_000


class LogDialog(QDialog):
    def __init__(self, workspace: Workspace, job_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.job_id = job_id
        self.setWindowTitle(f"Log of job {job_id}")
        self.resize(900, 560)
        path = workspace.logs_dir / f"{job_id}.log"
        self.tail = FileTail(path, first_read_max=FIRST_READ_BYTES)
        self.text = QPlainTextEdit(readOnly=True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setMaximumBlockCount(MAX_BLOCKS)
        self.where = QLabel(str(path))
        layout = QVBoxLayout(self)
        layout.addWidget(self.where)
        layout.addWidget(self.text, 1)
        self.timer = QTimer(self, interval=1000)
        self.timer.timeout.connect(self.follow)
        self.timer.start()
        self.follow()

    def follow(self) -> None:
        """Append what was written since the last read (only the new bytes are read)."""
        chunk = self.tail.read()
        if chunk.reset:
            self.text.clear()
        if chunk.skipped and not self.text.toPlainText():
            self.text.appendPlainText(f"[… first {chunk.skipped:,} bytes not shown …]")
        if chunk.text:
            bar = self.text.verticalScrollBar()
            at_end = bar.value() >= bar.maximum() - 2
            self.text.moveCursor(QTextCursor.MoveOperation.End)
            self.text.insertPlainText(plain(chunk.text))
            if at_end:
                bar.setValue(bar.maximum())
        elif not self.text.toPlainText():
            self.text.setPlaceholderText("no output yet")

    def done(self, result: int) -> None:
        self.timer.stop()
        super().done(result)

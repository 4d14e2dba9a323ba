"""A "Reproduce" button and its "Cancel reproduction" partner, shared by the Models and
History panels: ``cockpit reproduce ARGS`` in a child process (torch and mlflow stay out of
the GUI), the outcome — metrics identical or not, warnings, per-metric rows — as one
message; the cancel kills the child (its half-trained folder stays, the next reproduction
starts in a new one; the original experiment is never touched)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess, Signal
from PySide6.QtWidgets import QPushButton

from cockpit.panels.models.cli_process import CliProcesses, error_lines

Message = Callable[[str, bool], None]


class Reproducer(QObject):
    sig_finished = Signal(int, str)  # exit code, the outcome line shown

    def __init__(self, processes: CliProcesses, show_message: Message, parent: QObject) -> None:
        super().__init__(parent)
        self.processes = processes
        self.show_message = show_message
        self.process: QProcess | None = None
        self.closed = False
        self.button = QPushButton("Reproduce")
        self.button.setToolTip(
            "retrain from the run's record (parameters, images, labels, splits) as a "
            "separate, unregistered run and compare the metrics"
        )
        self.cancel_button = QPushButton("Cancel reproduction")
        self.cancel_button.setToolTip("stop the reproduction; nothing is registered")
        self.cancel_button.clicked.connect(lambda: self.cancel())
        self.cancel_button.setVisible(False)
        self.enabled = False

    def set_available(self, available: bool) -> None:
        self.enabled = available
        self.button.setEnabled(available and self.process is None)

    def start(self, args: list[str], what: str) -> None:
        if self.process is not None:
            self.show_message("a reproduction is already running", True)
            return
        self.show_message(f"reproducing {what}: retraining it from its record …", False)

        def finished(code: int, out: str, err: str) -> None:
            cancelled = self.process is None
            self.process = None
            if self.closed:
                return
            self.cancel_button.setVisible(False)
            self.set_available(self.enabled)
            if cancelled:
                text = f"reproduction of {what} cancelled"
                self.show_message(text, False)
            elif code != 0:
                text = f"reproduction failed: {error_lines(err)}"
                self.show_message(text, True)
            else:
                lines = [line.strip() for line in out.splitlines() if line.strip()]
                rows = [line for line in lines if line.startswith(("best_", "test_"))]
                warnings = [line for line in lines if line.startswith("warning: ")]
                text = f"reproduced {what}: {lines[-1] if lines else 'done'}"
                self.show_message("\n".join([text, *warnings, *rows]), "differ" in text)
            self.sig_finished.emit(code, text)

        self.process = self.processes.start(["reproduce", *args], finished)
        self.cancel_button.setVisible(True)
        self.button.setEnabled(False)

    def cancel(self) -> None:
        process, self.process = self.process, None
        if process is not None:
            process.kill()

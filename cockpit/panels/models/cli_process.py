"""One ``cockpit`` command in a child process (QProcess): crash isolation, and torch and
mlflow stay out of the GUI process. The callback gets (exit code, stdout, stderr)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from PySide6.QtCore import QObject, QProcess

from core.workspace import Workspace

Finished = Callable[[int, str, str], None]


class CliProcesses(QObject):
    """The cockpit commands a panel has running; ``kill_all()`` ends them (app exit)."""

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.running: set[QProcess] = set()

    def start(self, args: list[str], on_finished: Finished) -> QProcess:
        process = QProcess(self)
        process.setWorkingDirectory(str(self.workspace.root))
        process.setProgram(sys.executable)
        process.setArguments(["-m", "cockpit", "--workspace", str(self.workspace.root), *args])

        def finished(code: int, status: QProcess.ExitStatus) -> None:
            self.running.discard(process)
            out = bytes(process.readAllStandardOutput().data()).decode(errors="replace")
            err = bytes(process.readAllStandardError().data()).decode(errors="replace")
            if status == QProcess.ExitStatus.CrashExit:
                code = code or -1
            process.deleteLater()
            on_finished(code, out, err)

        def failed(error: QProcess.ProcessError) -> None:
            if error == QProcess.ProcessError.FailedToStart:
                self.running.discard(process)
                on_finished(-1, "", f"error: could not start {sys.executable}")

        process.finished.connect(finished)
        process.errorOccurred.connect(failed)
        self.running.add(process)
        process.start()
        return process

    def kill_all(self) -> None:
        for process in list(self.running):
            process.finished.disconnect()
            process.kill()
            process.waitForFinished(3000)
        self.running.clear()


def error_lines(stderr: str) -> str:
    """The CLI's one-line ``error: …`` messages, else the last line of stderr."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    return "\n".join(errors) if errors else (lines[-1] if lines else "failed without a message")

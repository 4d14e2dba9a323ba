"""The selected job at a glance: what it runs, its state and error, its latest log lines."""

from __future__ import annotations

import re

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from cockpit.panels.queue.model import experiment_text, time_text
from core.jobs.progress import Progress, duration_text
from core.jobs.model import Job
from core.jobs.runner import log_tail
from core.workspace import Workspace

LOG_LINES = 30
ANSI_CODES = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")  # colours some libraries print


def plain(text: str) -> str:
    return ANSI_CODES.sub("", text)


def details_text(workspace: Workspace, job: Job, progress: Progress | None) -> str:
    """Read in the background: the log tail touches the disk."""
    lines = [
        f"{job.kind} job {job.id} — {job.state}"
        + (" (cancel requested)" if job.cancel_requested and job.state == "running" else ""),
        f"theme {job.theme or '-'} · model {job.params.get('model') or '-'} · "
        f"{experiment_text(job) or 'no experiment'} · priority {job.priority} · "
        f"attempt {job.attempts} · {job.failures} failed, gives up at {job.max_retries + 1}"
        + (f" · killed {job.kills}×" if job.kills else ""),
        time_text(job)
        + (f" on {job.where}" if job.device else "")
        + (f" (pid {job.pid})" if job.pid and job.state == "running" else ""),
    ]
    if job.name:
        lines.insert(1, f"name: {job.name}")
    if progress is not None and progress.text():
        eta = f", about {duration_text(progress.eta_s)} left" if progress.eta_s else ""
        lines.append(f"progress: {progress.text()}{eta}")
    if job.error:
        lines += ["", "error:", *job.error.strip().splitlines()[-12:]]
    tail = plain(log_tail(workspace.logs_dir / f"{job.id}.log", LOG_LINES))
    lines += ["", f"log ({workspace.relative(workspace.logs_dir)}/{job.id}.log):"]
    lines.append(tail if tail else "(no output yet)")
    return "\n".join(lines)


class JobDetails(QPlainTextEdit):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setPlaceholderText("select a job to see its details and latest log lines")
        self.job_id: str | None = None

    def show_text(self, job_id: str, text: str) -> None:
        if job_id != self.job_id or text == self.toPlainText():
            return
        bar = self.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        self.setPlainText(text)
        if at_end:
            bar.setValue(bar.maximum())

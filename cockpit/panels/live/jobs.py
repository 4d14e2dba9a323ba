"""The jobs the Live panel offers: running first, then pending, then recently ended."""

from __future__ import annotations

from dataclasses import dataclass

from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.workspace import Workspace

RECENT_ENDED = 50


@dataclass(frozen=True)
class JobRow:
    id: str
    kind: str
    state: str
    label: str
    when: float | None = None  # started (running) or ended; None for pending
    started: bool = False  # it ran (a job cancelled while pending never did)

    @property
    def short_id(self) -> str:
        return self.id[-6:]

    @property
    def is_study(self) -> bool:
        return self.kind == "tune"


def run_title(job: Job) -> str:
    """What a job is called in the list, the status line and legends: its run name, else
    its label (kind, theme, model)."""
    return job.title


def list_jobs(workspace: Workspace) -> list[JobRow]:
    """Reads the queue folders (worker thread)."""
    if not workspace.queue_dir.is_dir():
        return []
    jobs = JobQueue(workspace).jobs()
    running = sorted((j for j in jobs if j.state == "running"), key=lambda j: -(j.started_at or 0))
    pending = sorted((j for j in jobs if j.state == "pending"), key=lambda j: j.order_key())
    ended = sorted(
        (j for j in jobs if j.state not in ("running", "pending")),
        key=lambda j: -(j.finished_at or j.created_at),
    )[:RECENT_ENDED]
    rows = []
    for job in running + pending + ended:
        when = job.started_at if job.state == "running" else job.finished_at
        rows.append(
            JobRow(job.id, job.kind, job.state, run_title(job), when, job.started_at is not None)
        )
    return rows

"""Plot jobs from the history: queue the plots of a run's experiment, then follow the job
until it ends and list the images it wrote (``output/experiments/<id>/plots/*.png``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.errors import CockpitError
from core.history.entries import find_entry, list_entries
from core.jobs.model import TERMINAL, Job
from core.jobs.queue import JobQueue
from core.workspace import Workspace


@dataclass(frozen=True)
class PlotStatus:
    job_id: str
    experiment_id: str
    state: str
    images: tuple[Path, ...]  # when the job has ended
    error: str | None = None

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL


def plot_images(workspace: Workspace, experiment_id: str) -> list[Path]:
    folder = workspace.experiment_dir(experiment_id) / "plots"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.png") if not p.name.endswith(".tmp.png"))


def request_plots(workspace: Workspace, ident: str, *, start: bool = True) -> Job:
    """Queue a plot job for the experiment of history row ``ident``."""
    from core.jobs.submit import submit_plot

    entry = find_entry(list_entries(workspace), ident)
    if not entry.experiment_id or entry.kind != "train":
        raise CockpitError(f"{entry.id}: a {entry.kind} job has no experiment to plot")
    return submit_plot(workspace, entry.experiment_id, start=start)


def plot_status(workspace: Workspace, job_id: str) -> PlotStatus:
    job = JobQueue(workspace).get(job_id)
    experiment_id = str(job.args.get("experiment_id", ""))
    ended = job.state in TERMINAL
    images = tuple(plot_images(workspace, experiment_id)) if ended else ()
    return PlotStatus(job.id, experiment_id, job.state, images, job.error)

"""Submit jobs: validate everything first, freeze the parameters and data fingerprint,
refuse a duplicate of a pending or running experiment, and start the runner."""

from __future__ import annotations

from core.config.params import ResolvedParams
from core.experiment import canonicalize
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.jobs.runner import start_runner
from core.workspace import Workspace


def _frozen(params: ResolvedParams) -> dict:
    return canonicalize(params.values, base_dir=params.workspace_root)


def submit_train(
    workspace: Workspace,
    theme: str,
    params: ResolvedParams,
    *,
    priority: int = 0,
    restart: bool = False,
    max_retries: int = 2,
    start: bool = True,
) -> Job:
    from core.training.builder import ExperimentBuilder

    snapshot = ExperimentBuilder(workspace, params, theme).data_snapshot()
    fingerprint = snapshot.fingerprint()
    job = Job(
        kind="train",
        workspace=str(workspace.root),
        theme=theme,
        params=_frozen(params),
        data_fingerprint=fingerprint,
        experiment_id=params.experiment_id(fingerprint),
        args={"restart": restart},
        priority=priority,
        max_retries=max_retries,
    )
    job = JobQueue(workspace).submit(job)
    if start:
        start_runner(workspace)
    return job


def submit_plot(workspace: Workspace, experiment_id: str, *, start: bool = True) -> Job:
    from core.plots.run import restore_experiment

    params, theme, _snapshot = restore_experiment(workspace, experiment_id)
    job = Job(
        kind="plot",
        workspace=str(workspace.root),
        theme=theme,
        params=_frozen(params),
        args={"experiment_id": experiment_id},
    )
    job = JobQueue(workspace).submit(job)
    if start:
        start_runner(workspace)
    return job


def submit_check(workspace: Workspace, params: ResolvedParams, *, start: bool = True) -> Job:
    job = Job(kind="check", workspace=str(workspace.root), params=_frozen(params))
    job = JobQueue(workspace).submit(job)
    if start:
        start_runner(workspace)
    return job

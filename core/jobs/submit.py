"""Submit jobs: validate everything first, freeze the parameters and data fingerprint,
refuse a duplicate of a pending or running experiment, and start the runner."""

from __future__ import annotations

from pathlib import Path

from core.config.params import ResolvedParams
from core.experiment import canonicalize
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.jobs.runner import start_runner
from core.names import check_optional_name
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

    check_optional_name("params run_name", params.values.get("run_name", ""))
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
    from core.training.restore import restore_experiment

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


def submit_tune(
    workspace: Workspace,
    theme: str,
    optuna_params_file: Path | None = None,
    *,
    params_file: Path | None = None,
    n_trials: int | None = None,
    workers: int = 1,
    start: bool = True,
) -> tuple[list[Job], list[str]]:
    """Queue a study: ``workers`` jobs share it (one per free GPU when the runner has them).
    Returns the jobs and the validation's warnings."""
    from core.config import resolve_params
    from core.config.optuna_params import load_optuna_params
    from core.training.builder import ExperimentBuilder
    from core.tuning.study import fixed_parameters
    from core.tuning.validation import validate_study

    path = optuna_params_file or workspace.optuna_params_file
    config = load_optuna_params(path)
    fixed = fixed_parameters(workspace, config, params_file)
    base = resolve_params(workspace, base=fixed, base_label="tuning base", read_params_file=False)
    check_optional_name("params run_name", base.values.get("run_name", ""))
    snapshot = ExperimentBuilder(workspace, base, theme).data_snapshot()  # splits new images
    checked = validate_study(config, base, snapshot, workspace.relative(path))
    checked.raise_errors()
    queue = JobQueue(workspace)
    jobs = []
    for _ in range(max(1, workers)):
        job = Job(
            kind="tune",
            workspace=str(workspace.root),
            theme=theme,
            params=canonicalize(fixed, base_dir=workspace.root),
            args={
                "optuna": config.model_dump(mode="json"),
                "n_trials": n_trials,
                "study_name": config.study.name,
            },
        )
        jobs.append(queue.submit(job))
    if start:
        start_runner(workspace)
    return jobs, checked.warnings

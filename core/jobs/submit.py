"""Submit jobs: validate everything first (the checks of ``cockpit config check``), freeze
the parameters, augmentations, registry entries and data fingerprint into the job file,
refuse a duplicate of a pending or running experiment, and start the runner."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

from core.config.naming import run_name_of
from core.config.params import ResolvedParams
from core.errors import CockpitError
from core.fileio import atomic_write_text
from core.hashing import canonicalize
from core.imports import albumentations_without_torch
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.jobs.runner import start_runner
from core.names import check_name, check_optional_name
from core.workspace import Workspace


def _frozen(params: ResolvedParams) -> dict:
    return canonicalize(params.values, base_dir=params.workspace_root)


def _check_augments(workspace: Workspace, params: ResolvedParams) -> None:
    """Instantiate the augmentations the way training will (an unknown transform or a bad
    argument fails now, not in the runner), as ``cockpit config check`` does.

    Importing albumentations (with torch and OpenCV) takes seconds; the verdict depends only
    on the parsed augmentations and the albumentations version, so a success is remembered
    in ``output/checked/`` and the next submit of the same augmentations skips the import.
    A failure is never remembered.
    """
    from importlib import metadata

    from core.config.augments import build_train_transforms

    try:
        version = metadata.version("albumentations")
    except metadata.PackageNotFoundError:
        version = "not installed"
    document = params.augments_document
    key = json.dumps([document, version], sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    marker = workspace.root / "output" / "checked" / f"augments-{digest}.json"
    if marker.exists():
        return
    albumentations_without_torch()
    build_train_transforms(params.augments, workspace.relative(workspace.augments_file))
    atomic_write_text(marker, key + "\n")


def _freeze(workspace: Workspace, params: ResolvedParams) -> dict[str, Any]:
    """The job fields that pin the configuration, validated: the augmentations are
    instantiated; the registry entries' modules were found, parsed and digested when
    ``params`` were resolved."""
    _check_augments(workspace, params)
    return {
        "params": _frozen(params),
        "augments": params.augments_document,
        "registry": params.registry.model_dump(mode="json"),
        "code": params.code,
    }


def _named(params: ResolvedParams, name: str | None) -> ResolvedParams:
    """``params`` with the user's run name (``--name``) as ``run_name``."""
    if name is None:
        return params
    name = check_name("--name", name)
    return dataclasses.replace(params, values={**params.values, "run_name": name})


def submit_train(
    workspace: Workspace,
    theme: str,
    params: ResolvedParams,
    *,
    name: str | None = None,
    priority: int = 0,
    restart: bool = False,
    max_retries: int = 2,
    start: bool = True,
    strict: bool = False,
) -> Job:
    """Validate, pre-flight check (core.jobs.preflight: errors refuse, ``strict`` makes
    warnings errors) and queue a training; the job keeps the check's warnings. ``name``:
    the run's name (else ``run_name``, else derived from the parameters that differ from
    the defaults); a label only, not in the experiment id."""
    from core.jobs.preflight import preflight
    from core.training.builder import ExperimentBuilder

    params = _named(params, name)
    check_optional_name("params run_name", params.values.get("run_name", ""))
    if workspace.stores.ships_data:
        from core.jobs.shipping import experiment_problem, stores_problem

        # refused now, not when the job runs: nothing is queued
        problem = stores_problem(workspace) or experiment_problem(workspace, theme)
        if problem:
            raise CockpitError(problem)
    frozen = _freeze(workspace, params)  # before the snapshot: an invalid job splits no images
    snapshot = ExperimentBuilder(workspace, params, theme).data_snapshot()
    checked = preflight(workspace, theme, params, snapshot, strict=strict)
    checked.raise_errors()
    fingerprint = snapshot.fingerprint()
    job = Job(
        kind="train",
        workspace=str(workspace.root),
        theme=theme,
        name=run_name_of(params),
        **frozen,
        data_fingerprint=fingerprint,
        experiment_id=params.experiment_id(fingerprint),
        args={"restart": restart},
        priority=priority,
        max_retries=max_retries,
        preflight=checked.as_dict(),
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
    workers: int | None = None,
    name: str | None = None,
    start: bool = True,
    seconds_per_trial: float | None = None,
    strict: bool = False,
) -> tuple[list[Job], list[str]]:
    """Queue a study: ``workers`` jobs share it (default: the study file's ``n_parallel``;
    never more than its trials), run side by side as the runner has slots (GPUs, CPU
    slots or the Ray cluster's).
    ``name``: the study's MLflow parent run name (default: ``run_name``, else
    ``tune-<study>``). Returns the jobs and the warnings of the study's validation and
    pre-flight check (``strict``: warnings refuse it too)."""
    from core.config import resolve_params
    from core.config.optuna_params import load_optuna_params
    from core.jobs.shipping import refuse_shipped_study
    from core.training.builder import ExperimentBuilder

    refuse_shipped_study(workspace)
    from core.tuning.study import fixed_parameters
    from core.tuning.validation import validate_study

    path = optuna_params_file or workspace.optuna_params_file
    config = load_optuna_params(path)
    total = n_trials or config.study.n_trials
    workers = min(workers or config.study.n_parallel, total)
    fixed = fixed_parameters(workspace, config, params_file)
    if name is not None:
        fixed["run_name"] = check_name("--name", name)
    base = resolve_params(workspace, base=fixed, base_label="tuning base", read_params_file=False)
    check_optional_name("params run_name", base.values.get("run_name", ""))
    snapshot = ExperimentBuilder(workspace, base, theme).data_snapshot()  # splits new images
    checked = validate_study(config, base, snapshot, workspace.relative(path))
    from core.jobs.preflight import preflight

    flight = preflight(
        workspace,
        theme,
        base,
        snapshot,
        runs=total,
        parallel_jobs=workers,
    )
    warnings = [*checked.warnings, *flight.warnings]
    errors = [*checked.errors, *flight.errors, *(warnings if strict else [])]
    if errors:
        raise CockpitError("\n".join(errors))
    augments = _freeze(workspace, base)["augments"]
    # the name the study's parent run gets (core.tuning.study)
    run_name = base.values.get("run_name") or f"tune-{config.study.name}"
    queue = JobQueue(workspace)
    jobs = []
    for worker in range(workers):
        job = Job(
            kind="tune",
            workspace=str(workspace.root),
            theme=theme,
            name=run_name,
            params=canonicalize(fixed, base_dir=workspace.root),
            augments=augments,
            args={
                "optuna": config.model_dump(mode="json"),
                "n_trials": n_trials,
                "study_name": config.study.name,
                "seconds_per_trial": seconds_per_trial,
                "worker": worker,  # its sampler's seed differs from the other workers'
                "workers": workers,
            },
            preflight={**flight.as_dict(), "warnings": warnings},
        )
        jobs.append(queue.submit(job))
    if start:
        start_runner(workspace)
    return jobs, warnings

"""Suggestion and label-issue runs as queue jobs (kinds ``suggest`` and ``label_issues``):
submitted here, run by the job process (``core.jobs.run``) through ``run_assist_job``."""

from __future__ import annotations

from collections.abc import Callable

from core.config.params import ResolvedParams
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.jobs.runner import start_runner
from core.jobs.submit import _freeze
from core.workspace import Workspace


def submit_suggest(
    workspace: Workspace, theme: str, model_spec: str, *, every: bool = False, start: bool = True
) -> Job:
    from core.data.themes import get_theme
    from core.db import open_database
    from core.models.catalog import resolve_version

    with open_database(workspace).session() as session:
        get_theme(session, theme)  # an unknown theme fails at submit
    version = resolve_version(workspace, model_spec)  # an unknown model fails at submit
    job = Job(
        kind="suggest",
        workspace=str(workspace.root),
        theme=theme,
        args={"model": version.spec, "every": every},
    )
    job = JobQueue(workspace).submit(job)
    if start:
        start_runner(workspace)
    return job


def submit_label_issues(
    workspace: Workspace,
    theme: str,
    params: ResolvedParams,
    *,
    folds: int,
    model_spec: str | None = None,
    max_distance: int = 4,
    start: bool = True,
) -> Job:
    from core.assist.crossval import check_fold_count
    from core.data.themes import get_theme
    from core.db import open_database

    check_fold_count(folds)
    with open_database(workspace).session() as session:
        get_theme(session, theme)  # an unknown theme fails at submit
    if model_spec:
        from core.models.catalog import resolve_version

        model_spec = resolve_version(workspace, model_spec).spec
    job = Job(
        kind="label_issues",
        workspace=str(workspace.root),
        theme=theme,
        **_freeze(workspace, params),
        args={"folds": folds, "model": model_spec, "max_distance": max_distance},
    )
    job = JobQueue(workspace).submit(job)
    if start:
        start_runner(workspace)
    return job


def run_assist_job(workspace: Workspace, job: Job, say: Callable[[str], None]) -> int:
    from core.config import resolve_params
    from core.errors import CockpitError

    if not job.theme:
        raise CockpitError(f"job {job.id}: a {job.kind} job needs a theme")
    if job.kind == "suggest":
        from core.assist.suggest import suggest

        outcome = suggest(
            workspace,
            job.theme,
            job.args["model"],
            every=bool(job.args.get("every")),
            echo=say,
            job_id=job.id,
        )
        say(f"suggestions of {outcome.spec}: done ({outcome.predicted} image(s))")
        return 0
    from core.assist.issues import find_label_issues

    params = resolve_params(
        workspace,
        base=job.params,
        base_label=f"job {job.id}",
        read_params_file=False,
        augments=job.augments,
        registry=job.registry,
    )
    outcome = find_label_issues(
        workspace,
        job.theme,
        params,
        folds=int(job.args.get("folds") or 5),
        model_spec=job.args.get("model"),
        max_distance=int(job.args.get("max_distance", 4)),
        echo=say,
        job_id=job.id,
    )
    say(f"label-issue run {outcome.run_id}: done")
    return 0

"""Delete a run everywhere it is recorded: database, queue, MLflow, output folder.

Deleting a history row deletes its experiment with every job that trained or plotted it
(a job row without an experiment — a cancelled pending job, a tuning job — deletes just
that job). The order makes sure nothing ever points at something already gone, and that
a delete interrupted at any step (crash, store locked) is completed by deleting again:

1. **Check** (nothing changed yet): a pending or running job of the experiment refuses.
2. **Database**, one transaction, committed first: the Model rows of the experiment's
   runs (ModelTrainData follows by cascade). The database is what the rest of the
   cockpit reads as "this model exists", so it stops referring to the run before the
   run can disappear.
3. **Queue**: the job files (under the queue lock) and their logs. The job files refer
   to the experiment id; after this step only the experiment folder does.
4. **MLflow**: registered model versions of the run (and a registered model left with
   none), its logged models, then the run (soft delete, then removed for good with its
   artifacts, as ``mlflow gc`` does). Versions go before the run they point at.
5. **Experiment folder** last: its ``mlflow_run.json`` is the only handle to the run
   once the rows above are gone, and while the folder exists the history still lists
   the experiment, so deleting it again finishes steps 4-5.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import CockpitError
from core.history.entries import (
    find_entry,
    job_experiment,
    list_entries,
    previous_run_ids,
    read_experiment,
)
from core.jobs.model import TERMINAL, Job
from core.jobs.queue import JobQueue
from core.mlflow_filter import equals, model_versions, model_versions_of_run
from core.workspace import Workspace


@dataclass(frozen=True)
class DeletionPlan:
    entry_id: str
    experiment_id: str | None
    jobs: tuple[str, ...]
    files: tuple[Path, ...]  # job logs and the experiment folder
    run_ids: tuple[str, ...]
    model_rows: int
    notes: list[str] = field(default_factory=list)  # filled by delete_entry

    def describe(self, workspace: Workspace) -> str:
        lines = [f"experiment {self.experiment_id}" if self.experiment_id else self.entry_id]
        if self.jobs:
            lines.append(f"{len(self.jobs)} job(s): {', '.join(self.jobs)}")
        if self.run_ids:
            lines.append(f"MLflow run(s) {', '.join(self.run_ids)} with their registered versions")
        if self.model_rows:
            lines.append(f"{self.model_rows} model row(s) in {workspace.database_file.name}")
        lines += [workspace.relative(path) for path in self.files]
        return "\n".join(lines)


def _experiment_jobs(jobs: list[Job], experiment_id: str) -> list[Job]:
    return [j for j in jobs if j.kind in ("train", "plot") and job_experiment(j) == experiment_id]


def _model_rows(workspace: Workspace, experiment_id: str | None, run_ids: set[str]) -> list:
    from sqlalchemy import or_, select

    from core.db import Model, open_database

    if not workspace.has_database():
        return []
    clauses = [Model.mlflow_run_id.in_(run_ids)] if run_ids else []
    if experiment_id:
        clauses.append(Model.experiment_hash == experiment_id)
    if not clauses:
        return []
    with open_database(workspace).session() as session:
        return list(session.execute(select(Model.id, Model.mlflow_run_id).where(or_(*clauses))))


def plan_delete(workspace: Workspace, ident: str) -> DeletionPlan:
    """What deleting the row ``ident`` removes; refuses while a job of it is queued or
    running. Changes nothing."""
    entry = find_entry(list_entries(workspace), ident)
    if entry.kind in ("suggest", "label_issues") and not entry.job_id:
        raise CockpitError(
            f"history row {entry.id} is a {entry.kind.replace('_', '-')} run: it holds the "
            "theme's stored suggestions or findings, which a new run of the same kind "
            "replaces; it is not deleted from here"
        )
    jobs = JobQueue(workspace).jobs()
    # a plot, check or tune job row is that job alone; a training row is its experiment
    experiment_id = entry.experiment_id if entry.kind == "train" else None
    if experiment_id:
        related = _experiment_jobs(jobs, experiment_id)
        busy = [j for j in related if j.state not in TERMINAL]
        if busy:
            raise CockpitError(
                f"experiment {experiment_id} has a {busy[0].state} job {busy[0].id}; cancel "
                "it (or let it end) before deleting the experiment"
            )
    else:
        related = []
    chosen = {j.id: j for j in related}
    if entry.job_id:
        chosen.update({j.id: j for j in jobs if j.id == entry.job_id})
    files = []
    for job_id in sorted(chosen):
        for suffix in (".log", ".metrics.jsonl"):
            path = workspace.logs_dir / f"{job_id}{suffix}"
            if path.exists():
                files.append(path)
    run_ids: set[str] = set()
    if experiment_id:
        experiment = read_experiment(workspace, experiment_id)
        if experiment is not None and experiment.run_id:
            run_ids.add(experiment.run_id)
        run_ids |= set(previous_run_ids(workspace.experiment_dir(experiment_id)))
        if workspace.experiment_dir(experiment_id).exists():
            files.append(workspace.experiment_dir(experiment_id))
    rows = _model_rows(workspace, experiment_id, run_ids)
    run_ids |= {run_id for _id, run_id in rows}
    return DeletionPlan(
        entry.id,
        experiment_id,
        tuple(sorted(chosen)),
        tuple(files),
        tuple(sorted(run_ids)),
        len(rows),
    )


def delete_entry(workspace: Workspace, ident: str) -> DeletionPlan:
    """Delete the row ``ident`` everywhere, in the order of this module's docstring.
    Returns the plan carried out; ``notes`` says what could not be removed."""
    plan = plan_delete(workspace, ident)
    _delete_model_rows(workspace, plan)
    queue = JobQueue(workspace)
    for job_id in plan.jobs:
        try:
            queue.remove(job_id)
        except CockpitError as exc:  # already gone, or it was just retried by someone
            if "no job" not in str(exc):
                raise
    for path in plan.files:
        if path.is_file():
            path.unlink(missing_ok=True)
    for run_id in plan.run_ids:
        note = _delete_mlflow_run(workspace, run_id)
        if note:
            plan.notes.append(note)
    if plan.experiment_id and not plan.notes:
        shutil.rmtree(workspace.experiment_dir(plan.experiment_id), ignore_errors=True)
    elif plan.experiment_id:
        plan.notes.append(
            f"kept {workspace.relative(workspace.experiment_dir(plan.experiment_id))} "
            "(it names the MLflow run); delete again to finish"
        )
    return plan


def _delete_model_rows(workspace: Workspace, plan: DeletionPlan) -> None:
    from sqlalchemy import delete, or_

    from core.db import Model, open_database

    if not plan.model_rows:
        return
    clauses = [Model.mlflow_run_id.in_(plan.run_ids)]
    if plan.experiment_id:
        clauses.append(Model.experiment_hash == plan.experiment_id)
    with open_database(workspace).session() as session:
        # ModelTrainData rows go by ON DELETE CASCADE (foreign keys are on)
        session.execute(delete(Model).where(or_(*clauses)))


def _delete_mlflow_run(workspace: Workspace, run_id: str) -> str | None:
    """Registered versions, logged models, then the run itself, for good. Returns a note
    when the store could not be changed (the delete can be repeated)."""
    if not workspace.has_mlflow_store():
        return None
    from core.training.tracking import tracking_client

    try:
        from mlflow.exceptions import MlflowException

        client = tracking_client(workspace)
        try:
            run = client.get_run(run_id)
        except MlflowException:
            return None  # never reached the store, or already removed
        touched = set()
        for version in model_versions_of_run(client, run_id):
            client.delete_model_version(version.name, version.version)
            touched.add(version.name)
        for name in touched:  # a registered model left without versions goes too
            if not model_versions(client, name):
                client.delete_registered_model(name)
        clause = equals("source_run_id", run_id)
        logged = [
            model
            for model in client.search_logged_models(
                experiment_ids=[run.info.experiment_id], filter_string=clause
            )
            if model.source_run_id == run_id
        ]
        for model in logged:
            client.delete_logged_model(model.model_id)
        if run.info.lifecycle_stage != "deleted":
            client.delete_run(run_id)
        _collect_garbage(workspace, run_id, [m.model_id for m in logged])
    except Exception as exc:  # locked or broken store: the rest of the delete stands
        return f"MLflow run {run_id}: {type(exc).__name__}: {exc}"
    artifacts = workspace.mlflow_artifacts_dir / run_id
    if artifacts.is_dir() and not any(p.is_file() for p in artifacts.rglob("*")):
        shutil.rmtree(artifacts, ignore_errors=True)
    return None


def _collect_garbage(workspace: Workspace, run_id: str, model_ids: list[str]) -> None:
    """``mlflow gc`` for one deleted run: its metadata and artifacts removed for good."""
    import contextlib
    import io

    from mlflow.cli import gc

    args = ["--backend-store-uri", workspace.mlflow_tracking_uri]
    args += ["--tracking-uri", workspace.mlflow_tracking_uri, "--run-ids", run_id]
    if model_ids:
        args += ["--logged-model-ids", ",".join(model_ids)]
    with contextlib.redirect_stdout(io.StringIO()):
        gc.main(args, standalone_mode=False)
    for model_id in model_ids:
        folder = workspace.mlflow_artifacts_dir / "models" / model_id
        if folder.is_dir() and not any(p.is_file() for p in folder.rglob("*")):
            shutil.rmtree(folder, ignore_errors=True)

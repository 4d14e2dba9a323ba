"""The history: every ended job and every experiment, as rows a person can search, filter
and sort.

A row joins what the workspace already holds, without MLflow (so the GUI lists it
without loading the tracking library):

- ``queue/{finished,failed,cancelled}/<job>.json``: kind, state, times, error, parameters;
- ``output/experiments/<id>/``: ``record/resolved_config.yaml`` (theme, parameters),
  ``state.json`` (epochs, metrics of the best weights), ``mlflow_run.json`` (the run id);
- the database's Model rows (the experiment was recorded as a model), and its runs of
  model-assisted labeling (``assist_run``: suggestions and label-issue finder runs, their
  counts and MLflow run).

One row per ended job (its experiment's metrics when it trained one) and one per
experiment no job trained (foreground ``cockpit train``, ``cockpit demo``, tuning trials)
or suggestion / finder run no job made (foreground ``cockpit suggest``,
``cockpit label-issues``). Experiments of pending or running jobs are left out until the
job ends.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from core.config.naming import common_defaults, derived_run_name
from core.errors import CockpitError
from core.jobs.model import TERMINAL, Job
from core.jobs.queue import JobQueue
from core.workspace import Workspace

METRICS = ("valid_loss", "valid_acc", "test_loss", "test_acc")
STATUSES = ("finished", "failed", "cancelled", "incomplete", "pruned")
#: sort keys of ``sort_entries`` (and the columns of ``cockpit history list``)
SORT_KEYS = (
    "status",
    "name",
    "kind",
    "theme",
    "model",
    "experiment",
    "started",
    "duration",
    "epochs",
    *METRICS,
    "job",
)
#: a column / sort key of one parameter: "param:lr"
PARAM_PREFIX = "param:"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class HistoryEntry:
    """One row of the history. ``id`` is the job id, or the experiment id for an
    experiment that no job trained."""

    id: str
    kind: str  # train, tune, plot, check, suggest, label_issues
    status: str  # finished, failed, cancelled, incomplete, pruned (a tuning trial)
    theme: str | None = None
    model: str | None = None
    experiment_id: str | None = None
    job_id: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    epochs: int | None = None
    max_epochs: int | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    run_id: str | None = None
    recorded: bool = False  # the database holds a Model row of this run
    error: str | None = None
    duration: float | None = None  # seconds it ran (None: never started, or unknown)
    # what made a row no job made: "trial 3 of S" (an experiment), "suggest-4" (a run)
    origin: str | None = None
    # a tune job's study runs (its run_id stays None: deleting the job's row never deletes
    # the study's runs, which its trials' rows and the registry still use)
    parent_run_id: str | None = None
    best_run_id: str | None = None
    # what people call the run (core.config.naming): the job's name, the user's run_name,
    # "trial 3", or the parameters that differ from the common defaults
    name: str = ""
    params: dict[str, Any] = field(default_factory=dict)  # the parameters it ran with
    study: str | None = None  # a tune job's study, or the study a trial belongs to
    trial: int | None = None  # a trial's number in its study
    best_trial: int | None = None  # a tune job's best trial (its metrics are the row's)
    # a suggestion or finder run's counts (predicted, unreadable; scored, label_issues, ...)
    counts: dict[str, float] = field(default_factory=dict)

    def value(self, key: str) -> Any:
        """The value of a sort key / column (None when unknown); ``param:<key>`` is a
        parameter's value."""
        if key in METRICS:
            return self.metrics.get(key)
        if key.startswith(PARAM_PREFIX):
            return self.params.get(key[len(PARAM_PREFIX) :])
        return {
            "status": self.status,
            "name": self.name or None,
            "kind": self.kind,
            "theme": self.theme,
            "model": self.model,
            "experiment": self.experiment_id,
            "started": self.started_at,
            "duration": self.duration,
            "epochs": self.epochs,
            "job": self.job_id or self.origin,
        }[key]

    def search_text(self) -> str:
        parts = (self.id, self.name, self.kind, self.status, self.theme, self.model)
        parts = (*parts, self.experiment_id, self.study)
        extra = (self.job_id, self.origin, self.run_id, self.parent_run_id, self.error)
        return " ".join(p for p in (*parts, *extra) if p).lower()


@dataclass(frozen=True)
class ExperimentFiles:
    """What an experiment folder says about itself (no MLflow, no torch)."""

    experiment_id: str
    folder: Path
    theme: str | None
    params: dict[str, Any]
    finished: bool
    epochs: int | None
    max_epochs: int | None
    metrics: dict[str, float]
    run_id: str | None
    started_at: float | None
    finished_at: float | None
    trial: dict[str, Any] = field(default_factory=dict)  # trial.json of a tuning trial

    @property
    def origin(self) -> str | None:
        if not self.trial:
            return None
        return f"trial {self.trial.get('trial')} of {self.trial.get('study')}"

    @property
    def status(self) -> str:
        if self.finished:
            return "finished"
        return "pruned" if self.trial.get("state") == "pruned" else "incomplete"


def format_metric(value: float | None, unknown: str = "") -> str:
    """A metric as every view shows it (table, compare, tooltips, CLI): four decimals,
    accuracy as a fraction like its filters (0.1096), losses alike (0.6931)."""
    if value is None:
        return unknown
    if math.isnan(value):
        return "nan"
    return f"{value:.4f}"


def format_count(value: float) -> str:
    """A suggestion or finder run's count: a whole number as one, else as a metric."""
    return str(int(value)) if float(value).is_integer() else format_metric(value)


def format_duration(seconds: float | None, unknown: str = "") -> str:
    """``m:ss`` or ``h:mm:ss``, as the history shows durations."""
    if seconds is None:
        return unknown
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _json(path: Path) -> dict[str, Any]:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def previous_run_ids(folder: Path) -> list[str]:
    """The MLflow runs an experiment had before ``--restart`` closed them (kept, so they
    still belong to it)."""
    previous = _json(folder / "mlflow_run.json").get("previous_run_ids")
    return [str(r) for r in previous] if isinstance(previous, list) else []


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


# folder -> (modification times of its files, what they said): a reload of the
# history re-reads only the experiments that changed since
_read_cache: dict[Path, tuple[tuple, ExperimentFiles | None]] = {}


def read_experiment(workspace: Workspace, experiment_id: str) -> ExperimentFiles | None:
    """The experiment's folder as data; None when it has no record (not an experiment)."""
    folder = workspace.experiment_dir(experiment_id)
    files = ("record/resolved_config.yaml", "state.json", "mlflow_run.json", "trial.json")
    stamp = tuple(_mtime(folder / name) for name in files)
    cached = _read_cache.get(folder)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    found = _read_experiment(folder, experiment_id)
    _read_cache[folder] = (stamp, found)
    return found


def _read_experiment(folder: Path, experiment_id: str) -> ExperimentFiles | None:
    record = folder / "record" / "resolved_config.yaml"
    try:
        resolved = yaml.load(record.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, yaml.YAMLError):
        return None
    state = _json(folder / "state.json")
    metrics = {k: float(v) for k, v in (state.get("final_metrics") or {}).items()}
    finished = bool(state.get("finished")) and bool(metrics)
    return ExperimentFiles(
        experiment_id=experiment_id,
        folder=folder,
        theme=resolved.get("theme"),
        params=dict(resolved.get("params") or {}),
        finished=finished,
        epochs=state.get("completed_epochs"),
        max_epochs=state.get("max_epochs"),
        metrics=metrics,
        run_id=_json(folder / "mlflow_run.json").get("run_id"),
        started_at=_mtime(record),
        finished_at=_mtime(folder / "state.json") if finished else None,
        trial=_json(folder / "trial.json"),
    )


def experiment_ids(workspace: Workspace) -> list[str]:
    folder = workspace.experiments_dir
    if not folder.is_dir():
        return []
    return sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))


def job_experiment(job: Job) -> str | None:
    """The experiment a job trains or plots."""
    if job.kind == "plot":
        return job.args.get("experiment_id")
    return job.experiment_id


def _recorded_runs(workspace: Workspace) -> set[str]:
    if not workspace.has_database():
        return set()
    from sqlalchemy import select

    from core.db import Model, open_database

    with open_database(workspace).session() as session:
        return set(session.scalars(select(Model.mlflow_run_id)))


def list_entries(workspace: Workspace, filters: HistoryFilter | None = None) -> list[HistoryEntry]:
    """Every ended job and every experiment no job trained, newest first."""
    jobs = JobQueue(workspace).jobs()
    busy = {job_experiment(j) for j in jobs if j.state not in TERMINAL}
    experiments = {}
    for experiment_id in experiment_ids(workspace):
        found = read_experiment(workspace, experiment_id)
        if found is not None:
            experiments[experiment_id] = found
    recorded = _recorded_runs(workspace)
    entries = []
    trained = set()
    for job in jobs:
        if job.state not in TERMINAL:
            continue
        experiment = experiments.get(job.experiment_id or "") if job.kind == "train" else None
        if experiment is not None:
            trained.add(experiment.experiment_id)
        entries.append(_job_entry(job, experiment, recorded))
    for experiment_id, experiment in experiments.items():
        if experiment_id in trained or experiment_id in busy:
            continue
        entries.append(
            HistoryEntry(
                id=experiment_id,
                kind="train",
                status=experiment.status,
                theme=experiment.theme,
                model=experiment.params.get("model"),
                experiment_id=experiment_id,
                started_at=experiment.started_at,
                finished_at=experiment.finished_at,
                duration=_span(experiment.started_at, experiment.finished_at),
                epochs=experiment.epochs,
                max_epochs=experiment.max_epochs,
                metrics=experiment.metrics,
                run_id=experiment.run_id,
                recorded=experiment.run_id in recorded,
                origin=experiment.origin,
                name=_experiment_name(experiment),
                params=dict(experiment.params),
                study=experiment.trial.get("study") if experiment.trial else None,
                trial=_int(experiment.trial.get("trial")) if experiment.trial else None,
            )
        )
    entries = _with_assist_runs(entries, _assist_runs(workspace))
    entries = _with_best_trials(entries)
    entries.sort(key=lambda e: e.started_at or 0.0, reverse=True)
    return filter_entries(entries, filters) if filters is not None else entries


ASSIST_KINDS = ("suggest", "label_issues")


@dataclass(frozen=True)
class AssistRow:
    """One suggestion or finder run as the database holds it."""

    id: int
    kind: str
    theme: str
    model: str | None  # the registered version used: NAME/VERSION
    mlflow_run_id: str | None
    params: dict[str, Any]
    counts: dict[str, float]
    created_at: float

    @property
    def ident(self) -> str:
        return f"{self.kind.replace('_', '-')}-{self.id}"

    @property
    def name(self) -> str:
        if self.kind == "suggest":
            return f"suggest {self.model}"
        return f"label-issues ({self.params.get('source') or 'finder'})"


def _assist_runs(workspace: Workspace) -> list[AssistRow]:
    if not workspace.has_database():
        return []
    from sqlalchemy import select

    from core.db import AssistRun, Theme, open_database

    with open_database(workspace).session() as session:
        rows = session.execute(
            select(AssistRun, Theme.name)
            .join(Theme, AssistRun.theme_id == Theme.id)
            .where(AssistRun.kind.in_(ASSIST_KINDS))
            .order_by(AssistRun.id)  # a retried job's later run is the one its row shows
        ).all()
        return [
            AssistRow(
                run.id,
                run.kind,
                theme,
                f"{run.model_name}/{run.model_version}" if run.model_name else None,
                run.mlflow_run_id,
                _loads(run.params_json),
                {k: v for k, v in _loads(run.counts_json).items() if isinstance(v, int | float)},
                _posix(run.created_at),
            )
            for run, theme in rows
        ]


def _posix(moment: Any) -> float:
    """SQLite gives the stored UTC time back without its zone; PostgreSQL with it."""
    from datetime import UTC

    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _loads(text: str | None) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _with_assist_runs(entries: list[HistoryEntry], runs: list[AssistRow]) -> list[HistoryEntry]:
    """A suggestion or finder job's row gets its run's counts and MLflow run; a run no job
    made (the command in the foreground) is a row of its own."""
    by_job = {str(run.params["job_id"]): run for run in runs if run.params.get("job_id")}
    out = []
    for entry in entries:
        run = by_job.get(entry.job_id or "") if entry.kind in ASSIST_KINDS else None
        if run is not None:
            entry = replace(
                entry,
                run_id=run.mlflow_run_id,
                counts={k: v for k, v in run.counts.items() if k != "seconds"},
                name=entry.name or run.name,
            )
        out.append(entry)
    for run in runs:
        if run.params.get("job_id"):
            continue  # its job's row (or none while the job is queued or running)
        seconds = run.counts.get("seconds")
        started = run.created_at
        if run.kind == "label_issues" and seconds:
            started -= seconds  # a finder run is stored when it ends, suggestions at start
        finished = started + seconds if seconds is not None else None
        out.append(
            HistoryEntry(
                id=run.ident,
                kind=run.kind,
                status="finished" if run.mlflow_run_id or seconds is not None else "incomplete",
                theme=run.theme,
                started_at=started,
                finished_at=finished,
                duration=seconds,
                run_id=run.mlflow_run_id,
                name=run.name,
                origin=run.ident,  # shown where a job's id would be: the row's id
                counts={k: v for k, v in run.counts.items() if k != "seconds"},
            )
        )
    return out


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _derived_name(params: dict[str, Any]) -> str:
    """The parameters that differ from the common defaults (a recorded run's definitions
    are not loaded to list the history)."""
    return derived_run_name(params, common_defaults()) if params else ""


def _experiment_name(experiment: ExperimentFiles) -> str:
    given = experiment.params.get("run_name")
    if experiment.trial:
        return f"trial {experiment.trial.get('trial')}"
    return str(given) if given else _derived_name(experiment.params)


def _with_best_trials(entries: list[HistoryEntry]) -> list[HistoryEntry]:
    """A tune job's row shows its best trial's metrics (the trial of its study whose run
    is the study's best run, else the study's recorded best trial number)."""
    trials: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        if entry.trial is not None and entry.study:
            trials.setdefault(entry.study, []).append(entry)
    result = []
    for entry in entries:
        if entry.kind == "tune" and entry.study and not entry.metrics:
            mine = trials.get(entry.study, [])
            best = next(
                (t for t in mine if entry.best_run_id and t.run_id == entry.best_run_id), None
            )
            if best is None and entry.best_trial is not None:
                best = next((t for t in mine if t.trial == entry.best_trial), None)
            if best is None:
                best = best_trial(mine)
            if best is not None:
                entry = replace(entry, metrics=dict(best.metrics), best_trial=best.trial)
        result.append(entry)
    return result


def best_trial(trials: Sequence[HistoryEntry]) -> HistoryEntry | None:
    """The trial with the best validation accuracy (else the lowest validation loss)."""
    scored = [t for t in trials if t.metrics.get("valid_acc") is not None]
    if scored:
        return max(scored, key=lambda t: t.metrics["valid_acc"])
    scored = [t for t in trials if t.metrics.get("valid_loss") is not None]
    return min(scored, key=lambda t: t.metrics["valid_loss"]) if scored else None


def nest_trials(entries: Sequence[HistoryEntry]) -> list[tuple[HistoryEntry, list[HistoryEntry]]]:
    """The history as a tree: every row with its children. A study's trials go under its
    (newest) tune job's row; trials of a study no job ran (``cockpit tune`` in the
    foreground) under a study row made for them (id ``study:<name>``, the best trial's
    metrics). Everything else has no children. Order: that of ``entries``."""
    trials: dict[str, list[HistoryEntry]] = {}
    for entry in entries:
        if entry.trial is not None and entry.study:
            trials.setdefault(entry.study, []).append(entry)
    owners: dict[str, str] = {}
    for entry in entries:
        if entry.kind == "tune" and entry.study in trials and entry.study not in owners:
            owners[entry.study] = entry.id
    tree: list[tuple[HistoryEntry, list[HistoryEntry]]] = []
    placed: set[str] = set()
    for entry in entries:
        if entry.trial is not None and entry.study:
            if entry.study in owners or entry.study in placed:
                continue
            placed.add(entry.study)
            tree.append((_study_row(entry.study, trials[entry.study]), trials[entry.study]))
            continue
        children = (
            trials.get(entry.study or "", []) if owners.get(entry.study or "") == entry.id else []
        )
        tree.append((entry, children))
    return tree


def _study_row(study: str, trials: Sequence[HistoryEntry]) -> HistoryEntry:
    best = best_trial(trials)
    started = [t.started_at for t in trials if t.started_at is not None]
    ended = [t.finished_at for t in trials if t.finished_at is not None]
    return HistoryEntry(
        id=f"study:{study}",
        kind="tune",
        status="finished" if any(t.status == "finished" for t in trials) else "incomplete",
        theme=trials[0].theme,
        model=trials[0].model,
        started_at=min(started) if started else None,
        finished_at=max(ended) if ended else None,
        duration=_span(min(started), max(ended)) if started and ended else None,
        metrics=dict(best.metrics) if best else {},
        name=f"study {study}",
        study=study,
        best_trial=best.trial if best else None,
        origin=f"{len(trials)} trial(s) in the foreground",
    )


def _study_runs(job: Job) -> dict[str, Any]:
    """A tune job's study runs (``output/studies/<study>/mlflow_runs.json``), if written."""
    name = job.args.get("study_name")
    if job.kind != "tune" or not name:
        return {}
    return _json(Path(job.workspace) / "output" / "studies" / str(name) / "mlflow_runs.json")


def _job_entry(job: Job, experiment: ExperimentFiles | None, recorded: set[str]) -> HistoryEntry:
    model = job.params.get("model")
    if experiment is not None:
        model = experiment.params.get("model", model)
    study = _study_runs(job)
    params = dict(experiment.params) if experiment else dict(job.params)
    name = job.name or str(params.get("run_name") or "")
    if not name and job.kind == "tune" and job.args.get("study_name"):
        name = f"tune-{job.args['study_name']}"
    if not name and job.kind == "train":
        name = _derived_name(params)
    return HistoryEntry(
        id=job.id,
        kind=job.kind,
        status=job.state,
        theme=job.theme or (experiment.theme if experiment else None),
        model=model if job.kind in ("train", "tune") else None,
        experiment_id=job_experiment(job),
        job_id=job.id,
        started_at=job.started_at or job.created_at,
        finished_at=job.finished_at,
        epochs=experiment.epochs if experiment else None,
        max_epochs=experiment.max_epochs if experiment else job.params.get("max_epochs"),
        metrics=dict(experiment.metrics) if experiment else {},
        run_id=experiment.run_id if experiment else None,
        parent_run_id=study.get("parent_run_id"),
        best_run_id=study.get("best_run_id"),
        recorded=bool(experiment and experiment.run_id in recorded),
        error=job.error,
        duration=_span(job.started_at, job.finished_at),
        name=name,
        params=params if job.kind in ("train", "tune") else {},
        study=job.args.get("study_name") if job.kind == "tune" else None,
        best_trial=_int(study.get("best_trial")),
    )


def _span(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else max(0.0, end - start)


def find_entry(entries: Sequence[HistoryEntry], ident: str) -> HistoryEntry:
    """An entry by id, job id (or its unique end), or experiment id (or its unique start;
    the newest row of that experiment)."""
    ident = ident.strip()
    for entry in entries:
        if entry.id == ident:
            return entry
    by_experiment = [e for e in entries if e.experiment_id and e.experiment_id.startswith(ident)]
    if len({e.experiment_id for e in by_experiment}) == 1:
        return max(by_experiment, key=lambda e: e.started_at or 0.0)
    by_job = [e for e in entries if e.job_id and e.job_id.endswith(ident)]
    if len(by_job) == 1:
        return by_job[0]
    if by_experiment or by_job:
        raise CockpitError(f"history id {ident!r} is ambiguous: give more characters")
    raise CockpitError(
        f"no job or experiment {ident!r} in the history; `cockpit history list` shows them"
    )


def get_entry(workspace: Workspace, ident: str) -> HistoryEntry:
    return find_entry(list_entries(workspace), ident)


# --- filtering and sorting -----------------------------------------------------------------
@dataclass(frozen=True)
class HistoryFilter:
    """Empty fields match everything. Times are POSIX seconds; ``until`` is exclusive.
    ``metric_ranges``: (metric, min or None, max or None); an entry without the metric
    does not match a range on it."""

    text: str = ""
    themes: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    since: float | None = None
    until: float | None = None
    metric_ranges: tuple[tuple[str, float | None, float | None], ...] = ()

    def __post_init__(self) -> None:
        for metric, _low, _high in self.metric_ranges:
            if metric not in METRICS:
                raise CockpitError(f"unknown metric {metric!r}; metrics: {', '.join(METRICS)}")


def matches(entry: HistoryEntry, spec: HistoryFilter) -> bool:
    if spec.themes and entry.theme not in spec.themes:
        return False
    if spec.models and entry.model not in spec.models:
        return False
    if spec.statuses and entry.status not in spec.statuses:
        return False
    if spec.kinds and entry.kind not in spec.kinds:
        return False
    started = entry.started_at
    if spec.since is not None and (started is None or started < spec.since):
        return False
    if spec.until is not None and (started is None or started >= spec.until):
        return False
    for metric, low, high in spec.metric_ranges:
        value = entry.metrics.get(metric)
        if value is None or math.isnan(value):
            return False
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    if spec.text:
        haystack = entry.search_text()
        return all(word in haystack for word in spec.text.lower().split())
    return True


def filter_entries(entries: Iterable[HistoryEntry], spec: HistoryFilter) -> list[HistoryEntry]:
    return [e for e in entries if matches(e, spec)]


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers as numbers, text case-insensitively, unknown values apart (see sort_entries)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return (1, 0)
    if isinstance(value, str):
        return (0, value.lower())
    return (0, value)


def sort_entries(
    entries: Iterable[HistoryEntry], key: str, *, descending: bool = False
) -> list[HistoryEntry]:
    """Sorted by ``key`` (one of SORT_KEYS); entries without a value come last."""
    if key not in SORT_KEYS and not key.startswith(PARAM_PREFIX):
        raise CockpitError(f"unknown sort key {key!r}; keys: {', '.join(SORT_KEYS)}")
    known = [e for e in entries if sort_key(e.value(key))[0] == 0]
    unknown = [e for e in entries if sort_key(e.value(key))[0] == 1]
    known.sort(key=lambda e: sort_key(e.value(key))[1], reverse=descending)
    return known + unknown


def history_signature(workspace: Workspace) -> tuple:
    """Changes whenever a job ends or moves, an experiment starts or finishes, or a
    suggestion or finder run is stored or ends: cheap (a few directory scans and stat
    calls, one indexed count in the database), for polling."""
    parts: list[Any] = []
    for state in ("pending", "running", *TERMINAL):
        folder = workspace.queue_dir / state
        if folder.is_dir():
            parts.append(tuple(sorted(e.name for e in os.scandir(folder))))
    for experiment_id in experiment_ids(workspace):
        folder = workspace.experiment_dir(experiment_id)
        parts.append((experiment_id, _mtime(folder / "state.json")))
    parts.append(_assist_signature(workspace))
    return tuple(parts)


def _assist_signature(workspace: Workspace) -> tuple:
    if not workspace.has_database():
        return ()
    from sqlalchemy import func, select

    from core.db import AssistRun, open_database

    with open_database(workspace).session() as session:
        row = session.execute(
            select(
                func.count(AssistRun.id),
                func.max(AssistRun.id),
                func.count(AssistRun.mlflow_run_id),
            ).where(AssistRun.kind.in_(ASSIST_KINDS))
        ).one()
    return tuple(row)

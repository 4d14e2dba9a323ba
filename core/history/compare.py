"""Compare runs: their parameters side by side (which differ), their per-epoch curves and
their confusion matrices.

Curves come from the job's ``queue/logs/<job>.metrics.jsonl`` when the run was a queued
job (no MLflow needed), else from the MLflow run's metric history (imported only then).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from core.errors import CockpitError
from core.history.entries import HistoryEntry, find_entry, list_entries, read_experiment
from core.jobs.queue import JobQueue
from core.workspace import Workspace

#: the curve names: "<split>_<loss|acc>" per epoch (epochs counted from 1)
CURVES = ("train_loss", "valid_loss", "train_acc", "valid_acc")
Curve = list[tuple[int, float]]


@dataclass(frozen=True)
class Confusion:
    split: str
    classes: tuple[str, ...]
    matrix: tuple[tuple[int, ...], ...]  # [true][predicted]

    @property
    def accuracy(self) -> float:
        total = sum(sum(row) for row in self.matrix)
        return sum(self.matrix[i][i] for i in range(len(self.matrix))) / max(1, total)


@dataclass(frozen=True)
class ParamRow:
    key: str
    values: tuple[str, ...]  # one per run, "" when a run lacks the key

    @property
    def differs(self) -> bool:
        return len(set(self.values)) > 1


@dataclass(frozen=True)
class RunComparison:
    entry: HistoryEntry
    params: dict[str, Any]
    curves: dict[str, Curve] = field(default_factory=dict)
    curve_source: str = "none"  # "job log", "mlflow", "none"
    confusion: Confusion | None = None

    label: str = ""  # the run's name, made distinct among the compared runs

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", run_label(self.entry))


@dataclass(frozen=True)
class Comparison:
    runs: list[RunComparison]
    param_rows: list[ParamRow]

    @property
    def differing_rows(self) -> list[ParamRow]:
        return [row for row in self.param_rows if row.differs]


def run_label(entry: HistoryEntry) -> str:
    """The run's name, else model and experiment (or job) id."""
    ident = (entry.experiment_id or entry.id)[:8]
    return entry.name or f"{entry.model or entry.kind} {ident}"


def distinct_labels(entries: Sequence[HistoryEntry]) -> list[str]:
    """The runs' names; a name two runs share gets the experiment (or job) id's start."""
    labels = [run_label(entry) for entry in entries]
    return [
        f"{label} [{(entry.experiment_id or entry.id)[:6]}]" if labels.count(label) > 1 else label
        for label, entry in zip(labels, entries, strict=True)
    ]


def differing_param_keys(entries: Sequence[HistoryEntry]) -> list[str]:
    """The parameters whose values differ among ``entries`` (run_name left out), in name
    order: the History's default parameter columns."""
    rows = param_rows([e.params for e in entries if e.params])
    return [row.key for row in rows if row.differs and row.key != "run_name"]


def entry_params(workspace: Workspace, entry: HistoryEntry) -> dict[str, Any]:
    """The parameters the run used: its experiment record, else the job's frozen ones."""
    if entry.experiment_id:
        experiment = read_experiment(workspace, entry.experiment_id)
        if experiment is not None and experiment.params:
            return dict(experiment.params)
    if entry.job_id:
        try:
            return dict(JobQueue(workspace).get(entry.job_id).params)
        except CockpitError:
            pass
    return {}


def requeue_params(workspace: Workspace, ident: str) -> tuple[dict[str, Any], str]:
    """Parameters and theme to queue a run again (the editor opens them for changes)."""
    entry = find_entry(list_entries(workspace), ident)
    params = entry_params(workspace, entry)
    if not params or not entry.theme:
        raise CockpitError(
            f"{entry.id}: no parameters recorded (a {entry.kind} job without an experiment "
            "record); nothing to queue again"
        )
    # the run queued again is another run: named by the editor's field or its differences
    params.pop("run_name", None)
    return params, entry.theme


def _shown(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def param_rows(params: Sequence[dict[str, Any]]) -> list[ParamRow]:
    keys = sorted({k for p in params for k in p})
    return [ParamRow(k, tuple(_shown(p[k]) if k in p else "" for p in params)) for k in keys]


def curves_from_job_log(workspace: Workspace, job_id: str) -> dict[str, Curve]:
    """Per-epoch train/valid loss and accuracy of a job's metric log. The evaluation of
    the best weights after the fit (a new trainer: step 0) is not an epoch; a resumed
    epoch replaces the earlier line of the same epoch."""
    path = workspace.logs_dir / f"{job_id}.metrics.jsonl"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return {}
    points: dict[str, dict[int, float]] = {}
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a crash
        if record.get("kind") != "epoch" or not record.get("step"):
            continue
        split = record.get("split")
        if split not in ("train", "valid"):
            continue
        epoch = int(record.get("epoch", 0)) + 1
        for metric in ("loss", "acc"):
            value = record.get(metric)
            if value is not None:
                points.setdefault(f"{split}_{metric}", {})[epoch] = float(value)
    return {name: sorted(values.items()) for name, values in points.items()}


def curves_from_mlflow(workspace: Workspace, run_id: str) -> dict[str, Curve]:
    from core.training.tracking import tracking_client

    client = tracking_client(workspace)
    curves = {}
    for name in CURVES:
        try:
            history = client.get_metric_history(run_id, name)
        except Exception:  # a run deleted or a store unreachable: no curve, no crash
            return {}
        if history:
            by_step = {m.step: m.value for m in sorted(history, key=lambda m: m.timestamp)}
            curves[name] = [(step + 1, value) for step, value in sorted(by_step.items())]
    return curves


def read_confusion(workspace: Workspace, experiment_id: str | None) -> Confusion | None:
    from core.training.confusion import CONFUSION_FILE

    if not experiment_id:
        return None
    path = workspace.experiment_dir(experiment_id) / CONFUSION_FILE
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return Confusion(
            record["split"],
            tuple(record["classes"]),
            tuple(tuple(int(v) for v in row) for row in record["matrix"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_comparison(workspace: Workspace, entry: HistoryEntry) -> RunComparison:
    curves, source = {}, "none"
    if entry.job_id and entry.kind == "train":
        curves = curves_from_job_log(workspace, entry.job_id)
        source = "job log" if curves else source
    if not curves and entry.run_id:
        curves = curves_from_mlflow(workspace, entry.run_id)
        source = "mlflow" if curves else source
    return RunComparison(
        entry,
        entry_params(workspace, entry),
        curves,
        source,
        read_confusion(workspace, entry.experiment_id),
    )


def compare(workspace: Workspace, idents: Sequence[str]) -> Comparison:
    """Two or more runs side by side."""
    if len(idents) < 2:
        raise CockpitError("compare needs two or more runs (job or experiment ids)")
    entries = list_entries(workspace)
    chosen = [find_entry(entries, ident) for ident in idents]
    labels = distinct_labels(chosen)
    runs = [
        replace(run_comparison(workspace, entry), label=label)
        for entry, label in zip(chosen, labels, strict=True)
    ]
    rows = param_rows([run.params for run in runs])
    return Comparison(runs, rows)

"""What a training job of these parameters would do, told before it is submitted (seed
001): the experiment id; new experiment, resume, adds epochs or already complete; and how
the parameters differ from the nearest earlier experiment of the theme.

Earlier experiments are read from their records (``output/experiments/<id>/record/
resolved_config.yaml``); reading them, the data snapshot and the checkpoint state touches
the disk and the database, so callers with a GUI run this off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.config.augments import load_augments
from core.config.params import ResolvedParams
from core.errors import CockpitError
from core.hashing import canonicalize
from core.training.checkpoints import CheckpointManager, Mode, ResumePlan
from core.workspace import Workspace

DATA_KEY = "(data)"  # the row of a diff that stands for the data snapshot
AUGMENTS_KEY = "(augments)"  # ... for the augmentations
CODE_KEY = "(code)"  # ... for the source files of the definitions
ROW_NAMES = {
    DATA_KEY: "data snapshot",
    AUGMENTS_KEY: "augmentations",
    CODE_KEY: "definitions' source",
}


@dataclass(frozen=True)
class ExperimentRecord:
    experiment_id: str
    theme: str
    params: dict[str, Any]
    data_fingerprint: dict[str, Any] | None
    modified: float  # when the record was written (seconds since the epoch)
    augments: dict[str, Any] | None = None  # None: not recorded (an older record)
    code: dict[str, str] | None = None


@dataclass(frozen=True)
class ParamChange:
    key: str
    earlier: Any  # None where the earlier experiment did not have the parameter
    current: Any


@dataclass(frozen=True)
class ExperimentPreview:
    theme: str
    experiment_id: str | None  # None while new images still need a split
    mode: Mode
    completed_epochs: int
    max_epochs: int
    headline: str  # "new experiment", "resume (epoch 2 of 5)", "adds 3 epochs", ...
    detail: str
    nearest: ExperimentRecord | None = None
    changes: list[ParamChange] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_records(workspace: Workspace) -> list[ExperimentRecord]:
    """Every experiment with a readable record, newest first."""
    records = []
    folder = workspace.experiments_dir
    for path in folder.glob("*/record/resolved_config.yaml") if folder.is_dir() else ():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            records.append(
                ExperimentRecord(
                    experiment_id=str(data["experiment_id"]),
                    theme=str(data["theme"]),
                    params=dict(data["params"]),
                    data_fingerprint=data.get("data_fingerprint"),
                    modified=path.stat().st_mtime,
                    augments=data.get("augments") or _recorded_augments(path.parent),
                    code=data.get("code"),
                )
            )
        except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, CockpitError):
            continue  # a half-written or foreign folder is no earlier experiment
    return sorted(records, key=lambda r: r.modified, reverse=True)


def _recorded_augments(folder: Path) -> dict[str, Any] | None:
    """An older record's copy of augments.yaml, parsed (None when it has none)."""
    if not (folder / "augments.yaml").exists():
        return None
    return load_augments(folder / "augments.yaml").model_dump(mode="json")


def describe_augments(document: Mapping[str, Any] | None) -> str:
    """``HorizontalFlip(p=0.5), Rotate(limit=15); normalize mean [..] std [..]``."""
    if document is None:
        return "—"
    steps = []
    for step in document.get("train", []):
        arguments = ", ".join(f"{k}={v}" for k, v in step.items() if k != "type")
        steps.append(f"{step.get('type')}({arguments})")
    normalize = document.get("normalize") or {}
    return (
        f"{', '.join(steps) or 'no train transforms'}; normalize mean "
        f"{list(normalize.get('mean', []))} std {list(normalize.get('std', []))}"
    )


def _describe_code(earlier: Mapping[str, str] | None, current: Mapping[str, str]) -> str:
    before = earlier or {}
    changed = sorted(k for k in {*before, *current} if before.get(k) != current.get(k))
    return "changed: " + ", ".join(changed)


def _describe_data(fingerprint: Mapping[str, Any] | None) -> str:
    if not fingerprint:
        return "—"
    classes = ", ".join(fingerprint.get("classes", []))
    return f"{fingerprint.get('images', '?')} images ({classes})"


def param_changes(
    earlier: Mapping[str, Any],
    current: Mapping[str, Any],
    earlier_data: Mapping[str, Any] | None = None,
    current_data: Mapping[str, Any] | None = None,
    *,
    earlier_augments: Mapping[str, Any] | None = None,
    current_augments: Mapping[str, Any] | None = None,
    earlier_code: Mapping[str, str] | None = None,
    current_code: Mapping[str, str] | None = None,
) -> list[ParamChange]:
    """The parameters whose values differ (compared canonically: 1e-3 == 0.001, tuples ==
    lists), in the order of ``current``; plus a row each when the augmentations, the
    definitions' source files or the data snapshots differ (a ``current_*`` of None is
    not compared)."""
    before, after = canonicalize(dict(earlier)), canonicalize(dict(current))
    changes = [
        ParamChange(key, before.get(key), after.get(key))
        for key in [*after, *(k for k in before if k not in after)]
        if before.get(key) != after.get(key) or (key in before) != (key in after)
    ]
    if current_augments is not None and canonicalize(earlier_augments) != canonicalize(
        current_augments
    ):
        changes.append(
            ParamChange(
                AUGMENTS_KEY,
                describe_augments(earlier_augments),
                describe_augments(current_augments),
            )
        )
    if current_code is not None and earlier_code is not None and earlier_code != current_code:
        changes.append(ParamChange(CODE_KEY, "—", _describe_code(earlier_code, current_code)))
    if current_data is not None and canonicalize(earlier_data) != canonicalize(current_data):
        changes.append(
            ParamChange(DATA_KEY, _describe_data(earlier_data), _describe_data(current_data))
        )
    return changes


def nearest_experiment(
    records: Sequence[ExperimentRecord],
    theme: str,
    params: Mapping[str, Any],
    data_fingerprint: Mapping[str, Any] | None = None,
    *,
    augments: Mapping[str, Any] | None = None,
    code: Mapping[str, str] | None = None,
) -> tuple[ExperimentRecord, list[ParamChange]] | None:
    """The experiment of ``theme`` that differs from ``params`` in the fewest parameters
    (the data snapshot, the augmentations and the definitions' source count as one each);
    the newer one wins a tie."""
    best: tuple[ExperimentRecord, list[ParamChange]] | None = None
    for record in sorted(records, key=lambda r: r.modified, reverse=True):
        if record.theme != theme:
            continue
        changes = param_changes(
            record.params,
            params,
            record.data_fingerprint,
            data_fingerprint,
            earlier_augments=record.augments,
            current_augments=augments,
            earlier_code=record.code,
            current_code=code,
        )
        if best is None or len(changes) < len(best[1]):
            best = (record, changes)
    return best


class _PreviewCheckpoints(CheckpointManager):
    """Reads the epochs of a finished fit from state.json instead of loading the
    checkpoint (which needs torch); only a fit that did not finish loads it."""

    def epochs_in_checkpoint(self, path: Path) -> int:
        state = self.state()
        if (
            path == self.last
            and state.finished
            and self.state_file.exists()
            and path.stat().st_mtime <= self.state_file.stat().st_mtime
        ):
            return state.completed_epochs
        return super().epochs_in_checkpoint(path)


def plan_for(workspace: Workspace, experiment_id: str, max_epochs: int) -> ResumePlan:
    """What ``cockpit train`` would do for this experiment now (read-only)."""
    return _PreviewCheckpoints(workspace.experiment_dir(experiment_id)).plan(max_epochs)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def describe_plan(plan: ResumePlan) -> tuple[str, str]:
    """The headline and one sentence of detail for a plan."""
    done, total = plan.completed_epochs, plan.max_epochs
    if plan.mode == "new":
        return "new experiment", f"trains {_plural(total, 'epoch')} from scratch"
    if plan.mode == "resume":
        return (
            f"resume (epoch {done} of {total})",
            f"an interrupted run continues from its checkpoint after epoch {done}",
        )
    if plan.mode == "extend":
        return (
            f"adds {_plural(total - done, 'epoch')}",
            f"the finished experiment ({_plural(done, 'epoch')}) trains on to epoch {total}",
        )
    return (
        "already complete",
        f"same experiment, {done} of {total} epochs trained: a train job ends at once; "
        "raise max_epochs to add epochs",
    )


def data_fingerprint(workspace: Workspace, theme: str) -> dict[str, Any]:
    """The fingerprint of the snapshot a train job on ``theme`` would take now (read-only:
    labeled images without a split make it unknown, since the job splits them first)."""
    from core.data.snapshot import load_snapshot, require_trainable
    from core.data.themes import label_split_counts
    from core.db import open_database

    db = open_database(workspace)
    unsplit = sum(row["none"] for row in label_split_counts(db, theme).values())
    if unsplit:
        raise CockpitError(
            f"--theme {theme}: {_plural(unsplit, 'labeled image')} without a train/valid/test "
            "split; a train job splits them first, so its id is known only once it is submitted"
        )
    snapshot = load_snapshot(db, theme)
    require_trainable(snapshot, db)
    return snapshot.fingerprint()


def preview_experiment(
    workspace: Workspace, theme: str, params: ResolvedParams
) -> ExperimentPreview:
    """The experiment a train job of ``params`` on ``theme`` would be, and what it would do."""
    from core.data.snapshot import DEFAULT_RATIOS, load_snapshot, require_trainable
    from core.data.themes import label_split_counts
    from core.db import open_database
    from core.jobs.queue import JobQueue

    db = open_database(workspace)
    unsplit = sum(row["none"] for row in label_split_counts(db, theme).values())
    snapshot = load_snapshot(db, theme)
    max_epochs = int(params.values["max_epochs"])
    records = read_records(workspace)
    notes: list[str] = []
    if unsplit:
        # the job splits them first: a snapshot no earlier experiment had, so a new id
        nearest = nearest_experiment(
            records, theme, params.values, None, augments=params.augments_document, code=params.code
        )
        notes.append(
            f"{_plural(unsplit, 'labeled image')} of {theme!r} get a train/valid/test split "
            "when the job is submitted; the experiment id is known then"
        )
        headline, detail = describe_plan(ResumePlan("new", 0, max_epochs, None))
        return ExperimentPreview(
            theme,
            None,
            "new",
            0,
            max_epochs,
            headline,
            detail,
            nearest[0] if nearest else None,
            nearest[1] if nearest else [],
            notes,
        )
    require_trainable(snapshot, db, params.values.get("split_ratios", DEFAULT_RATIOS))
    fingerprint = snapshot.fingerprint()
    experiment_id = params.experiment_id(fingerprint)
    plan = plan_for(workspace, experiment_id, max_epochs)
    notes.extend(plan.skipped)
    headline, detail = describe_plan(plan)
    nearest = nearest_experiment(
        records,
        theme,
        params.values,
        fingerprint,
        augments=params.augments_document,
        code=params.code,
    )
    for job in JobQueue(workspace).jobs(("pending", "running")):
        if job.kind == "train" and job.experiment_id == experiment_id:
            notes.append(f"job {job.id} of this experiment is already {job.state}")
    return ExperimentPreview(
        theme,
        experiment_id,
        plan.mode,
        plan.completed_epochs,
        max_epochs,
        headline,
        detail,
        nearest[0] if nearest else None,
        nearest[1] if nearest else [],
        notes,
    )

"""Restore a trained experiment by id: its parameters, theme and the exact images and
splits it trained on (from its record), and — when wanted — its best weights."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import yaml

from core.config import resolve_params
from core.config.augments import load_augments
from core.config.params import ResolvedParams
from core.data.snapshot import DataSnapshot, SnapshotItem
from core.errors import CockpitError
from core.training.builder import ExperimentBuilder, ExperimentContext
from core.training.checkpoints import CheckpointManager, UnreadableCheckpoint
from core.workspace import Workspace


def _record_dir(workspace: Workspace, experiment_id: str) -> Path:
    folder = workspace.experiment_dir(experiment_id) / "record"
    if not (folder / "resolved_config.yaml").exists():
        known = sorted(p.name for p in workspace.experiments_dir.glob("*") if p.is_dir())
        raise CockpitError(
            f"experiment {experiment_id!r} has no record in {workspace.relative(folder)}; "
            f"experiments: {', '.join(known) or 'none yet'}"
        )
    return folder


def recorded_params(
    workspace: Workspace, experiment_id: str, *, recorded_code: bool = True
) -> tuple[ResolvedParams, dict]:
    """The experiment's recorded parameters, augmentations and registry entries, resolved
    (with the recorded source digests, or with ``recorded_code=False`` the digests of the
    definitions' files now), and the record's ``resolved_config.yaml`` itself."""
    folder = _record_dir(workspace, experiment_id)
    resolved = yaml.safe_load((folder / "resolved_config.yaml").read_text())
    # records before the augmentations, definitions and their sources were part of the id
    # lack them: their augments.yaml copy and today's registry and sources stand in
    augments = resolved.get("augments")
    if augments is None:
        augments = load_augments(folder / "augments.yaml")
    params = resolve_params(
        workspace,
        base=resolved["params"],
        base_label=f"experiment {experiment_id}",
        read_params_file=False,
        augments=augments,
        registry=resolved.get("registry"),
        code=resolved.get("code") if recorded_code else None,
    )
    return params, resolved


def restore_experiment(
    workspace: Workspace, experiment_id: str
) -> tuple[ResolvedParams, str, DataSnapshot]:
    """Parameters, theme and data snapshot exactly as the experiment trained on them."""
    folder = _record_dir(workspace, experiment_id)
    params, resolved = recorded_params(workspace, experiment_id)
    params = replace(params, hashed_keys=tuple(resolved.get("hashed_keys") or ()))
    class_names = tuple(json.loads((folder / "class_index.json").read_text()).values())
    index = {name: i for i, name in enumerate(class_names)}
    with open(folder / "split_manifest.csv", encoding="utf-8") as handle:
        items = tuple(
            SnapshotItem(
                int(row["train_data_id"]), row["image_path"], index[row["label"]], row["split"]
            )
            for row in csv.DictReader(handle)
        )
    fingerprint = resolved["data_fingerprint"]
    snapshot = DataSnapshot(
        fingerprint["theme_id"], resolved["theme"], class_names, items, fingerprint["digest"]
    )
    return params, resolved["theme"], snapshot


def load_trained(
    workspace: Workspace, experiment_id: str
) -> tuple[ExperimentContext, ExperimentBuilder]:
    """The experiment rebuilt on its own snapshot, holding its best weights (read with
    ``weights_only``: an unreadable or planted checkpoint is refused, never run)."""
    params, theme, snapshot = restore_experiment(workspace, experiment_id)
    manager = CheckpointManager(workspace.experiment_dir(experiment_id))
    if manager.resume_checkpoint() is None and not manager.best.exists():
        raise CockpitError(f"experiment {experiment_id} has no checkpoint; train it first")
    try:
        state = manager.best_weights()
    except UnreadableCheckpoint as exc:
        raise UnreadableCheckpoint(
            exc.path,
            exc.reason,
            "the experiment's weights cannot be used; train it again with --restart",
        ) from exc
    builder = ExperimentBuilder(workspace, params, theme)
    context = builder.build(snapshot)
    context.experiment_id = experiment_id  # its folder, even when recorded by older rules
    context.module.load_state_dict(state)
    return context, builder

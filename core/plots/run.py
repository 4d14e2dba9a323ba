"""Plot jobs: restore an experiment by id (parameters, theme and the exact images and
splits it trained on, from its record), train first when it has no checkpoint yet, then
render every plot its dataset, adapter and model declare."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml

from core.config import resolve_params
from core.config.params import ResolvedParams
from core.data.snapshot import DataSnapshot, SnapshotItem
from core.errors import CockpitError
from core.plots.base import BasePlot, PlotContext
from core.registry import Registry
from core.workspace import Workspace

Echo = Callable[[str], None]


def _record_dir(workspace: Workspace, experiment_id: str) -> Path:
    folder = workspace.experiment_dir(experiment_id) / "record"
    if not (folder / "resolved_config.yaml").exists():
        known = sorted(p.name for p in workspace.experiments_dir.glob("*") if p.is_dir())
        raise CockpitError(
            f"experiment {experiment_id!r} has no record in {workspace.relative(folder)}; "
            f"experiments: {', '.join(known) or 'none yet'}"
        )
    return folder


def restore_experiment(
    workspace: Workspace, experiment_id: str
) -> tuple[ResolvedParams, str, DataSnapshot]:
    """Parameters, theme and data snapshot exactly as the experiment trained on them."""
    folder = _record_dir(workspace, experiment_id)
    resolved = yaml.safe_load((folder / "resolved_config.yaml").read_text())
    params = resolve_params(
        workspace,
        base=resolved["params"],
        base_label=f"experiment {experiment_id}",
        read_params_file=False,
    )
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


def declared_plots(registry: Registry, params: ResolvedParams) -> list[tuple[str, type[BasePlot]]]:
    """(layer, plot class) for every plot of the experiment's dataset, adapter and model."""
    import importlib

    choice = params.choice
    modules = [
        ("dataset", registry.dataset(choice.dataset).plots),
        ("adapter", registry.adapter(choice.model, choice.adapter).plots),
        ("model", registry.model(choice.model).plots),
    ]
    found = []
    for layer, module_name in modules:
        if not module_name:
            continue
        registry.load_object(f"{module_name}:PLOTS", f"{layer} plots")
        module = importlib.import_module(module_name)
        found += [(layer, plot) for plot in module.PLOTS]
    return found


def plot_experiment(
    workspace: Workspace,
    experiment_id: str,
    *,
    only: Sequence[str] = (),
    echo: Echo = print,
) -> list[Path]:
    import torch

    from core.training.builder import ExperimentBuilder
    from core.training.checkpoints import CheckpointManager
    from core.training.run import train_experiment
    from core.training.tracking import RunJournal

    params, theme, snapshot = restore_experiment(workspace, experiment_id)
    manager = CheckpointManager(workspace.experiment_dir(experiment_id))
    weights = manager.best if manager.best.exists() else manager.last
    if not weights.exists():
        echo(f"experiment {experiment_id} has no checkpoint yet: training it first")
        outcome = train_experiment(workspace, theme, params, echo=echo)
        if outcome.experiment_id != experiment_id:
            echo(f"the theme's data changed since; plotting experiment {outcome.experiment_id}")
            return plot_experiment(workspace, outcome.experiment_id, only=only, echo=echo)
        weights = manager.best if manager.best.exists() else manager.last
    builder = ExperimentBuilder(workspace, params, theme)
    context = builder.build(snapshot)
    state = torch.load(weights, map_location="cpu", weights_only=False)["state_dict"]
    context.module.load_state_dict(state)
    journal = RunJournal(workspace, manager.dir, theme)
    plot_context = PlotContext(context, manager.dir / "plots", journal.run_id)
    plots = declared_plots(builder.registry, params)
    unknown = set(only) - {plot.name for _, plot in plots}
    if unknown:
        raise CockpitError(
            f"--plot: unknown plot(s) {', '.join(sorted(unknown))}; this experiment has: "
            + ", ".join(plot.name for _, plot in plots)
        )
    written = []
    for layer, plot_cls in plots:
        if only and plot_cls.name not in only:
            continue
        path = plot_cls().render(plot_context, layer)
        echo(f"wrote {workspace.relative(path)}")
        journal.log_artifact(path, "plots")
        written.append(path)
    journal.flush()
    return written

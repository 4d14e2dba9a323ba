"""Plot jobs: restore an experiment by id (parameters, theme and the exact images and
splits it trained on, from its record), train first when it has no checkpoint yet, then
render every plot its dataset, adapter and model declare."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from core.config.params import ResolvedParams
from core.errors import CockpitError
from core.plots.base import BasePlot, PlotContext
from core.registry import Registry
from core.workspace import Workspace

Echo = Callable[[str], None]


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
    from core.training.checkpoints import CheckpointManager
    from core.training.restore import load_trained, restore_experiment
    from core.training.run import train_experiment
    from core.training.tracking import RunJournal

    params, theme, _snapshot = restore_experiment(workspace, experiment_id)
    manager = CheckpointManager(workspace.experiment_dir(experiment_id))
    if not (manager.best.exists() or manager.resume_checkpoint()):
        echo(f"experiment {experiment_id} has no checkpoint yet: training it first")
        outcome = train_experiment(workspace, theme, params, echo=echo)
        if outcome.experiment_id != experiment_id:
            echo(f"the theme's data changed since; plotting experiment {outcome.experiment_id}")
            return plot_experiment(workspace, outcome.experiment_id, only=only, echo=echo)
    context, builder = load_trained(workspace, experiment_id)
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

"""``cockpit train``: a training job in the foreground."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cockpit.cli.common import (
    chosen_workspace,
    current_workspace,
    param_options,
    resolved_params,
    workspace_option,
)

# The demo's defaults, kept here (not imported from core.demo) so `cockpit --help` stays fast.
DEMO_PER_CLASS = 200
DEMO_EPOCHS = 30


@click.command()
@click.option("--theme", "theme_name", required=True, help="theme whose labeled images to train on")
@click.option("--model", help="model definition (same as --set model=NAME)")
@click.option(
    "--restart",
    is_flag=True,
    help="set this experiment's checkpoints aside and train it from scratch",
)
@click.option("--name", help="the run's name (default: the parameters that differ, e.g. lr=0.01)")
@click.option("--job-id", hidden=True, help="set by the runner: where live metrics go")
@param_options
def train(
    theme_name: str,
    model: str | None,
    params_file: Path | None,
    overrides: tuple[str, ...],
    restart: bool,
    name: str | None,
    job_id: str | None,
) -> None:
    """Train a classifier on a theme in the foreground (same job the queue runs)."""
    from core.names import check_name
    from core.training.run import train_experiment

    workspace = current_workspace()
    if name is not None:  # the run name is a label: not part of the experiment id
        overrides = (*overrides, f"run_name={check_name('--name', name)}")
    params = resolved_params(params_file, overrides, model)
    outcome = train_experiment(
        workspace,
        theme_name,
        params,
        job_id=job_id,
        restart=restart,
        echo=click.echo,
        # a live line on a terminal; plain epoch lines into a pipe or a file
        progress_bar=sys.stdout.isatty(),
    )
    if outcome.model_version:
        click.echo(
            f"registered model: {theme_name}_model version {outcome.model_version} "
            f"(run {outcome.run_id}; {outcome.registry_decision or 'registered'})"
        )
    elif outcome.registry_decision:
        click.echo(f"model registry: {outcome.registry_decision}")
    click.echo(f"experiment {outcome.experiment_id}: done")


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--per-class",
    default=DEMO_PER_CLASS,
    show_default=True,
    envvar="COCKPIT_DEMO_PER_CLASS",
    show_envvar=True,
    help="generated images per class",
)
@click.option(
    "--epochs",
    default=DEMO_EPOCHS,
    show_default=True,
    envvar="COCKPIT_DEMO_EPOCHS",
    show_envvar=True,
    help="maximum epochs (training stops earlier once the validation loss stops improving)",
)
@workspace_option
def demo(directory: Path | None, per_class: int, epochs: int) -> None:
    """Generate a shapes theme, import, train and register it, then predict held-out images.

    DIRECTORY (default: --workspace, else the current folder) is made a workspace first,
    as `cockpit init` does, when it is not one yet; it may be missing or empty.
    """
    from core.demo.pipeline import run_demo
    from core.errors import CockpitError
    from core.scaffold import init_workspace
    from core.workspace import Workspace

    if per_class < 10:
        raise CockpitError("--per-class: use at least 10 images per class")
    if epochs < 1:
        raise CockpitError("--epochs: use at least 1 epoch")
    workspace = Workspace.resolve(directory) if directory else chosen_workspace()
    if not workspace.is_workspace():
        init_workspace(workspace.root)
        click.echo(f"created workspace {workspace.root} (as `cockpit init` does)")
    result = run_demo(workspace, per_class=per_class, epochs=epochs, echo=click.echo)
    click.echo("")
    click.echo(f"registered {result.model_name} version {result.model_version}")
    click.echo("try it (with the project's .venv active):")
    click.echo(f"  cockpit -w {workspace.root} mlflow-ui")
    click.echo(
        f"  MLFLOW_TRACKING_URI={workspace.mlflow_tracking_uri} mlflow models serve "
        f"--env-manager local -m models:/{result.model_name}/{result.model_version} -p 5001"
    )


@click.command()
@click.option("--experiment", "experiment_id", required=True, help="experiment id to plot")
@click.option("--plot", "only", multiple=True, help="only this plot (repeatable)")
@workspace_option
def plot(experiment_id: str, only: tuple[str, ...]) -> None:
    """Render an experiment's dataset, adapter and model plots (trains first if needed)."""
    from core.plots.run import plot_experiment

    plot_experiment(current_workspace(), experiment_id, only=only, echo=click.echo)

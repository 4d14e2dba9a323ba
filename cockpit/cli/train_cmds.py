"""``cockpit train``: a training job in the foreground."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cockpit.cli.common import current_workspace, param_options, resolved_params, workspace_option


@click.command()
@click.option("--theme", "theme_name", required=True, help="theme whose labeled images to train on")
@click.option("--model", help="model definition (same as --set model=NAME)")
@click.option(
    "--restart",
    is_flag=True,
    help="set this experiment's checkpoints aside and train it from scratch",
)
@click.option("--job-id", hidden=True, help="set by the runner: where live metrics go")
@param_options
def train(
    theme_name: str,
    model: str | None,
    params_file: Path | None,
    overrides: tuple[str, ...],
    restart: bool,
    job_id: str | None,
) -> None:
    """Train a classifier on a theme in the foreground (same job the queue runs)."""
    from core.training.run import train_experiment

    workspace = current_workspace()
    params = resolved_params(params_file, overrides, model)
    outcome = train_experiment(
        workspace,
        theme_name,
        params,
        job_id=job_id,
        restart=restart,
        echo=click.echo,
        progress_bar=sys.stderr.isatty(),
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
@click.option("--per-class", default=300, show_default=True, help="generated images per class")
@click.option("--epochs", default=40, show_default=True, help="maximum epochs")
@workspace_option
def demo(per_class: int, epochs: int) -> None:
    """Generate a shapes theme, import, train and register it, then predict held-out images."""
    from core.demo.pipeline import run_demo
    from core.errors import CockpitError

    if per_class < 10:
        raise CockpitError("--per-class: use at least 10 images per class")
    workspace = current_workspace()
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

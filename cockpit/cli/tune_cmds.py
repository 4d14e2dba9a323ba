"""``cockpit tune`` (foreground, seed 003's flags) and ``cockpit submit tune``."""

from __future__ import annotations

from pathlib import Path

import click

from cockpit.cli.common import current_workspace, workspace_option
from cockpit.cli.queue_cmds import submit
from core.errors import CockpitError


def _theme_name(theme: str | None, theme_id: int | None) -> str:
    if theme:
        return theme
    if theme_id is None:
        raise CockpitError("give --theme NAME or --theme-id ID")
    from core.db import Theme, open_database

    with open_database(current_workspace()).session() as session:
        found = session.get(Theme, theme_id)
        if found is None:
            raise CockpitError(f"--theme-id: no theme with id {theme_id}")
        return found.name


@click.command()
@click.option("--theme", help="theme name")
@click.option("--theme-id", type=int, help="theme id (seed 003)")
@click.option("--n-trials", type=int, help="total trials of the study (default: the file's)")
@click.option("--storage", help="Optuna storage URL (default: sqlite:///<workspace>/optuna.db)")
@click.option("--study-name", help="study name (default: the file's)")
@click.option("--timeout", type=float, help="seconds for this run (default: the file's)")
@click.option(
    "--params",
    "params_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="base parameter file (default: configs/params.yaml)",
)
@click.option(
    "--config",
    "optuna_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="study file (default: configs/optuna_params.yaml)",
)
@workspace_option
def tune(
    theme: str | None,
    theme_id: int | None,
    n_trials: int | None,
    storage: str | None,
    study_name: str | None,
    timeout: float | None,
    params_file: Path | None,
    optuna_file: Path | None,
) -> None:
    """Run an Optuna study in the foreground; continues an existing study of that name."""
    from core.config.optuna_params import load_optuna_params
    from core.tuning.study import run_study

    workspace = current_workspace()
    config = load_optuna_params(optuna_file or workspace.optuna_params_file)
    outcome = run_study(
        workspace,
        _theme_name(theme, theme_id),
        config,
        params_file=params_file,
        storage_url=storage,
        study_name=study_name,
        n_trials=n_trials,
        timeout=timeout,
        echo=click.echo,
    )
    if outcome.model_version:
        click.echo(f"registered the best trial as version {outcome.model_version}")


@submit.command("tune")
@click.option("--theme", "theme_name", required=True)
@click.option("--optuna-params", "optuna_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--params", "params_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--n-trials", type=int)
@click.option(
    "--workers", default=1, show_default=True, help="jobs sharing the study (one per free GPU)"
)
@click.option("--no-runner", is_flag=True)
@workspace_option
def submit_tune_command(
    theme_name: str,
    optuna_file: Path | None,
    params_file: Path | None,
    n_trials: int | None,
    workers: int,
    no_runner: bool,
) -> None:
    """Queue a tuning study (validated now)."""
    from core.config.optuna_params import load_optuna_params
    from core.jobs.submit import submit_tune
    from core.tuning.selection import choose_pruner, choose_sampler, recommend_trials

    workspace = current_workspace()
    config = load_optuna_params(optuna_file or workspace.optuna_params_file)
    trials = n_trials or config.study.n_trials
    click.echo(f"recommended: {recommend_trials(config).reason}")
    click.echo(f"sampler: {choose_sampler(config, trials).reason}")
    click.echo(f"pruner: {choose_pruner(config, trials).reason}")
    jobs, warnings = submit_tune(
        workspace,
        theme_name,
        optuna_file,
        params_file=params_file,
        n_trials=n_trials,
        workers=workers,
        start=not no_runner,
    )
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow")
    for job in jobs:
        click.echo(f"queued {job.id}: tune {theme_name} (study {config.study.name})")

"""``cockpit tune`` (in the foreground), ``cockpit submit tune`` and
``cockpit study`` (list, show, stop, best-params)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

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


def _study_files(func: Any) -> Any:
    """``--optuna-params FILE`` and ``--params FILE``: one name each, wherever a study runs."""
    func = click.option(
        "--params",
        "params_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="base parameter file (default: configs/params.yaml)",
    )(func)
    return click.option(
        "--optuna-params",
        "optuna_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="study file: search space, trials, sampler (default: configs/optuna_params.yaml)",
    )(func)


@click.command()
@click.option("--theme", help="theme to tune on (or --theme-id)")
@click.option("--theme-id", type=int, help="theme by its id, as `cockpit theme list` shows it")
@click.option(
    "--n-trials", type=click.IntRange(min=1), help="total trials of the study (default: the file's)"
)
@click.option("--storage", help="Optuna storage URL (default: sqlite:///<workspace>/optuna.db)")
@click.option("--study-name", help="study name (default: the file's)")
@click.option("--timeout", type=float, help="seconds for this run (default: the file's)")
@_study_files
@click.option(
    "--config",
    "deprecated_config",
    type=click.Path(dir_okay=False, path_type=Path),
    hidden=True,
    help="deprecated name of --optuna-params",
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
    deprecated_config: Path | None,
) -> None:
    """Run an Optuna study in the foreground; continues an existing study of that name."""
    if deprecated_config is not None:
        click.echo("warning: --config is deprecated; use --optuna-params", err=True)
        optuna_file = optuna_file or deprecated_config
    from core.config.optuna_params import load_optuna_params
    from core.history.costs import seconds_per_epoch
    from core.tuning.study import run_study

    workspace = current_workspace()
    config = load_optuna_params(optuna_file or workspace.optuna_params_file)
    name = _theme_name(theme, theme_id)
    per_epoch = seconds_per_epoch(workspace, name)
    epochs = int(config.base_params.get("max_epochs") or 0)
    outcome = run_study(
        workspace,
        name,
        config,
        seconds_per_trial=per_epoch * epochs if per_epoch and epochs else None,
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
@click.option("--theme", "theme_name", required=True, help="theme to tune on")
@_study_files
@click.option(
    "--n-trials",
    type=click.IntRange(min=1),
    help="total trials of the study (default: the study file's n_trials)",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=0, min_open=True),
    help="hours the study may take: the recommended trial count fits it, using the "
    "seconds per epoch of this theme's earlier runs",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1, max=64),
    help="workers sharing the study: parallel jobs, one per free GPU, CPU slot or Ray "
    "slot (default: the study file's n_parallel)",
)
@click.option("--name", help="the study's run name (default: tune-<study>)")
@click.option("--no-runner", is_flag=True, help="queue only; do not start the runner")
@click.option(
    "--strict",
    is_flag=True,
    help="refuse the study when the pre-flight check warns (memory, disk, data, versions)",
)
@workspace_option
def submit_tune_command(
    theme_name: str,
    optuna_file: Path | None,
    params_file: Path | None,
    n_trials: int | None,
    workers: int | None,
    name: str | None,
    no_runner: bool,
    time_budget: float | None,
    strict: bool,
) -> None:
    """Queue a tuning study (validated now); says what the sampler, the pruner and the
    trial count were chosen from and why."""
    from core.config.optuna_params import load_optuna_params
    from core.history.costs import plan_study
    from core.jobs.submit import submit_tune

    workspace = current_workspace()
    from core.jobs.shipping import refuse_shipped_study

    refuse_shipped_study(workspace)  # before the study is profiled and planned
    config = load_optuna_params(optuna_file or workspace.optuna_params_file)
    plan = plan_study(
        workspace,
        theme_name,
        config,
        params_file=params_file,
        n_trials=n_trials,
        budget_seconds=time_budget * 3600 if time_budget else None,
    )
    for line in plan.lines():
        click.echo(line)
    jobs, warnings = submit_tune(
        workspace,
        theme_name,
        optuna_file,
        params_file=params_file,
        n_trials=n_trials,
        workers=workers,
        name=name,
        start=not no_runner,
        seconds_per_trial=plan.seconds_per_trial,
        strict=strict,
    )
    for warning in warnings:
        click.secho(f"warning: {warning}", fg="yellow")
    for job in jobs:
        click.echo(f"queued {job.id}: tune {theme_name} {job.name!r} (study {config.study.name})")
    if len(jobs) > 1 and not workspace.stores.ray_address:
        from core.jobs.gpus import gpu_status

        if not gpu_status():
            click.echo(
                f"note: no GPU here: a runner started for you runs one CPU job at a time, so "
                f"the {len(jobs)} workers would run one after the other; to run them side by "
                f"side, queue them with --no-runner and start `cockpit runner --cpu-slots "
                f"{len(jobs)}`"
            )


_storage_option = click.option(
    "--storage", help="Optuna storage URL (default: sqlite:///<workspace>/optuna.db)"
)


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def _param(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _moment(value: dt.datetime | None) -> str:
    return "-" if value is None else f"{value:%m-%d %H:%M:%S}"


def _trial_counts(counts: dict[str, int]) -> str:
    shown = [f"{n} {state}" for state, n in counts.items() if n]
    return ", ".join(shown) or "no trials"


@click.group()
def study() -> None:
    """Tuning results: list studies, show one, stop one, print its best parameters."""


@study.command("list")
@_storage_option
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="output format"
)
@workspace_option
def study_list(storage: str | None, fmt: str) -> None:
    """Studies with their trials and best value, the most recently updated first."""
    from core.tuning.results import list_studies

    studies = list_studies(current_workspace(), storage)
    if fmt == "json":
        rows = [
            {
                "name": s.name,
                "theme": s.theme,
                "metric": s.metric,
                "direction": s.direction,
                "trials": s.counts,
                "best_value": s.best_value,
                "best_trial": s.best_trial,
                "started": s.started.isoformat() if s.started else None,
                "last_update": s.last_update.isoformat() if s.last_update else None,
                "stopping": s.stopping,
            }
            for s in studies
        ]
        click.echo(json.dumps(rows, indent=1))
        return
    if not studies:
        click.echo("no studies yet (cockpit submit tune --theme NAME)")
    for s in studies:
        state = "stopping" if s.stopping else "running" if s.running else "idle"
        best = (
            f"best {_number(s.best_value)} (trial {s.best_trial})"
            if s.best_trial is not None
            else "no best yet"
        )
        click.echo(
            f"{s.name:<24} {state:<8} {s.theme or '-':<12} {s.metric or 'value'} "
            f"{s.direction[:3]}  {best}  [{_trial_counts(s.counts)}]  "
            f"updated {_moment(s.last_update)}"
        )


@study.command("show")
@click.argument("name")
@_storage_option
@workspace_option
def study_show(name: str, storage: str | None) -> None:
    """One study NAME: its trials (state, value, duration, parameters) and parameter importance.

    NAME: the study name, as `cockpit study list` shows it.
    """
    from core.tuning.results import load_study_details

    details = load_study_details(current_workspace(), name, storage)
    s = details.summary
    click.echo(
        f"study {s.name}: theme {s.theme or '-'}, {s.metric or 'value'} ({s.direction}), "
        f"{_trial_counts(s.counts)}"
    )
    if s.best_trial is not None:
        click.echo(f"best trial {s.best_trial}: {_number(s.best_value)}")
    if s.parent_run_id:
        click.echo(f"MLflow: parent run {s.parent_run_id}; best trial's run {s.best_run_id or '-'}")
    if s.stopping:
        click.echo("stop requested: the running trials finish, then the study ends")
    names = [axis.name for axis in details.axes]
    click.echo("  #  state     value     seconds  " + "  ".join(names))
    for trial in details.trials:
        params = "  ".join(_param(trial.params.get(n, "-")) for n in names)
        seconds = "-" if trial.duration is None else f"{trial.duration:.1f}"
        click.echo(
            f"{trial.number:>3}  {trial.state:<8} {_number(trial.value):>8}  {seconds:>8}  {params}"
        )
    if details.importance:
        click.echo(f"parameter importance ({details.importance_note}):")
        for param, share in details.importance.items():
            click.echo(f"  {param:<20} {share:.3f}")
    else:
        click.echo(details.importance_note)


@study.command("stop")
@click.argument("name")
@_storage_option
@workspace_option
def study_stop(name: str, storage: str | None) -> None:
    """Stop the running study NAME after its current trial (it registers its best trial).

    NAME: the study name, as `cockpit study list` shows it.
    """
    from core.tuning.control import request_stop

    request = request_stop(current_workspace(), name, storage)
    if request.running_trials:
        trials = ", ".join(str(n) for n in request.running_trials)
        click.echo(f"stop requested: study {name} ends after trial(s) {trials}")
    else:
        click.echo(
            f"stop requested: study {name} has no running trial (a run that is starting "
            "ends after its first trial)"
        )


@study.command("best-params")
@click.argument("name")
@click.option("--tuned-only", is_flag=True, help="only the parameters the study searched")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write the parameters to this YAML file (e.g. configs/params.yaml)",
)
@_storage_option
@workspace_option
def study_best_params(
    name: str, tuned_only: bool, output: Path | None, storage: str | None
) -> None:
    """The best trial's parameters of study NAME as YAML (every parameter it trained with).

    NAME: the study name, as `cockpit study list` shows it.
    """
    import yaml

    from core.fileio import atomic_write_text
    from core.tuning.results import best_trial

    best = best_trial(current_workspace(), name, storage)
    values: dict[str, Any] = best.tuned if tuned_only else best.params
    text = (
        f"# best parameters of study {name} (trial {best.number}, value {best.value:.6g}, "
        f"theme {best.theme or '-'})\n" + yaml.safe_dump(values, sort_keys=False)
    )
    if output is None:
        click.echo(text, nl=False)
        return
    atomic_write_text(output, text)
    click.echo(f"wrote {output} (trial {best.number}, value {best.value:.6g})")

"""``cockpit config show | hash | check | preview``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cockpit.cli.common import current_workspace, param_options, resolved_params
from core.errors import CockpitError
from core.imports import albumentations_without_torch


def _display(value: Any) -> str:
    """A value as the user wrote it: floats keep their decimal point."""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_display(v) for v in value) + "]"
    return json.dumps(value)


@click.group()
def config() -> None:
    """Show, hash and check the experiment configuration."""


@config.command()
@param_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "yaml", "json"]),
    default="table",
    show_default=True,
    help="output format",
)
def show(params_file: Path | None, overrides: tuple[str, ...], fmt: str) -> None:
    """Print the resolved all_params, where each value came from, and the experiment id.

    The table also shows a file with unknown keys: the known keys with their values, and
    each unknown key marked (it has no experiment id until the key is fixed)."""
    from core.hashing import canonicalize

    if fmt == "table":
        _print_table(resolved_params(params_file, overrides, skip_unknown=True))
        return
    resolved = resolved_params(params_file, overrides)
    values = canonicalize(resolved.values, base_dir=resolved.workspace_root)
    if fmt == "json":
        click.echo(json.dumps(values, indent=2, sort_keys=True))
        return
    if fmt == "yaml":
        import yaml

        click.echo(yaml.safe_dump(values, sort_keys=False), nl=False)


def _print_table(resolved: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    from core.config.params import unknown_key_problem
    from core.hashing import UNHASHED_KEYS

    choice = resolved.choice
    table = Table(
        title=f"dataset {choice.dataset} · model {choice.model} · adapter {choice.adapter}",
        title_justify="left",
    )
    for column in ("parameter", "value", "source", "description"):
        table.add_column(column, overflow="fold")
    values = {k: list(v) if isinstance(v, tuple) else v for k, v in resolved.values.items()}
    for key, value in values.items():
        spec = resolved.specs[key]
        note = " (not hashed)" if key in UNHASHED_KEYS else ""
        table.add_row(key, _display(value), resolved.sources[key], spec.description + note)
    for key, where in resolved.unknown.items():
        problem = unknown_key_problem(key, where, resolved.specs).removeprefix(f"{where}: ")
        table.add_row(
            f"[red]{key}[/red]", "", where, f"[red]{problem}: not used; rename or remove it[/red]"
        )
    console = Console(width=max(Console().width, 110))
    console.print(table)
    if resolved.unknown:
        console.print(
            f"experiment id: none until the unknown key(s) {', '.join(resolved.unknown)} "
            "are renamed or removed"
        )
        return
    console.print(f"experiment id: [bold]{resolved.experiment_id()}[/bold] (no data snapshot)")
    _print_stores(console)


def _print_stores(console: Any) -> None:
    """Where the stores are (cockpit.yaml or COCKPIT_*; passwords masked), under the
    parameters: the same table as ``cockpit stores show``."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="stores (cockpit.yaml, COCKPIT_* variables)", title_justify="left")
    for column in ("store", "where", "set in", "holds"):
        table.add_column(column, overflow="fold")
    for name, value, source, description in current_workspace().stores.rows():
        table.add_row(*(escape(text) for text in (name, value, source, description)))
    console.print(table)


@config.command(name="hash")
@param_options
@click.option(
    "--theme",
    help="include this theme's data snapshot: the id `cockpit train --theme` will use",
)
@click.option("--explain", is_flag=True, help="also print the canonical text that is hashed")
def hash_(
    params_file: Path | None, overrides: tuple[str, ...], theme: str | None, explain: bool
) -> None:
    """Print the experiment id of the configuration (with --theme: of a train job)."""
    from core.hashing import canonical_json

    resolved = resolved_params(params_file, overrides)
    fingerprint = None
    if theme is not None:
        from core.history.preview import data_fingerprint

        fingerprint = data_fingerprint(current_workspace(), theme)
    click.echo(resolved.experiment_id(fingerprint))
    if theme is None:
        click.echo(
            "note: the configuration part only (parameters, augmentations, definitions); "
            "it leaves out the data snapshot: add --theme NAME for the id a train job uses",
            err=True,
        )
    if explain:
        click.echo(
            canonical_json(
                resolved.values,
                fingerprint,
                augments=resolved.augments_document,
                code=resolved.code,
                hashed_keys=resolved.hashed_keys,
                base_dir=resolved.workspace_root,
            )
        )


@config.command()
@param_options
def check(params_file: Path | None, overrides: tuple[str, ...]) -> None:
    """Validate params.yaml, augments.yaml and optuna_params.yaml of the workspace."""
    albumentations_without_torch()
    from core.config.augments import load_augments, try_train_transforms
    from core.config.optuna_params import check_against_params, load_optuna_params

    workspace = current_workspace()
    problems: list[str] = []

    def run(label: str, step: Callable[[], Any]) -> Any:
        try:
            result = step()
        except CockpitError as exc:
            # augments.yaml is read while resolving too: report each problem once
            problems.extend(p for p in str(exc).splitlines() if p not in problems)
            return None
        click.echo(f"ok    {label}")
        return result

    resolved = run(
        workspace.relative(params_file or workspace.params_file),
        lambda: resolved_params(params_file, overrides),
    )
    augments = workspace.augments_file
    run(
        workspace.relative(augments),
        lambda: try_train_transforms(load_augments(augments), workspace.relative(augments)),
    )
    tuning = workspace.optuna_params_file
    if tuning.exists() and resolved is not None:
        run(
            workspace.relative(tuning),
            lambda: check_against_params(
                load_optuna_params(tuning), resolved, workspace.relative(tuning)
            ),
        )
    if problems:
        raise CockpitError("\n".join(problems))


@config.command()
@param_options
@click.option("--theme", required=True, help="the theme a train job would train on")
def preview(params_file: Path | None, overrides: tuple[str, ...], theme: str) -> None:
    """Say what a train job of this configuration would do (new experiment, resume, adds
    epochs, already complete) and how it differs from the nearest earlier experiment."""
    from core.history.preview import ROW_NAMES, preview_experiment

    resolved = resolved_params(params_file, overrides)
    result = preview_experiment(current_workspace(), theme, resolved)
    click.echo(f"{result.headline}: {result.detail}")
    click.echo(f"experiment id: {result.experiment_id or 'assigned when the job is submitted'}")
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.nearest is None:
        click.echo(f"no earlier experiment of theme {theme!r}")
        return
    changes = result.changes
    click.echo(
        f"compared with experiment {result.nearest.experiment_id}: "
        f"{len(changes) or 'no'} difference(s)"
    )
    for change in changes:
        key = ROW_NAMES.get(change.key, change.key)
        click.echo(f"  {key}: {_display(change.earlier)} -> {_display(change.current)}")

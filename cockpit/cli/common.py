"""What every command shares: the workspace option and one-line error reporting."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from core.errors import CockpitError
from core.workspace import WORKSPACE_ENV, Workspace

_WORKSPACE_KEY = "cockpit.workspace"


def _remember_workspace(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value:
        ctx.meta[_WORKSPACE_KEY] = value


def workspace_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--workspace DIR``, accepted before or after the command name."""
    return click.option(
        "--workspace",
        "-w",
        metavar="DIR",
        expose_value=False,
        callback=_remember_workspace,
        help=f"workspace folder (default: ${WORKSPACE_ENV}, else the current folder)",
    )(func)


def chosen_workspace() -> Workspace:
    """The folder ``--workspace``/``$COCKPIT_WORKSPACE``/the current folder names, which may
    not be a workspace yet (for ``init`` and ``demo``, which create one)."""
    ctx = click.get_current_context()
    return Workspace.resolve(ctx.meta.get(_WORKSPACE_KEY))


def current_workspace() -> Workspace:
    """The chosen workspace; a folder that is not one is refused before anything is written."""
    return chosen_workspace().require()


class CockpitGroup(click.Group):
    """Prints a CockpitError as ``error: <message>`` lines and exits with its code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CockpitError as exc:
            for line in str(exc).splitlines() or [""]:
                click.secho(f"error: {line}", err=True, fg="red")
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)


def param_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--params FILE`` and repeatable ``--set KEY=VALUE`` (plus ``--workspace``)."""
    func = click.option(
        "--set",
        "overrides",
        multiple=True,
        metavar="KEY=VALUE",
        help="override one parameter (repeatable), e.g. --set lr=0.01",
    )(func)
    func = click.option(
        "--params",
        "params_file",
        type=click.Path(dir_okay=False, path_type=Path),
        help="parameter file (default: configs/params.yaml of the workspace)",
    )(func)
    return workspace_option(func)


def resolved_params(
    params_file: Path | None,
    overrides: tuple[str, ...],
    model: str | None = None,
    *,
    skip_unknown: bool = False,
) -> Any:
    """The validated parameters of the command's workspace; ``model`` = ``--set model=``."""
    from core.config import parse_overrides, resolve_params

    items = ([f"model={model}"] if model else []) + list(overrides)
    return resolve_params(
        current_workspace(),
        params_file=params_file,
        overrides=parse_overrides(items),
        skip_unknown=skip_unknown,
    )

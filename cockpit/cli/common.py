"""What every command shares: the workspace option and one-line error reporting."""

from __future__ import annotations

from collections.abc import Callable
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


def current_workspace() -> Workspace:
    ctx = click.get_current_context()
    return Workspace.resolve(ctx.meta.get(_WORKSPACE_KEY))


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

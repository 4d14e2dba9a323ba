"""``cockpit registry check``."""

from __future__ import annotations

import click

from cockpit.cli.common import current_workspace, workspace_option
from core.errors import CockpitError

_STYLE = {"ok": "green", "incomplete": "yellow", "error": "red", "unregistered": "yellow"}


@click.group()
def registry() -> None:
    """Inspect configs/registry.json."""


@registry.command()
@click.option(
    "--shallow", is_flag=True, help="load only the config classes (fast, does not import torch)"
)
@workspace_option
def check(shallow: bool) -> None:
    """Load every registered definition and list definitions that are not registered.

    Exits with 2 when a registered definition does not load.
    """
    from core.registry import check_registry

    findings = check_registry(current_workspace(), deep=not shallow)
    for finding in findings:
        status = click.style(f"{finding.status:<12}", fg=_STYLE[finding.status])
        click.echo(f"{status} {finding.kind:<8} {finding.name:<28} {finding.detail}")
    broken = [f for f in findings if f.status == "error"]
    unregistered = [f for f in findings if f.status == "unregistered"]
    if unregistered:
        click.echo(
            f"{len(unregistered)} definition(s) on disk are not registered: add them to "
            "configs/registry.json to use them"
        )
    if broken:
        raise CockpitError(f"{len(broken)} registered definition(s) do not load (see above)")

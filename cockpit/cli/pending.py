"""Commands of the documented command line whose engine lands in a later issue.

They are registered so ``cockpit --help`` shows the whole contract; each one says which
part of the engine it waits for and exits with code 3.
"""

from __future__ import annotations

import click

from cockpit.cli.common import workspace_option
from core.errors import NotAvailableYet

_PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}

# (group or None, command, summary, the engine part it needs)
PENDING: list[tuple[str | None, str, str, str]] = [
    ("submit", "tune", "Queue a tuning job.", "the tuning engine"),
    (None, "tune", "Run an Optuna study in the foreground.", "the tuning engine"),
]


def _pending_command(full_name: str, summary: str, needs: str) -> click.Command:
    @click.command(
        name=full_name.split()[-1],
        help=f"{summary}\n\nNot available yet: arrives with {needs}.",
        short_help=f"{summary} (not available yet)",
        context_settings=_PASS_THROUGH,
    )
    @workspace_option
    def command() -> None:
        raise NotAvailableYet(
            f"`cockpit {full_name}` is not available yet: it arrives with {needs}"
        )

    return command


def register_pending_commands(cli: click.Group) -> None:
    groups: dict[str, click.Group] = {}
    for group_name, name, summary, needs in PENDING:
        if group_name is None:
            cli.add_command(_pending_command(name, summary, needs))
            continue
        if group_name not in groups:
            existing = cli.commands.get(group_name)
            if isinstance(existing, click.Group):
                groups[group_name] = existing
            else:
                groups[group_name] = click.Group(
                    group_name, help=f"{group_name.capitalize()} commands."
                )
                cli.add_command(groups[group_name])
        groups[group_name].add_command(_pending_command(f"{group_name} {name}", summary, needs))

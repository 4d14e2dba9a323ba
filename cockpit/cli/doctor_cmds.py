"""``cockpit doctor [--fix]``."""

from __future__ import annotations

import click

from cockpit.cli.common import current_workspace, workspace_option


@click.command()
@click.option(
    "--fix",
    is_flag=True,
    help="apply the safe fixes: requeue stale running jobs, close orphan RUNNING MLflow "
    "runs as KILLED, move unreadable job files to queue/corrupt/ (never deletes anything)",
)
@click.option(
    "--display",
    "check_window",
    is_flag=True,
    help="also check that the window can open here: a display, and the system libraries "
    "of Qt's platform (what `cockpit gui` checks before it starts)",
)
@workspace_option
def doctor(fix: bool, check_window: bool) -> None:
    """Check the workspace: database integrity, images without rows and rows without
    files, stale running jobs, unreadable job files, MLflow runs left RUNNING, unreadable
    checkpoints. One line per finding with its fix. Read-only unless --fix.

    Exit code: 0 healthy (or everything found was fixed), 1 when a finding remains,
    2 on bad input."""
    from core.doctor import diagnose

    workspace = current_workspace()
    if not workspace.root.is_dir():
        from core.errors import CockpitError

        raise CockpitError(f"--workspace {workspace.root}: no such folder")
    report = diagnose(workspace, fix=fix)
    for finding in report.findings:
        click.echo(finding.line())
    window = []
    if check_window:
        from core.display import check_display

        window = check_display().lines()
        for line in window:
            click.echo(line)
    fixable = [f for f in report.remaining if f.fixable]
    if window:
        click.echo(f"{len(report.remaining) + len(window)} finding(s)")
        raise SystemExit(1)
    if report.healthy:
        fixed = len(report.findings)
        click.echo(f"healthy: {workspace.root}" + (f" ({fixed} fixed)" if fixed else ""))
        return
    hint = f"; {len(fixable)} fixable with `cockpit doctor --fix`" if fixable and not fix else ""
    click.echo(f"{len(report.remaining)} finding(s){hint}")
    raise SystemExit(1)

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
@workspace_option
def doctor(fix: bool) -> None:
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
    fixable = [f for f in report.remaining if f.fixable]
    if report.healthy:
        fixed = len(report.findings)
        click.echo(f"healthy: {workspace.root}" + (f" ({fixed} fixed)" if fixed else ""))
        return
    hint = f"; {len(fixable)} fixable with `cockpit doctor --fix`" if fixable and not fix else ""
    click.echo(f"{len(report.remaining)} finding(s){hint}")
    raise SystemExit(1)

"""``cockpit reproduce``: retrain a model from its record and compare the metrics."""

from __future__ import annotations

import click

from cockpit.cli.common import current_workspace, workspace_option
from core.errors import CockpitError


@click.command()
@click.argument("model", required=False)
@click.option("--run", "run_id", help="the MLflow run to reproduce instead of a model version")
@click.option(
    "--strict",
    is_flag=True,
    help="refuse (exit 2) when the git commit or a definition source differs from the record",
)
@workspace_option
def reproduce(model: str | None, run_id: str | None, strict: bool) -> None:
    """Retrain MODEL[/VERSION|@ALIAS] (or --run RUN_ID) from its record — parameters,
    augmentations, images, labels and splits — into output/reproductions/, as its own
    unregistered run, and compare its metrics with the original's."""
    from core.models.reproduce import reproduce as run_reproduction

    if bool(model) == bool(run_id):
        raise CockpitError("reproduce: name MODEL[/VERSION|@ALIAS] or --run RUN_ID (one of them)")
    workspace = current_workspace()
    result = run_reproduction(workspace, spec=model, run_id=run_id, strict=strict, echo=click.echo)
    click.echo(f"reproduction run {result.run_id} in {workspace.relative(result.folder)}")
    for name, old, new in result.rows:
        shown = "missing" if new is None else f"{new:.6f}  diff {abs(new - old):.2e}"
        click.echo(f"  {name}: original {old:.6f}  reproduced {shown}")
    click.echo("metrics identical" if result.identical else "metrics differ")

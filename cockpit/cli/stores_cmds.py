"""``cockpit stores show | check`` and ``cockpit migrate-stores --to URL``."""

from __future__ import annotations

import click

from cockpit.cli.common import current_workspace, workspace_option
from core.errors import CockpitError


@click.group()
def stores() -> None:
    """Where the workspace database, MLflow and Optuna stores are (cockpit.yaml or the
    COCKPIT_* environment variables; default: SQLite files in the workspace)."""


@stores.command()
@workspace_option
def show() -> None:
    """Print each store's URL (passwords masked), where it was set, and what it holds."""
    workspace = current_workspace()
    settings = workspace.stores
    width = max(len(name) for name, *_ in settings.rows())
    for name, value, source, description in settings.rows():
        click.echo(f"{name:<{width}}  {value}")
        click.echo(f"{'':<{width}}  ({source}; {description})")


@stores.command()
@workspace_option
def check() -> None:
    """Connect to each store on a server and say which one cannot be reached (exit 2)."""
    from core.settings import mask_url
    from core.stores import check_server_store

    workspace = current_workspace()
    settings = workspace.stores
    problems: list[str] = []
    for name in ("database", "mlflow_tracking_uri", "optuna_storage"):
        url = getattr(settings, name)
        try:
            check_server_store(name, url)
        except CockpitError as exc:
            problems.append(str(exc))
            continue
        click.echo(f"ok    {name}  {mask_url(url)}")
    if settings.ray_data == "ship":
        from core.jobs.shipping import stores_problem

        problem = stores_problem(workspace)
        if problem:
            problems.append(problem)
        else:
            click.echo("ok    ray_data  ship: a node without the workspace reaches every store")
    if problems:
        raise CockpitError("\n".join(problems))


@click.command("migrate-stores")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URL",
    help="PostgreSQL server and database name, e.g. postgresql://lab@db.lab:5432/cockpit "
    "(MLflow and Optuna go to <name>_mlflow and <name>_optuna)",
)
@click.option(
    "--no-settings",
    is_flag=True,
    help="do not name the new stores in cockpit.yaml (print them instead)",
)
@workspace_option
def migrate_stores_command(to: str, no_settings: bool) -> None:
    """Copy this workspace's SQLite stores (database, MLflow, Optuna) to PostgreSQL,
    verify the row counts, and switch the workspace to them. The SQLite files are kept."""
    from core.db.transfer import migrate_stores, target_urls, write_store_settings
    from core.settings import mask_url

    workspace = current_workspace()
    migrate_stores(workspace, to, echo=click.echo)
    urls = target_urls(to)
    if no_settings:
        for name, url in urls.items():
            click.echo(f"  stores.{name}: {mask_url(url)}")
        return
    dropped = write_store_settings(workspace, urls)
    click.echo(f"wrote the new stores into {workspace.relative(workspace.root / 'cockpit.yaml')}")
    if dropped:
        click.echo("the password was not written: set PGPASSWORD or ~/.pgpass for the user")

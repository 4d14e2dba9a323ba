"""Entry point: the command tree of ARCHITECTURE.md. Heavy modules are imported inside
the commands, so ``cockpit --help`` and the GUI start quickly."""

from __future__ import annotations

from pathlib import Path

import click

from cockpit.cli.assist_cmds import label_issues, suggest, suggestions
from cockpit.cli.common import CockpitGroup, chosen_workspace, current_workspace, workspace_option
from cockpit.cli.config_cmds import config
from cockpit.cli.data_cmds import db_group, import_, import_cifar10_command, label, split, theme
from cockpit.cli.doctor_cmds import doctor
from cockpit.cli.history_cmds import history
from cockpit.cli.model_cmds import export, mlflow_ui, models, predict
from cockpit.cli.queue_cmds import queue, runner, submit
from cockpit.cli.registry_cmds import registry
from cockpit.cli.reproduce_cmds import reproduce
from cockpit.cli.stores_cmds import migrate_stores_command, stores
from cockpit.cli.train_cmds import demo, plot, train
from cockpit.cli.tune_cmds import study, tune
from core import __version__
from core.output import configure_output


@click.group(cls=CockpitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cockpit")
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="also print the libraries' log lines and warnings (as 'debug:' lines on stderr; "
    "jobs started from here write them to their logs)",
)
@workspace_option
def cli(verbose: bool) -> None:
    """Experiment Cockpit: label images, configure, queue, train, tune and track
    image classifiers on this machine."""
    configure_output(verbose or None)


@cli.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="overwrite example files that already exist")
@workspace_option
def init(directory: Path | None, force: bool) -> None:
    """Create a workspace in DIRECTORY (default: --workspace, else the current folder) with
    example configs and definitions. Existing files are kept."""
    from core.scaffold import init_workspace

    target = directory or chosen_workspace().root
    report = init_workspace(target, overwrite=force)
    root = report.workspace.root
    for name in report.written:
        click.echo(f"  wrote {name}")
    if report.kept:
        click.echo(f"  kept {len(report.kept)} existing file(s) (use --force to overwrite)")
    click.echo(f"workspace ready: {root}")
    click.echo(f"next: cockpit --workspace {root} config show")


@cli.command()
@click.option(
    "--screenshot",
    type=click.Path(dir_okay=False, path_type=Path),
    help="render the window offscreen, save it as this PNG and exit",
)
@click.option("--panel", help="with --screenshot: render only this panel")
@workspace_option
def gui(screenshot: Path | None, panel: str | None) -> None:
    """Open the cockpit window."""
    from cockpit.app import run_gui

    raise SystemExit(run_gui(current_workspace(), screenshot=screenshot, panel=panel))


@cli.command("desktop-install")
@click.option("--uninstall", is_flag=True, help="remove the launcher and icon written before")
@workspace_option
def desktop_install(uninstall: bool) -> None:
    """Add the cockpit to the desktop's application menu (a freedesktop launcher with its
    icon, in ~/.local/share), opening this workspace."""
    from cockpit.desktop import install_launcher, uninstall_launcher

    if uninstall:
        removed = uninstall_launcher()
        for path in removed:
            click.echo(f"removed {path}")
        if not removed:
            click.echo("no launcher was installed")
        return
    workspace = current_workspace()
    files = install_launcher(workspace.root)
    click.echo(f"wrote {files.launcher}")
    click.echo(f"wrote {files.icon}")
    click.echo(f"'Experiment Cockpit' in the application menu opens {workspace.root}")


cli.add_command(config)
cli.add_command(registry)
cli.add_command(history)
for command in (
    theme,
    label,
    import_,
    import_cifar10_command,
    db_group,
    split,
    train,
    demo,
    plot,
    export,
    mlflow_ui,
    models,
    predict,
    submit,
    runner,
    queue,
    tune,
    study,
    doctor,
    reproduce,
    stores,
    migrate_stores_command,
    suggest,
    suggestions,
    label_issues,
):
    cli.add_command(command)


def main() -> None:
    cli(prog_name="cockpit")

"""Data commands: ``theme``, ``label``, ``import``, ``split``."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from cockpit.cli.common import current_workspace, workspace_option
from core.errors import CockpitError


def _database():
    from core.db import open_database

    return open_database(current_workspace().ensure_dirs())


def _split_list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@click.group()
def theme() -> None:
    """Create, list, rename, delete and export themes."""


@theme.command("create")
@click.argument("name")
@click.option("--labels", help="comma-separated label names, e.g. --labels cat,dog")
@click.option("--description", default="", help="what the theme is about")
@workspace_option
def theme_create(name: str, labels: str | None, description: str) -> None:
    """Create theme NAME with its labels."""
    from core.data.themes import create_theme

    names = _split_list(labels)
    create_theme(_database(), name, names, description)
    click.echo(f"created theme {name!r}" + (f" with labels {', '.join(names)}" if names else ""))


@theme.command("list")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="output format"
)
@workspace_option
def theme_list(fmt: str) -> None:
    """List themes with their images per label and split."""
    from core.data.themes import list_themes

    summaries = list_themes(_database())
    if fmt == "json":
        click.echo(json.dumps([s.__dict__ for s in summaries], indent=2))
        return
    if not summaries:
        click.echo("no themes yet: cockpit theme create NAME --labels a,b")
    for s in summaries:
        click.echo(f"{s.name} (id {s.id}): {_theme_counts(s.images, s.unlabeled, s.splits)}")
        for label, count in s.labels.items():
            click.echo(f"    {label:<24} {count}")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _theme_counts(images: int, unlabeled: int, splits: dict[str, int]) -> str:
    """``12 images (1 unlabeled); train 8, valid 2, unsplit 2``; parts with nothing left out."""
    if not images:
        return "no images yet"
    text = _plural(images, "image") + (f" ({unlabeled} unlabeled)" if unlabeled else "")
    order = ("train", "valid", "test", "unsplit")
    shown = ", ".join(f"{k} {splits[k]}" for k in order if splits.get(k))
    return f"{text}; {shown}" if shown else text


@theme.command("rename")
@click.argument("old")
@click.argument("new")
@workspace_option
def theme_rename(old: str, new: str) -> None:
    """Rename theme OLD to NEW."""
    from core.data.themes import rename_theme

    rename_theme(_database(), old, new)
    click.echo(f"renamed theme {old!r} to {new!r}")


@theme.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="do not ask for confirmation")
@workspace_option
def theme_delete(name: str, yes: bool) -> None:
    """Delete theme NAME with its labels and imported images."""
    from core.data.themes import delete_theme, get_theme

    with _database().session() as session:
        get_theme(session, name)  # a theme that does not exist is said before any question
    if not yes and not click.confirm(f"delete theme {name!r} and all its images?"):
        raise CockpitError("theme delete: not confirmed; nothing was deleted")
    removed = delete_theme(_database(), current_workspace(), name)
    click.echo(f"deleted theme {name!r} and {removed} image(s)")


@theme.command("export")
@click.argument("name")
@click.option(
    "--to",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    help="write an ImageFolder tree (label/file) into this new folder",
)
@click.option("--by-split", is_flag=True, help="with --to: split/label/file")
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    help="write a .csv or .json manifest (path, label, split)",
)
@workspace_option
def theme_export(name: str, folder: Path | None, by_split: bool, manifest: Path | None) -> None:
    """Export theme NAME as an ImageFolder tree and/or a manifest."""
    from core.data.export import export_imagefolder, write_manifest

    if folder is None and manifest is None:
        raise CockpitError("theme export: give --to FOLDER and/or --manifest FILE")
    db = _database()
    if folder is not None:
        count = export_imagefolder(db, current_workspace(), name, folder, by_split=by_split)
        click.echo(f"exported {count} labeled image(s) to {folder}")
    if manifest is not None:
        count = write_manifest(db, name, manifest)
        click.echo(f"wrote {count} row(s) to {manifest}")


@click.group()
def label() -> None:
    """Add, rename and delete labels of a theme; label images and list unlabeled ones."""


@label.command("add")
@click.argument("theme_name", metavar="THEME")
@click.argument("names", nargs=-1, required=True)
@workspace_option
def label_add(theme_name: str, names: tuple[str, ...]) -> None:
    """Add labels NAMES to THEME."""
    from core.data.themes import add_labels

    added = add_labels(_database(), theme_name, names)
    click.echo(f"added {', '.join(added)} to theme {theme_name!r}")


@label.command("rename")
@click.argument("theme_name", metavar="THEME")
@click.argument("old")
@click.argument("new")
@workspace_option
def label_rename(theme_name: str, old: str, new: str) -> None:
    """Rename label OLD of THEME to NEW."""
    from core.data.themes import rename_label

    rename_label(_database(), theme_name, old, new)
    click.echo(f"renamed label {old!r} to {new!r}")


@label.command("delete")
@click.argument("theme_name", metavar="THEME")
@click.argument("name")
@click.option("--reassign-to", metavar="LABEL", help="move the label's images to LABEL")
@click.option("--unlabel", is_flag=True, help="leave the label's images unlabeled")
@workspace_option
def label_delete(theme_name: str, name: str, reassign_to: str | None, unlabel: bool) -> None:
    """Delete label NAME of THEME (refused while images use it, unless told what to do)."""
    from core.data.themes import delete_label

    if reassign_to and unlabel:
        raise CockpitError("label delete: use either --reassign-to or --unlabel, not both")
    changed = delete_label(_database(), theme_name, name, reassign_to=reassign_to, unlabel=unlabel)
    click.echo(f"deleted label {name!r}" + (f"; {changed} image(s) changed" if changed else ""))


@label.command("set")
@click.option("--theme", "theme_name", required=True, help="theme of the images")
@click.option("--label", "label_name", help="the label to give every FILE")
@click.option(
    "--from-csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="a CSV file with columns file,label (one image per row)",
)
@click.option("--labeled-by", default=None, help="who labeled them (stored with each image)")
@click.argument("files", nargs=-1)
@workspace_option
def label_set(
    theme_name: str,
    label_name: str | None,
    csv_file: Path | None,
    labeled_by: str | None,
    files: tuple[str, ...],
) -> None:
    """Label imported images: each of FILES is an image file on disk (found by its content),
    or the original or stored file name of an imported image (quote a glob such as
    'cat*.png' to match names). All or nothing: a bad label or file changes no label."""
    from core.data.labeling import LabelRequest, label_images

    if csv_file is not None:
        if files or label_name:
            raise CockpitError("label set: give either --from-csv FILE or --label L FILE...")
        requests = _csv_requests(csv_file)
        base_dir = csv_file.parent
    else:
        if not label_name or not files:
            raise CockpitError(
                "label set: give --label LABEL and the image files or names to label "
                "(or --from-csv FILE with columns file,label)"
            )
        requests = [LabelRequest(ref, label_name, ref) for ref in files]
        base_dir = None
    report = label_images(
        _database(), theme_name, requests, labeled_by=labeled_by, base_dir=base_dir
    )
    for name, count in report.per_label.items():
        click.echo(f"{name:<24} {_plural(count, 'image')}")
    total = sum(report.per_label.values())
    click.echo(
        f"labeled {_plural(total, 'image')} of theme {theme_name!r}; "
        f"{report.relabeled} had another label, {report.unchanged} already had this one"
    )


def _csv_requests(path: Path) -> list:
    """Rows of a file,label CSV as label requests naming their line."""
    import csv

    from core.data.labeling import LabelRequest

    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except OSError as exc:
        raise CockpitError(f"--from-csv: cannot read {path}: {exc.strerror}") from exc
    except (UnicodeDecodeError, csv.Error) as exc:
        raise CockpitError(f"--from-csv: {path} is not a UTF-8 CSV file: {exc}") from exc
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    if header[:2] != ["file", "label"]:
        raise CockpitError(
            f"{path} line 1: expected the header file,label; got {','.join(header) or 'nothing'}"
        )
    requests = []
    for number, row in enumerate(rows[1:], start=2):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if len(cells) < 2 or not cells[0] or not cells[1]:
            raise CockpitError(
                f"{path} line {number}: expected a file and a label; got {','.join(row)!r}"
            )
        requests.append(LabelRequest(cells[0], cells[1], f"{path} line {number}"))
    if not requests:
        raise CockpitError(f"{path}: no rows after the header file,label; nothing to label")
    return requests


@label.command("unlabeled")
@click.option("--theme", "theme_name", required=True, help="theme of the images")
@workspace_option
def label_unlabeled(theme_name: str) -> None:
    """List the images of a theme that have no label: stored path, tab, original name.
    Either name works as FILE for `cockpit label set`."""
    from core.data.labeling import unlabeled_images

    images = unlabeled_images(_database(), theme_name)
    for image in images:
        click.echo(f"{image.image_path}\t{image.original_name}")
    click.echo(
        f"{_plural(len(images), 'unlabeled image')} in theme {theme_name!r}"
        + (
            f"; label them with `cockpit label set --theme {theme_name} --label LABEL FILE...`"
            if images
            else ""
        ),
        err=True,
    )


@click.command("import")
@click.option("--theme", "theme_name", required=True, help="theme to import into")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--label", "label_name", help="label every imported image (created if missing)")
@click.option(
    "--imagefolder/--no-imagefolder",
    default=None,
    help="treat sub-folders as class names (default: detected)",
)
@click.option("--labeled-by", default=None, help="who labeled them (stored with each image)")
@workspace_option
def import_(
    theme_name: str,
    paths: tuple[Path, ...],
    label_name: str | None,
    imagefolder: bool | None,
    labeled_by: str | None,
) -> None:
    """Import image files and folders (recursively) into a theme.

    PATHS: image files, folders, or class_name/*.png trees (the folder name is the label).
    """
    from core.data.importer import import_images

    workspace = current_workspace()
    with _progress_bar("importing") as update:

        def progress(done: int, total: int, _current: Path) -> None:
            update(done, total)

        report = import_images(
            _database(),
            workspace,
            theme_name,
            paths,
            label=label_name,
            imagefolder=imagefolder,
            labeled_by=labeled_by,
            progress=progress,
        )
    if report.labels_created:
        click.echo(f"created labels: {', '.join(report.labels_created)}")
    if report.splits_line():
        click.echo(report.splits_line())
    for source, reason in report.duplicates:
        click.echo(f"duplicate  {source}: {reason}")
    if report.imported or report.duplicates:
        for source, reason in report.rejected:
            click.secho(f"skipped    {source}: {reason}", fg="yellow")
    if report.orphans_removed:
        click.echo(f"removed {report.orphans_removed} file(s) left by an interrupted import")
    if not report.imported and not report.duplicates:
        raise CockpitError(_nothing_imported(paths, report.rejected))
    click.echo(
        f"imported {report.imported} image(s) into {theme_name!r}; "
        f"{len(report.duplicates)} duplicate(s), {len(report.rejected)} skipped"
    )


@click.command("import-cifar10")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--theme",
    "theme_name",
    default="cifar10",
    show_default=True,
    help="theme to import into (created with the ten CIFAR-10 labels when missing)",
)
@click.option(
    "--valid-fraction",
    type=click.FloatRange(0, 1, max_open=True),
    default=0.1,
    show_default=True,
    help="share of the official training images kept for validation (drawn reproducibly)",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="import only the first N images of each batch file (a quick try)",
)
@workspace_option
def import_cifar10_command(
    folder: Path, theme_name: str, valid_fraction: float, limit: int | None
) -> None:
    """Import CIFAR-10 from its binary version on disk, keeping its train/test split.

    FOLDER: cifar-10-batches-bin (data_batch_1.bin … data_batch_5.bin, test_batch.bin), as
    extracted from cifar-10-binary.tar.gz. Nothing is downloaded.
    """
    from core.data.cifar import import_cifar10

    workspace = current_workspace()
    with _progress_bar("reading") as update:

        def progress(stage: str, done: int, total: int) -> None:
            update(done, total, stage)

        report = import_cifar10(
            _database(),
            workspace,
            theme_name,
            folder,
            valid_fraction=valid_fraction,
            limit=limit,
            progress=progress,
        )
    for line in report.lines():
        click.echo(line)


@contextlib.contextmanager
def _progress_bar(description: str) -> Iterator[Callable[..., None]]:
    """A transient progress bar on stderr when it is a terminal (none in a pipe); yields
    ``update(done, total, description=None)``."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int, stage: str | None = None) -> None:
            named = {} if stage is None else {"description": stage}
            bar.update(task, completed=done, total=total, **named)

        yield update


def _nothing_imported(paths: tuple[Path, ...], rejected: list[tuple[Path, str]]) -> str:
    """One line: why an import found no usable image, and what to give instead."""
    if not rejected:
        shown = ", ".join(str(p) for p in paths)
        return (
            f"import: nothing imported: no image files found in {shown}; "
            "give image files or folders holding them"
        )
    source, reason = rejected[0]
    fix = (
        "check the path"
        if reason.startswith("not found")
        else "give image files (png, jpg, bmp, gif, tif, webp)"
    )
    if len(rejected) == 1:
        return f"import: nothing imported: {source}: {reason}; {fix}"
    return (
        f"import: nothing imported: none of the {len(rejected)} path(s) is a usable image "
        f"(first: {source}: {reason}); {fix}"
    )


@click.group("db")
def db_group() -> None:
    """Repair the workspace database (database.db)."""


@db_group.command("rebuild")
@workspace_option
def db_rebuild() -> None:
    """Re-register the image files of images/ in a new database.db.

    For a workspace whose database.db is missing, empty or unreadable (an unreadable one
    is kept, renamed). Every theme comes back with all its images. Theme names, labels
    and splits come back from the newest training record of each theme (as they were at
    that training); a theme never trained comes back as recovered-<id>, unlabeled.
    """
    from core.data.rebuild import rebuild_database

    workspace = current_workspace()
    report = rebuild_database(workspace)
    for path in report.kept_aside:
        click.echo(f"kept the old file as {workspace.relative(path)}")
    for path, reason in report.skipped:
        click.secho(f"skipped    {workspace.relative(path)}: {reason} (left in place)", fg="yellow")
    for theme_id, count in report.themes.items():
        click.echo(f"{report.names[theme_id]} (id {theme_id}): {count} image(s)")
    click.echo(
        f"rebuilt {workspace.relative(workspace.database_file)}: "
        f"{report.images} image(s) in {len(report.themes)} theme(s); labels and splits of "
        f"{report.labeled} image(s) recovered from {report.records_read} training record(s)"
    )
    unnamed = [i for i, name in report.names.items() if name.startswith("recovered-")]
    if unnamed:
        click.echo(
            f"{len(unnamed)} theme(s) had no training record to take a name from: rename "
            "them with `cockpit theme rename recovered-<id> NAME`"
        )
    if report.labeled < report.images:
        click.echo(
            f"{report.images - report.labeled} image(s) came back unlabeled and unsplit "
            "(labeled after the last training, or never trained on): label them again; "
            "`cockpit label unlabeled --theme NAME` lists them"
        )


@click.command()
@click.option("--theme", "theme_name", required=True, help="theme whose images to split")
@click.option("--ratios", default="0.7,0.15,0.15", show_default=True, help="train,valid,test")
@click.option(
    "--seed", default=42, show_default=True, type=int, help="random seed of the assignment"
)
@workspace_option
def split(theme_name: str, ratios: str, seed: int) -> None:
    """Assign train/valid/test to labeled images that have no split yet (stratified)."""
    from core.data.splits import assign_splits

    try:
        values = [float(part) for part in _split_list(ratios)]
    except ValueError:
        raise CockpitError(
            f"--ratios: expected three numbers like 0.7,0.15,0.15; got {ratios!r}"
        ) from None
    report = assign_splits(_database(), theme_name, values, seed)
    click.echo(f"assigned {report.newly_assigned} image(s); existing assignments kept")
    if report.unlabeled_skipped:
        click.echo(f"{report.unlabeled_skipped} unlabeled image(s) left without a split")
    click.echo(f"{'label':<24} {'train':>7} {'valid':>7} {'test':>7}")
    totals = [0, 0, 0]
    for name, counts in report.counts.items():
        row = [counts["train"], counts["valid"], counts["test"]]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        click.echo(f"{name:<24} {row[0]:>7} {row[1]:>7} {row[2]:>7}")
    click.echo(f"{'total':<24} {totals[0]:>7} {totals[1]:>7} {totals[2]:>7}")

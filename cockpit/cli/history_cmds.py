"""``cockpit history list|show|compare|delete``: the runs of this workspace."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict
from typing import Any

import click

from cockpit.cli.common import current_workspace, workspace_option
from core.errors import CockpitError

# the core's STATUSES and SORT_KEYS, spelled out so that `cockpit --help` stays fast
# (tests/cockpit/cli/test_history_choices.py keeps them equal)
STATUS_CHOICES = ("finished", "failed", "cancelled", "incomplete", "pruned")
SORT_CHOICES = (
    "status",
    "name",
    "kind",
    "theme",
    "model",
    "experiment",
    "started",
    "duration",
    "epochs",
    "valid_loss",
    "valid_acc",
    "test_loss",
    "test_acc",
    "job",
)


def _when(timestamp: float | None) -> str:
    return dt.datetime.fromtimestamp(timestamp).strftime("%Y-%m-%d %H:%M") if timestamp else "-"


def _number(value: float | None) -> str:
    from core.history import format_metric

    return format_metric(value, "-")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _date(text: str | None, option: str) -> float | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text).timestamp()
    except ValueError as exc:
        raise CockpitError(f"{option}: {text!r} is not a date; use YYYY-MM-DD[ HH:MM]") from exc


def _bounds(items: tuple[str, ...], option: str) -> dict[str, float]:
    found = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            found[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise CockpitError(f"{option}: expected METRIC=VALUE (e.g. test_acc=0.9), got {item!r}")
    return found


def _entry_json(entry: Any) -> dict[str, Any]:
    return asdict(entry)


@click.group()
def history() -> None:
    """Ended jobs and experiments: list, show, compare, delete."""


@history.command("list")
@click.option("--search", default="", help="words that must all appear (id, theme, model…)")
@click.option("--theme", "themes", multiple=True, help="only this theme (repeatable)")
@click.option("--model", "models", multiple=True, help="only this model (repeatable)")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUS_CHOICES),
    help="only this status (repeatable)",
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["train", "tune", "plot", "check", "suggest", "label_issues"]),
    help="kinds of run (default: train and tune); suggest and label_issues are the "
    "suggestion and label-issue finder runs",
)
@click.option("--since", help="started on or after YYYY-MM-DD[ HH:MM]")
@click.option("--until", help="started before YYYY-MM-DD[ HH:MM]")
@click.option("--min", "minimum", multiple=True, metavar="METRIC=VALUE", help="e.g. test_acc=0.9")
@click.option("--max", "maximum", multiple=True, metavar="METRIC=VALUE", help="e.g. valid_loss=0.5")
@click.option(
    "--sort", "sort_by", type=click.Choice(SORT_CHOICES), default="started", help="sort column"
)
@click.option("--asc", is_flag=True, help="ascending (default: descending)")
@click.option("--limit", type=int, help="show only the first N rows")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", help="output format"
)
@workspace_option
def history_list(
    search: str,
    themes: tuple[str, ...],
    models: tuple[str, ...],
    statuses: tuple[str, ...],
    kinds: tuple[str, ...],
    since: str | None,
    until: str | None,
    minimum: tuple[str, ...],
    maximum: tuple[str, ...],
    sort_by: str,
    asc: bool,
    limit: int | None,
    fmt: str,
) -> None:
    """Runs, newest first; e.g. the best: --sort test_acc --limit 1."""
    from core.history import (
        ASSIST_KINDS,
        HistoryFilter,
        format_duration,
        list_entries,
        sort_entries,
    )
    from core.stores import check_mlflow_store

    check_mlflow_store(current_workspace())  # else an unreadable store reads as "no runs"
    low, high = _bounds(minimum, "--min"), _bounds(maximum, "--max")
    spec = HistoryFilter(
        text=search,
        themes=themes,
        models=models,
        statuses=statuses,
        kinds=kinds or ("train", "tune"),
        since=_date(since, "--since"),
        until=_date(until, "--until"),
        metric_ranges=tuple((m, low.get(m), high.get(m)) for m in sorted({*low, *high})),
    )
    entries = sort_entries(list_entries(current_workspace(), spec), sort_by, descending=not asc)
    if limit is not None:
        entries = entries[:limit]
    if fmt == "json":
        click.echo(json.dumps([_entry_json(e) for e in entries], indent=1))
        return
    click.echo(
        f"{'status':<10} {'name':<22} {'theme':<14} {'model':<12} {'experiment':<13} "
        f"{'started':<16} "
        f"{'duration':>8} {'epochs':>6} {'valid_loss':>10} {'valid_acc':>9} {'test_acc':>8}  job"
    )
    for e in entries:
        click.echo(
            f"{e.status:<10} {_cut(e.name or '-', 22):<22} "
            f"{(e.theme or '-'):<14.14} {(e.model or e.kind):<12.12} "
            f"{(e.experiment_id or '-'):<13} {_when(e.started_at):<16} "
            f"{format_duration(e.duration, '-'):>8} {e.epochs if e.epochs is not None else '-':>6} "
            f"{_number(e.metrics.get('valid_loss')):>10} {_number(e.metrics.get('valid_acc')):>9} "
            f"{_number(e.metrics.get('test_acc')):>8}  "
            f"{e.job_id or (e.origin if e.kind in ASSIST_KINDS else None) or '-'}"
        )
    if not entries:
        click.echo("no runs match")


@history.command("show")
@click.argument("ident")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="output format"
)
@workspace_option
def history_show(ident: str, fmt: str) -> None:
    """One run: status, metrics, parameters, files (IDENT: job or experiment id)."""
    from core.history import (
        entry_params,
        format_count,
        format_duration,
        get_entry,
        plot_images,
    )

    workspace = current_workspace()
    entry = get_entry(workspace, ident)
    params = entry_params(workspace, entry)
    images = plot_images(workspace, entry.experiment_id) if entry.experiment_id else []
    if fmt == "json":
        record = _entry_json(entry)
        record.update(params=params, plots=[str(p) for p in images])
        click.echo(json.dumps(record, indent=1))
        return
    click.echo(f"{entry.kind} {entry.id}: {entry.status}")
    for name, value in (
        ("name", entry.name),
        ("study", entry.study),
        ("trial", entry.trial),
        ("theme", entry.theme),
        ("model", entry.model),
        ("experiment", entry.experiment_id),
        ("job", entry.job_id),
        ("MLflow run", entry.run_id),
        ("parent run", entry.parent_run_id),
        ("best trial", entry.best_run_id),
        ("started", _when(entry.started_at)),
        ("duration", format_duration(entry.duration, "-")),
        ("epochs", entry.epochs),
        ("error", entry.error),
    ):
        if value not in (None, "-"):
            click.echo(f"  {name + ':':<12}{value}")
    for key, value in sorted(entry.metrics.items()):
        click.echo(f"  {key + ':':<12}{_number(value)}")
    for key, value in entry.counts.items():
        click.echo(f"  {key + ':':<12}{' ' if len(key) >= 11 else ''}{format_count(value)}")
    if entry.experiment_id and workspace.experiment_dir(entry.experiment_id).exists():
        click.echo(
            f"  {'folder:':<12}{workspace.relative(workspace.experiment_dir(entry.experiment_id))}"
        )
    for path in images:
        click.echo(f"  {'plot:':<12}{workspace.relative(path)}")
    if params:
        click.echo("parameters:")
        for key, value in sorted(params.items()):
            click.echo(f"  {key} = {json.dumps(value)}")


@history.command("compare")
@click.argument("idents", nargs=-1, required=True)
@click.option("--all-params", is_flag=True, help="also the parameters all runs share")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", help="output format"
)
@workspace_option
def history_compare(idents: tuple[str, ...], all_params: bool, fmt: str) -> None:
    """Two or more runs: parameter differences, metrics, curves, confusion matrices.

    IDENTS: job or experiment ids, as `cockpit history list` shows them.
    """
    from core.history import compare

    result = compare(current_workspace(), idents)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "runs": [
                        {
                            "entry": _entry_json(run.entry),
                            "params": run.params,
                            "curves": run.curves,
                            "curve_source": run.curve_source,
                            "confusion": asdict(run.confusion) if run.confusion else None,
                        }
                        for run in result.runs
                    ],
                    "param_diff": [
                        {"key": r.key, "values": r.values}
                        for r in result.param_rows
                        if all_params or r.differs
                    ],
                },
                indent=1,
            )
        )
        return
    labels = [run.label for run in result.runs]
    width = max(12, *(len(label) for label in labels)) + 2
    rows = result.param_rows if all_params else result.differing_rows
    click.echo(f"{'':<22}" + "".join(f"{label:>{width}}" for label in labels))
    click.echo("parameters" + (" (all)" if all_params else " that differ") + ":")
    for row in rows:
        mark = "*" if row.differs else " "
        click.echo(
            f"{mark} {row.key:<20}" + "".join(f"{v:>{width}.{width - 1}}" for v in row.values)
        )
    if not rows:
        click.echo("  (none: the runs share every parameter)")
    click.echo("metrics of the best weights:")
    for metric in ("valid_loss", "valid_acc", "test_loss", "test_acc"):
        values = [_number(run.entry.metrics.get(metric)) for run in result.runs]
        click.echo(f"  {metric:<20}" + "".join(f"{v:>{width}}" for v in values))
    click.echo("curves (per epoch):")
    for name in ("valid_loss", "valid_acc"):
        for run in result.runs:
            points = run.curves.get(name, [])
            shown = " ".join(f"{v:.3f}" for _e, v in points[-8:]) or "-"
            click.echo(f"  {name:<11} {run.label:<{width}} {shown}  [{run.curve_source}]")
    for run in result.runs:
        matrix = run.confusion
        if matrix is None:
            click.echo(f"confusion matrix {run.label}: not recorded")
            continue
        click.echo(
            f"confusion matrix {run.label} ({matrix.split} split, accuracy "
            f"{_number(matrix.accuracy)}; rows true, columns predicted):"
        )
        cell = max(6, *(len(c) for c in matrix.classes)) + 1
        click.echo(" " * cell + "".join(f"{c:>{cell}}" for c in matrix.classes))
        for name, row in zip(matrix.classes, matrix.matrix, strict=True):
            click.echo(f"{name:>{cell}}" + "".join(f"{v:>{cell}}" for v in row))


@history.command("delete")
@click.argument("idents", nargs=-1, required=True)
@click.option("--yes", "-y", is_flag=True, help="do not ask for confirmation")
@workspace_option
def history_delete(idents: tuple[str, ...], yes: bool) -> None:
    """Delete runs everywhere: database rows, queue files and logs, MLflow run, folder.

    IDENTS: job or experiment ids, as `cockpit history list` shows them.
    """
    from core.history import delete_entry, plan_delete

    workspace = current_workspace()
    for ident in idents:
        plan = plan_delete(workspace, ident)
        click.echo("will delete:")
        for line in plan.describe(workspace).splitlines():
            click.echo(f"  {line}")
        if not yes and not click.confirm("delete?", default=False):
            click.echo("kept")
            continue
        done = delete_entry(workspace, ident)
        for note in done.notes:
            click.echo(f"note: {note}")
        click.echo(f"deleted {done.experiment_id or done.entry_id}")

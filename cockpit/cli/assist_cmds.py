"""``cockpit suggest``, ``cockpit suggestions list|accept|undo`` and ``cockpit label-issues``:
model-assisted labeling (core.assist)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from cockpit.cli.common import current_workspace, param_options, resolved_params, workspace_option

__all__ = ["label_issues", "suggest", "suggestions"]

MODEL_HELP = (
    "registered model version: NAME (newest version), NAME/VERSION or NAME@ALIAS, "
    "e.g. cells_model/3"
)


def _echo_json(data: object) -> None:
    click.echo(json.dumps(data, indent=1))


@click.command()
@click.option("--theme", "theme_name", required=True, help="theme whose images to predict")
@click.option("--model", "spec", required=True, metavar="NAME[/V|@ALIAS]", help=MODEL_HELP)
@click.option(
    "--all", "every", is_flag=True, help="predict every image, not only the unlabeled ones"
)
@click.option("--submit", is_flag=True, help="queue it as a job instead of running it now")
@click.option("--no-runner", is_flag=True, help="with --submit: queue only, start no runner")
@click.option("--json", "as_json", is_flag=True, help="print the outcome as JSON")
@workspace_option
def suggest(
    theme_name: str, spec: str, every: bool, submit: bool, no_runner: bool, as_json: bool
) -> None:
    """Predict a theme's unlabeled images (or all with --all) with a registered model
    version and store each image's suggested label, top-3 probabilities and uncertainty.
    The model's classes must be the theme's labels."""
    workspace = current_workspace()
    if submit:
        from core.assist.jobs import submit_suggest

        job = submit_suggest(workspace, theme_name, spec, every=every, start=not no_runner)
        click.echo(f"queued job {job.id} (suggest {theme_name} with {job.args['model']})")
        return
    from core.assist.suggest import suggest as run_suggest

    outcome = run_suggest(
        workspace, theme_name, spec, every=every, echo=(lambda _l: None) if as_json else click.echo
    )
    if as_json:
        _echo_json(outcome.to_dict())
        return
    shown = ", ".join(f"{k} {v}" for k, v in outcome.by_label.items()) or "none"
    click.echo(f"suggested labels: {shown}")
    click.echo(
        f"next: `cockpit suggestions accept --theme {theme_name} --min-prob 0.9 --dry-run` "
        "counts what would be accepted"
    )


def _named(path: str | None, original: str | None) -> str:
    """A stored image path with the file name it was imported from."""
    return f"{path} ({original})" if original else str(path)


@click.group()
def suggestions() -> None:
    """List, accept or undo the stored label suggestions of a theme."""


@suggestions.command("list")
@click.option("--theme", "theme_name", required=True, help="theme whose suggestions to list")
@click.option(
    "--model",
    "spec",
    metavar="NAME/VERSION",
    help="whose suggestions (default: the latest suggestion run's)",
)
@click.option(
    "--disagree", is_flag=True, help="only labeled images whose label the model disagrees with"
)
@click.option("--limit", type=int, default=20, show_default=True, help="rows to show (0: all)")
@click.option("--json", "as_json", is_flag=True, help="print all rows as JSON")
@workspace_option
def list_suggestions(
    theme_name: str, spec: str | None, disagree: bool, limit: int, as_json: bool
) -> None:
    """Suggestions, most uncertain first (the order in which labeling them helps most)."""
    from dataclasses import asdict

    from core.assist.suggest import suggestions as stored
    from core.db import open_database

    rows = stored(open_database(current_workspace()), theme_name, spec)
    if disagree:
        rows = [r for r in rows if r.disagrees]
    if as_json:
        _echo_json([asdict(r) for r in rows])
        return
    if not rows:
        click.echo(f"no suggestions for {theme_name!r}")
        return
    for row in rows[: limit or None]:
        given = f" (labeled {row.given_label})" if row.given_label else ""
        click.echo(
            f"{_named(row.image_path, row.original_name)}  {row.label} {row.probability:.3f}  "
            f"margin {row.margin:.3f}{given}"
        )
    click.echo(f"{len(rows)} suggestion(s) of {rows[0].model}")


@suggestions.command("accept")
@click.option("--theme", "theme_name", required=True, help="theme whose suggestions to accept")
@click.option(
    "--min-prob",
    type=float,
    required=True,
    help="accept only suggestions with at least this probability (0 to 1), e.g. 0.9",
)
@click.option(
    "--model",
    "spec",
    metavar="NAME/VERSION",
    help="whose suggestions (default: the latest suggestion run's)",
)
@click.option("--dry-run", is_flag=True, help="only count what would be accepted; change nothing")
@click.option("--json", "as_json", is_flag=True, help="print the outcome as JSON")
@workspace_option
def accept(
    theme_name: str, min_prob: float, spec: str | None, dry_run: bool, as_json: bool
) -> None:
    """Label the unlabeled images whose suggestion reaches --min-prob with the suggested
    label; labeled_by records the model version. `cockpit suggestions undo` reverts it."""
    from core.assist.accept import accept_suggestions
    from core.db import open_database

    workspace = current_workspace()
    outcome = accept_suggestions(
        open_database(workspace),
        theme_name,
        min_prob=min_prob,
        model_spec=spec,
        dry_run=dry_run,
        workspace=workspace,
    )
    if as_json:
        _echo_json({**outcome.to_dict(), "dry_run": dry_run})
        return
    counts = outcome.to_dict()["by_label"]
    shown = ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"
    if dry_run:
        click.echo(
            f"would accept {outcome.count} suggestion(s) of {outcome.model} with probability "
            f">= {min_prob}: {shown} (nothing changed)"
        )
    else:
        click.echo(f"accepted {outcome.count} suggestion(s) of {outcome.model}: {shown}")
        if outcome.batch_id is not None:
            click.echo(f"undo with `cockpit suggestions undo --theme {theme_name}`")


@suggestions.command("undo")
@click.option("--theme", "theme_name", required=True, help="theme whose acceptance to undo")
@click.option("--batch", type=int, help="which acceptance (default: the latest not undone)")
@workspace_option
def undo(theme_name: str, batch: int | None) -> None:
    """Put back the labels an acceptance of suggestions replaced; images labeled again
    since then keep their newer label."""
    from core.assist.accept import undo_accept
    from core.db import open_database

    outcome = undo_accept(open_database(current_workspace()), theme_name, batch)
    kept = f"; {outcome.kept} relabeled since were kept" if outcome.kept else ""
    click.echo(f"undid acceptance {outcome.batch_id}: {outcome.restored} label(s) restored{kept}")


@click.command("label-issues")
@click.option("--theme", "theme_name", required=True, help="theme whose labeled images to check")
@click.option(
    "--folds",
    type=int,
    default=5,
    show_default=True,
    help="cross-validation folds: this many short trainings with the theme's configuration",
)
@click.option(
    "--model",
    "spec",
    metavar="NAME[/V|@ALIAS]",
    help="score with this registered version's predictions instead of cross-validation "
    "(only the images it did not train on)",
)
@click.option(
    "--max-distance",
    type=click.IntRange(0, 32),
    default=4,
    show_default=True,
    help="near duplicates: most differing bits of the 64-bit perceptual hash",
)
@click.option(
    "--limit", type=int, default=20, show_default=True, help="rows to show per kind (0: all)"
)
@click.option("--json", "as_json", is_flag=True, help="print the whole ranked outcome as JSON")
@click.option("--submit", is_flag=True, help="queue it as a job instead of running it now")
@click.option("--no-runner", is_flag=True, help="with --submit: queue only, start no runner")
@param_options
def label_issues(
    theme_name: str,
    folds: int,
    spec: str | None,
    max_distance: int,
    limit: int,
    as_json: bool,
    submit: bool,
    no_runner: bool,
    params_file: Path | None,
    overrides: tuple[str, ...],
) -> None:
    """Rank suspected label errors (cleanlab's confident learning on out-of-sample
    probabilities from K-fold cross-validation), near-duplicate images and likely
    outliers; the results are stored and logged as an MLflow run."""
    from core.assist.crossval import check_fold_count

    workspace = current_workspace()
    check_fold_count(folds)
    params = resolved_params(params_file, overrides)
    if submit:
        from core.assist.jobs import submit_label_issues

        job = submit_label_issues(
            workspace,
            theme_name,
            params,
            folds=folds,
            model_spec=spec,
            max_distance=max_distance,
            start=not no_runner,
        )
        click.echo(f"queued job {job.id} (label-issues {theme_name})")
        return
    from core.assist.issues import find_label_issues

    outcome = find_label_issues(
        workspace,
        theme_name,
        params,
        folds=folds,
        model_spec=spec,
        max_distance=max_distance,
        echo=(lambda _l: None) if as_json else click.echo,
    )
    if as_json:
        _echo_json(outcome.to_dict())
        return
    sections = (
        ("suspected label errors", outcome.label_issues),
        ("near duplicates", outcome.duplicates),
        ("likely outliers", outcome.outliers),
    )
    for title, issues in sections:
        click.echo(f"{title} ({len(issues)}):")
        for issue in issues[: limit or None]:
            if issue.kind == "duplicate":
                click.echo(
                    f"  {issue.rank:>3}. {_named(issue.image_path, issue.original_name)} ~ "
                    f"{_named(issue.other_path, issue.other_original_name)}  {issue.detail}"
                )
            else:
                click.echo(
                    f"  {issue.rank:>3}. {_named(issue.image_path, issue.original_name)}  "
                    f"labeled {issue.given}, model says "
                    f"{issue.suggested}  (score {issue.score:.3f})"
                )
    click.echo(
        f"finder run {outcome.run_id} ({outcome.source}) stored (History: "
        f"label-issues-{outcome.run_id})"
    )

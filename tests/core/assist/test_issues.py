"""The label-issue finder: K-fold out-of-sample probabilities from real short trainings,
cleanlab's ranking, near duplicates across splits, outliers; stored per run and logged
to MLflow; also as a queue job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from core.assist.issues import find_label_issues, latest_issues
from core.data.importer import import_images
from core.data.labeling import set_labels
from core.data.themes import get_theme
from core.db import AssistRun, LabelIssue, TrainData, open_database
from core.errors import CockpitError
from tests.core.training.shapes import tiny_params


def _quiet(_line: str) -> None:
    pass


def test_finder_ranks_flipped_labels_and_finds_a_resized_copy(shapes_workspace, tmp_path, capfd):
    ws = shapes_workspace
    db = open_database(ws)
    with db.session() as session:
        images = session.execute(
            select(TrainData.id, TrainData.image_path, TrainData.label_id).order_by(TrainData.id)
        ).all()
    # a resized copy of one image, imported as a new (unlabeled) file
    source = ws.root / images[0][1]
    with Image.open(source) as image:
        image.resize((20, 20)).save(tmp_path / "copy.png")
    import_images(db, ws, "shapes", [tmp_path / "copy.png"])
    # one image of each of two classes swapped: the flips
    by_label: dict[int, list[int]] = {}
    for image_id, _path, label_id in images:
        by_label.setdefault(label_id, []).append(image_id)
    first, second = list(by_label)[:2]
    flipped = {by_label[first][0]: second, by_label[second][0]: first}
    with db.session() as session:
        theme_id = get_theme(session, "shapes").id
    for image_id, label_id in flipped.items():
        set_labels(db, theme_id, [image_id], label_id, labeled_by="test")

    capfd.readouterr()
    outcome = find_label_issues(ws, "shapes", tiny_params(ws, "max_epochs=4"), folds=3, echo=_quiet)
    printed = capfd.readouterr()
    assert "Fitting" not in printed.out + printed.err  # no library chatter (cleanlab's OOD fit)
    assert outcome.scored == 36 and outcome.source == "3-fold cross-validation"
    assert outcome.label_issues, "two swapped labels among learnable shapes are found"
    for issue in outcome.label_issues:
        assert issue.given != issue.suggested
    found = {i.image_id for i in outcome.label_issues}
    assert found & set(flipped), (found, flipped)
    [pair] = [d for d in outcome.duplicates if {d.image_id, d.other_id} >= {images[0][0]}][:1]
    assert pair.score <= 4
    # each issue names the file the image was imported from (what the user knows it by)
    with db.session() as session:
        imported = dict(session.execute(select(TrainData.id, TrainData.original_name)).all())
    for issue in [*outcome.label_issues, *outcome.outliers, *outcome.duplicates]:
        assert issue.original_name == imported[issue.image_id] is not None
    assert {pair.original_name, pair.other_original_name} >= {"copy.png"}
    assert outcome.outliers and all(o.kind == "outlier" for o in outcome.outliers)

    with db.session() as session:
        run = session.get(AssistRun, outcome.run_id)
        assert run.kind == "label_issues" and run.mlflow_run_id == outcome.mlflow_run_id
        stored = session.scalars(select(LabelIssue).where(LabelIssue.run_id == run.id)).all()
    assert len(stored) == len(outcome.label_issues) + len(outcome.duplicates) + len(
        outcome.outliers
    )
    listed = latest_issues(db, "shapes")
    assert [r["image_id"] for r in listed] == [i.image_id for i in outcome.label_issues]
    assert listed[0]["rank"] == 1 and listed[0]["given"] != listed[0]["suggested"]
    assert listed[0]["original_name"] == outcome.label_issues[0].original_name

    from core.training.tracking import tracking_client

    client = tracking_client(ws)
    mlrun = client.get_run(outcome.mlflow_run_id)
    assert mlrun.data.params["folds"] == "3"
    assert mlrun.data.metrics["label_issues"] == len(outcome.label_issues)
    path = client.download_artifacts(
        outcome.mlflow_run_id, "assist/label_issues.json", str(tmp_path)
    )
    ranked = json.loads(Path(path).read_text())["label_issues"]
    assert [r["image_id"] for r in ranked] == [i.image_id for i in outcome.label_issues]

    # a history row of its own, with its counts and run, started before it was stored
    from core.history import list_entries

    [row] = [e for e in list_entries(ws) if e.id == f"label-issues-{outcome.run_id}"]
    assert (row.kind, row.status, row.run_id) == ("label_issues", "finished", mlrun.info.run_id)
    assert row.counts["label_issues"] == len(outcome.label_issues)
    assert row.counts["scored"] == 36 and row.name == "label-issues (3-fold cross-validation)"
    assert row.duration > 0 and row.started_at + row.duration == row.finished_at


def test_too_many_folds_names_the_short_label_and_the_fold_count_that_works(shapes_workspace):
    ws = shapes_workspace
    with pytest.raises(CockpitError) as caught:
        find_label_issues(ws, "shapes", tiny_params(ws), folds=40, echo=_quiet)
    message = str(caught.value)
    assert message.startswith("--folds 40: label ") and "use --folds 12 or fewer" in message
    with pytest.raises(CockpitError, match="give at least 2"):
        find_label_issues(ws, "shapes", tiny_params(ws), folds=1, echo=_quiet)


def test_finder_from_a_registered_version_scores_only_images_it_did_not_train_on(assisted):
    ws = assisted.workspace
    lines = []
    outcome = find_label_issues(ws, "shapes", model_spec="shapes_model/1", echo=lines.append)
    db = open_database(ws)
    with db.session() as session:
        held_out = (
            session.query(TrainData)
            .filter(TrainData.label_id.is_not(None), TrainData.split != "train")
            .count()
        )
    assert held_out and outcome.scored == held_out
    assert outcome.source == "model shapes_model/1"
    assert outcome.warning and outcome.warning in lines
    assert "did not train on" in outcome.warning
    with db.session() as session:
        run = session.get(AssistRun, outcome.run_id)
        assert (run.model_name, run.model_version) == ("shapes_model", "1")

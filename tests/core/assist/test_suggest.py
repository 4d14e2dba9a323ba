"""Suggestions of a registered version: stored per image and version, accepted in bulk
with labeled_by naming the model, undone; a model of other labels is refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from core.assist.accept import accept_suggestions, undo_accept
from core.assist.suggest import suggest, suggestions
from core.data.themes import add_labels, get_theme
from core.db import Prediction, TrainData, open_database
from core.errors import CockpitError


def _quiet(_line: str) -> None:
    pass


def test_suggest_stores_each_unlabeled_image_with_scores_and_an_mlflow_run(assisted):
    ws = assisted.workspace
    outcome = suggest(ws, "shapes", "shapes_model", echo=_quiet)
    assert (outcome.model_name, outcome.model_version) == ("shapes_model", "1")
    assert outcome.predicted == 6 and outcome.unreadable == []
    db = open_database(ws)
    with db.session() as session:
        theme_id = get_theme(session, "shapes").id
        unlabeled = session.scalars(
            select(TrainData.id).where(TrainData.theme_id == theme_id, TrainData.label_id.is_(None))
        ).all()
        rows = session.scalars(
            select(Prediction).where(Prediction.train_data_id.in_(unlabeled))
        ).all()
        total = session.query(Prediction).count()
    assert sorted(r.train_data_id for r in rows) == sorted(unlabeled)
    for row in rows:
        top = json.loads(row.top_json)
        assert len(top) == 3 and top[0][1] == pytest.approx(row.probability, abs=1e-6)
        assert row.least_confidence == pytest.approx(1 - row.probability)
        assert 0 <= row.margin <= row.probability and row.entropy >= 0
        assert row.created_at.year >= 2026  # written by the batch upsert, read by the ORM
    listed = suggestions(db, "shapes")
    assert [s.margin for s in listed] == sorted(s.margin for s in listed)  # uncertain first
    with db.session() as session:
        imported = dict(session.execute(select(TrainData.id, TrainData.original_name)).all())
    assert [s.original_name for s in listed] == [imported[s.image_id] for s in listed]
    assert all(s.original_name for s in listed)

    again = suggest(ws, "shapes", "shapes_model/1", echo=_quiet)  # replaces, never doubles
    with db.session() as session:
        assert session.query(Prediction).count() == total
    from core.training.tracking import tracking_client

    client = tracking_client(ws)
    run = client.get_run(again.mlflow_run_id)
    assert run.data.params["model"] == "shapes_model/1"
    assert run.data.metrics["predicted"] == 6
    [artifact] = client.list_artifacts(again.mlflow_run_id, "assist")
    assert artifact.path.endswith("suggest.json")


def test_batches_stored_a_few_at_a_time_all_land_and_a_bad_last_file_costs_one_row(
    assisted, monkeypatch
):
    """Small batches, a transaction every three rows and a corrupt file in the last batch:
    every readable image's prediction is stored, the bad file is named, nothing else."""
    import core.assist.suggest as module

    ws = assisted.workspace
    db = open_database(ws)
    with db.session() as session:
        theme_id = get_theme(session, "shapes").id
        unlabeled = session.execute(
            select(TrainData.id, TrainData.image_path)
            .where(TrainData.theme_id == theme_id, TrainData.label_id.is_(None))
            .order_by(TrainData.id)
        ).all()
    last_path = ws.root / unlabeled[-1][1]
    kept = last_path.read_bytes()  # the fixture's workspace is shared: put the file back
    last_path.write_bytes(b"not an image")
    monkeypatch.setattr(module, "STORE_EVERY", 3)
    try:
        outcome = suggest(ws, "shapes", "shapes_model", batch_size=2, echo=_quiet)
    finally:
        last_path.write_bytes(kept)
    assert outcome.unreadable == [unlabeled[-1][1]]
    assert outcome.predicted == len(unlabeled) - 1
    with db.session() as session:
        stored = set(
            session.scalars(
                select(Prediction.train_data_id).where(Prediction.run_id == outcome.run_id)
            ).all()
        )
    assert stored == {image_id for image_id, _ in unlabeled[:-1]}


def test_accept_sets_model_labels_above_the_threshold_and_undo_restores(assisted):
    ws = assisted.workspace
    suggest(ws, "shapes", "shapes_model", echo=_quiet)
    db = open_database(ws)
    # the unlabeled images' suggestions (other tests of this workspace suggest for all)
    found = [s for s in suggestions(db, "shapes") if s.given_label is None]
    assert len(found) == 6
    threshold = sorted(s.probability for s in found)[2]  # the 4 most confident pass
    # (or more where the tiny model gives images the very same probability)
    passing = sum(s.probability >= threshold for s in found)
    assert passing >= 4
    preview = accept_suggestions(db, "shapes", min_prob=threshold, dry_run=True)
    assert preview.count == passing and preview.batch_id is None
    with db.session() as session:
        theme_id = get_theme(session, "shapes").id
        assert (
            session.query(TrainData)
            .filter(TrainData.theme_id == theme_id, TrainData.label_id.is_(None))
            .count()
            == 6
        )

    done = accept_suggestions(db, "shapes", min_prob=threshold)
    assert done.count == passing and done.batch_id is not None
    chosen = {s.image_id: s.label for s in done.chosen}
    with db.session() as session:
        theme = get_theme(session, "shapes")
        names = {label.id: label.label_name for label in theme.labels}
        for image_id, label in chosen.items():
            image = session.get(TrainData, image_id)
            assert names[image.label_id] == label
            assert image.labeled_by == "model:shapes_model/1"
        # a person relabels one of them before the undo: that label is kept
        kept_id = next(iter(chosen))
        other = next(i for i, n in names.items() if n != chosen[kept_id])
        session.get(TrainData, kept_id).label_id = other
        session.get(TrainData, kept_id).labeled_by = "ann"

    undone = undo_accept(db, "shapes")
    assert (undone.restored, undone.kept) == (passing - 1, 1)
    with db.session() as session:
        for image_id in chosen:
            image = session.get(TrainData, image_id)
            if image_id == kept_id:
                assert (image.label_id, image.labeled_by) == (other, "ann")
                image.label_id, image.labeled_by = None, None  # the fixture's state again
            else:
                assert (image.label_id, image.labeled_by) == (None, None)
    with pytest.raises(CockpitError, match="no accepted suggestions to undo"):
        undo_accept(db, "shapes")


def test_a_model_of_other_labels_is_refused_with_the_difference(assisted, tmp_path):
    from core.data.importer import import_images
    from core.data.themes import create_theme
    from core.demo import write_demo_images

    ws = assisted.workspace
    db = open_database(ws)
    create_theme(db, "fruit")
    add_labels(db, "fruit", ["apple", "circle"])
    write_demo_images(tmp_path / "x", per_class=1, size=16, seed=1)
    import_images(db, ws, "fruit", sorted((tmp_path / "x").rglob("*.png")))
    with pytest.raises(CockpitError) as caught:
        suggest(ws, "fruit", "shapes_model", echo=_quiet)
    message = str(caught.value)
    assert "\n" not in message
    assert "the theme's labels apple are unknown to the model" in message
    assert "not labels of the theme" in message
    with pytest.raises(CockpitError, match="has no version 7"):
        suggest(ws, "shapes", "shapes_model/7", echo=_quiet)


def test_a_suggest_job_runs_through_the_job_process_dispatch(assisted, capsys):
    from core.assist.jobs import submit_suggest
    from core.assist.suggest import latest_suggest_run
    from core.jobs.run import run

    ws = assisted.workspace
    job = submit_suggest(ws, "shapes", "shapes_model", start=False)
    assert (job.kind, job.args) == ("suggest", {"model": "shapes_model/1", "every": False})
    db = open_database(ws)
    with db.session() as session:
        theme_id = get_theme(session, "shapes").id
    before = latest_suggest_run(db, theme_id)
    assert run(job) == 0
    assert "suggestions of shapes_model/1: done (6 image(s))" in capsys.readouterr().out
    after = latest_suggest_run(db, theme_id)
    assert after.id != (before.id if before else None) and after.mlflow_run_id
    from core.jobs.queue import JobQueue

    JobQueue(ws).cancel(job.id)


def test_counts_of_labels_with_an_apostrophe_or_an_accent_are_logged(tmp_path):
    """A label's name may hold characters MLflow refuses in a metric key (``dog's``, a
    combining accent): the suggestion run still logs one distinct count per label."""
    from core.assist.mlflow_runs import log_assist_run
    from core.scaffold import init_workspace
    from core.training.tracking import tracking_client

    workspace = init_workspace(tmp_path / "ws").workspace
    counts = {"suggested_dog's": 2, "suggested_dog_s": 1, "suggested_cafe\u0301": 4}
    run_id = log_assist_run(
        workspace,
        "names",
        "suggest",
        run_name="suggest-names",
        params={"model": "names_model/1"},
        counts=counts,
        artifact=[],
    )
    run = tracking_client(workspace).get_run(run_id)
    assert run.info.status == "FINISHED"
    assert run.data.metrics == {
        "suggested_dog_s": 2.0,
        "suggested_dog_s_2": 1.0,
        "suggested_cafe_": 4.0,
    }

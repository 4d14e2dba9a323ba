"""The data layer, the queue and tuning on every store backend: SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from core.db import Base, Database, Label, Theme, TrainData, open_database
from core.jobs.queue import JobQueue
from core.jobs.runner import Runner
from tests.cluster.conftest import BACKENDS
from tests.cluster.studies import OPTIMIZER_SPACE, write_study
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


def quiet(_line):
    pass


# the long end-to-end runs on SQLite are tests/core/jobs/test_runner.py's: here the server
on_server = pytest.mark.parametrize("backend", BACKENDS[1:], indirect=True)


def test_the_migrated_schema_matches_the_models(backend, workspace):
    db = open_database(workspace)
    assert db.is_sqlite == (backend == "sqlite")
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        assert compare_metadata(context, Base.metadata) == []
    db.upgrade()  # a second upgrade is a no-op


def test_constraints_hold_and_a_failed_unit_of_work_changes_nothing(backend, workspace):
    db = open_database(workspace)
    with db.session() as session:
        session.add(Theme(name="cells", labels=[Label(label_name="a")]))
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Theme(name="x"))
        session.flush()
        session.add(TrainData(image_path="p", theme_id=999, content_hash="h", width=1, height=1))
    with pytest.raises(IntegrityError), db.session() as session:
        theme = session.query(Theme).one()
        session.add(Label(theme_id=theme.id, label_name="a"))  # unique per theme
    again = Database(workspace.database_url)
    with again.session() as session:
        assert [t.name for t in session.query(Theme)] == ["cells"]
        assert session.query(Label).count() == 1
    again.dispose()


@on_server
def test_a_train_job_runs_through_the_queue_into_every_store(backend, shapes_workspace):
    from core.config import parse_overrides, resolve_params
    from core.data.splits import assign_splits
    from core.db import Model
    from core.jobs.submit import submit_train
    from core.models.catalog import list_models

    ws = shapes_workspace
    db = open_database(ws)
    assign_splits(db, "shapes")
    params = resolve_params(ws, overrides=parse_overrides(TINY))
    job = submit_train(ws, "shapes", params, start=False)
    assert Runner(ws, echo=quiet, poll_s=0.05).run() == 0
    done = JobQueue(ws).get(job.id)
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert done.state == "finished", log
    assert "database is locked" not in log
    with db.session() as session:
        [model] = session.query(Model).all()
    [registered] = list_models(ws)
    assert registered.name == "shapes_model"
    import mlflow

    client = mlflow.MlflowClient(ws.mlflow_tracking_uri)
    run = client.get_run(model.mlflow_run_id)
    assert run.data.tags["job_id"] == job.id
    assert "val_loss" in run.data.metrics or run.data.metrics
    # nothing of the server backends was written as SQLite files into the workspace
    on_files = {p.name for p in ws.root.glob("*.db")}
    assert on_files == ({"database.db", "mlflow.db"} if backend == "sqlite" else set())


@on_server
def test_a_tune_job_runs_its_study_through_the_queue(backend, shapes_workspace):
    import optuna

    from core.jobs.submit import submit_tune

    ws = shapes_workspace
    write_study(ws, "name: queued, n_trials: 2, pruner: none", space=OPTIMIZER_SPACE)
    [job], _warnings = submit_tune(ws, "shapes", start=False)
    assert Runner(ws, echo=quiet, poll_s=0.05).run() == 0
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert JobQueue(ws).get(job.id).state == "finished", log
    assert "database is locked" not in log
    study = optuna.load_study(study_name="queued", storage=ws.optuna_storage_url)
    assert sorted(t.params["optimizer"] for t in study.trials) == ["adam", "sgd"]
    assert (ws.optuna_db_file.exists()) == (backend == "sqlite")


def test_predictions_are_upserted_the_same_way_on_every_backend(backend, workspace):
    """``suggest`` hands its rows to the driver's executemany: the same SQL, the right
    placeholders and timestamps on SQLite and PostgreSQL; a rerun of one model version
    replaces its rows."""
    import json

    from core.assist.suggest import _store, suggestions
    from core.db import AssistRun

    db = open_database(workspace)
    with db.session() as session:
        theme = Theme(name="cells", labels=[Label(label_name="a"), Label(label_name="b")])
        session.add(theme)
        session.flush()
        images = [
            TrainData(image_path=f"images/{i}.png", theme_id=theme.id, content_hash=f"{i:064x}",
                      width=8, height=8)
            for i in range(3)
        ]
        session.add_all(images)
        run = AssistRun(theme_id=theme.id, kind="suggest", model_name="m", model_version="1")
        session.add(run)
        session.flush()
        ids = (theme.id, [i.id for i in images], {lb.label_name: lb.id for lb in theme.labels})
        run_id = run.id
    theme_id, image_ids, labels = ids

    def rows(label: str, probability: float):
        top = json.dumps([[label, probability], ["b" if label == "a" else "a", 0.1]])
        return [
            (theme_id, image_id, "m", "1", labels[label], probability, top, 0.2, 0.3, 0.4,
             run_id)
            for image_id in image_ids
        ]

    _store(db, rows("a", 0.9))
    _store(db, rows("b", 0.7))  # the same version again: replaced, not added
    shown = suggestions(db, "cells")
    assert len(shown) == 3
    assert {(s.label, s.probability) for s in shown} == {("b", 0.7)}
    assert tuple(shown[0].top[0]) == ("b", 0.7)

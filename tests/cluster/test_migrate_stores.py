"""`cockpit migrate-stores`: a workspace's SQLite stores copied to a real PostgreSQL
server, counts verified, the workspace switched to it, and a non-empty target refused."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import ENV_VARS

pytestmark = [pytest.mark.postgresql, pytest.mark.filterwarnings("ignore")]
REPO = Path(__file__).resolve().parents[2]


def cockpit(workspace, *args, env=None):
    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "--workspace", str(workspace.root), *args],
        capture_output=True, text=True, env=environment, timeout=300,
    )


def snapshot(ws):
    """What a user sees of every store: themes and images, models, runs, trials."""
    import mlflow
    import optuna

    from core.data.themes import list_themes
    from core.db import open_database
    from core.models.catalog import list_models

    themes = [(t.name, dict(t.labels), t.unlabeled) for t in list_themes(open_database(ws))]
    models = [(m.name, [v.version for v in m.versions]) for m in list_models(ws)]
    client = mlflow.MlflowClient(ws.mlflow_tracking_uri)
    runs = sorted(
        (r.info.run_id, r.data.metrics.get("val_loss"), tuple(sorted(r.data.params.items())))
        for e in client.search_experiments()
        for r in client.search_runs([e.experiment_id])
    )
    studies = {
        s.study_name: [(t.number, t.value, t.params) for t in optuna.load_study(
            study_name=s.study_name, storage=ws.optuna_storage_url).trials]
        for s in optuna.get_all_study_summaries(ws.optuna_storage_url)
    }
    return themes, models, runs, studies


def test_a_trained_workspace_moves_to_postgresql_with_every_count_kept(
    shapes_workspace, postgres_server, monkeypatch
):
    import optuna

    from core.config import parse_overrides, resolve_params
    from core.data.splits import assign_splits
    from core.db import Theme, open_database
    from core.db.engine import forget_database
    from core.jobs.runner import Runner
    from core.jobs.submit import submit_train
    from tests.core.training.conftest import TINY

    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    ws = shapes_workspace
    assign_splits(open_database(ws), "shapes")
    params = resolve_params(ws, overrides=parse_overrides([*TINY, "max_epochs=1"]))
    submit_train(ws, "shapes", params, start=False)
    assert Runner(ws, echo=lambda _line: None, poll_s=0.05).run() == 0
    study = optuna.create_study(study_name="s", storage=ws.optuna_storage_url)
    study.optimize(lambda t: t.suggest_float("x", 0, 1) ** 2, n_trials=3)
    before = snapshot(ws)
    assert before[1] == [("shapes_model", ["1"])] and len(before[3]["s"]) == 3

    name = f"moved_{os.getpid()}"
    to = postgres_server.url(name, password="not-needed")  # trust: any password works
    result = cockpit(ws, "migrate-stores", "--to", to)
    assert result.returncode == 0, result.stderr
    assert "not-needed" not in result.stdout + result.stderr
    assert result.stdout.count("counts verified") == 3, result.stdout
    assert "password was not written" in result.stdout
    settings = (ws.root / "cockpit.yaml").read_text()
    assert f"/{name}_mlflow" in settings and "not-needed" not in settings
    # the SQLite files are kept as they were
    assert ws.root.joinpath("database.db").exists()

    # the workspace now reads PostgreSQL: the same themes, models, runs and trials
    assert not ws.database_is_sqlite and not ws.mlflow_is_sqlite
    assert snapshot(ws) == before
    # new rows get new ids (the sequences moved past the copied ones)
    db = open_database(ws)
    with db.session() as session:
        session.add(Theme(name="after the move"))
    forget_database(ws.database_url)

    # a second copy onto the same, now non-empty, target is refused in one line
    again = cockpit(ws, "migrate-stores", "--to", to, "--no-settings",
                    env={"COCKPIT_DATABASE_URL": f"sqlite:///{ws.root}/database.db",
                         "COCKPIT_MLFLOW_TRACKING_URI": f"sqlite:///{ws.root}/mlflow.db",
                         "COCKPIT_OPTUNA_STORAGE": f"sqlite:///{ws.root}/optuna.db"})
    assert again.returncode == 2
    lines = again.stderr.strip().splitlines()
    assert len(lines) == 1 and "is not empty" in lines[0], again.stderr
    assert "not-needed" not in again.stderr


def test_stores_already_on_a_server_are_refused(workspace, monkeypatch):
    monkeypatch.setenv("COCKPIT_DATABASE_URL", "postgresql://lab:pw@127.0.0.1:9/x")
    result = cockpit(workspace, "migrate-stores", "--to", "postgresql://lab@127.0.0.1:9/y")
    assert result.returncode == 2
    assert "already on a server" in result.stderr and ":pw@" not in result.stderr

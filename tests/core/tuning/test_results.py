"""Reading studies back and stopping them, over real Optuna studies in the workspace's
optuna.db (the trainings themselves are covered by test_study.py and the Tuning panel's
tests)."""

import time

import optuna
import pytest

from core.errors import CockpitError
from core.tuning.control import StopWhenRequested, request_stop
from core.tuning.results import (
    ParamAxis,
    best_params,
    best_trial,
    list_studies,
    load_study_details,
)

pytestmark = pytest.mark.filterwarnings("ignore")


def test_a_workspace_without_studies_lists_none_and_creates_nothing(workspace):
    assert list_studies(workspace) == []
    assert not workspace.optuna_db_file.exists()
    with pytest.raises(CockpitError, match="optuna.db does not exist"):
        best_params(workspace, "any")


def test_a_storage_still_being_created_reads_as_empty_and_is_never_written(workspace):
    """The GUI may poll while a tune job creates optuna.db: the reader must neither fail
    nor create tables itself (two creators at once make the tune job fail)."""
    import sqlite3

    from core.tuning.study import _storage

    path = workspace.optuna_db_file
    sqlite3.connect(path).close()  # the file exists, no schema yet
    assert list_studies(workspace) == []
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)")
    assert list_studies(workspace) == []  # schema half made
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
        db.execute("DROP TABLE alembic_version")
    assert tables == {"alembic_version"}  # the reader created nothing
    storage = _storage(workspace.optuna_storage_url)  # the tune job's way: creates it
    optuna.create_study(study_name="fresh", storage=storage)
    assert [s.name for s in list_studies(workspace)] == ["fresh"]


def test_a_stop_request_ends_the_run_after_its_current_trial_and_an_older_one_is_ignored(
    workspace,
):
    study = optuna.create_study(study_name="s", storage=workspace.optuna_storage_url)
    assert request_stop(workspace, "s").running_trials == []  # before the run: ignored
    time.sleep(0.01)
    lines, during = [], []

    def objective(trial):
        if trial.number == 2:
            during.append(request_stop(workspace, "s"))
        return trial.suggest_float("x", 0.0, 1.0)

    study.optimize(objective, n_trials=10, callbacks=[StopWhenRequested(lines.append)])
    assert len(study.trials) == 3
    assert during[0].running_trials == [2]
    assert lines == ["stop requested: study 's' ends after trial 2"]
    assert list_studies(workspace)[0].stopping is False  # nothing runs any more


def test_trials_history_best_and_axes(workspace):
    study = optuna.create_study(
        study_name="m", storage=workspace.optuna_storage_url, direction="minimize"
    )
    study.enqueue_trial({"lr": 0.1, "opt": "sgd"})
    study.enqueue_trial({"lr": 0.001, "opt": "adam"})
    study.enqueue_trial({"lr": 0.01, "opt": "adam"})
    study.enqueue_trial({"lr": 0.01, "opt": "sgd"})

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-3, 1e-1, log=True)
        opt = trial.suggest_categorical("opt", ["adam", "sgd"])
        if trial.number == 3:
            raise optuna.TrialPruned()
        return {0.1: 3.0, 0.001: 1.0, 0.01: 2.0}[lr] + (opt == "sgd")

    study.optimize(objective, n_trials=4)
    details = load_study_details(workspace, "m")
    assert details.summary.counts == {
        "complete": 3, "pruned": 1, "fail": 0, "running": 0, "waiting": 0
    }  # fmt: skip
    assert (details.summary.best_trial, details.summary.best_value) == (1, 1.0)
    assert details.history.values == [4.0, 1.0, 2.0]
    assert details.history.best_so_far == [4.0, 1.0, 1.0]
    lr, opt = details.axes
    assert (lr.kind, lr.log, lr.position(0.01)) == ("float", True, pytest.approx(0.5))
    assert (opt.choices, opt.position("sgd")) == (("adam", "sgd"), 1.0)
    assert ParamAxis("n", "int", 4, 4).position(4) == 0.5
    best = best_trial(workspace, "m")
    assert best.tuned == best.params == {"lr": 0.001, "opt": "adam"}  # no experiment record
    with pytest.raises(CockpitError, match="'x': no such study; studies: m"):
        load_study_details(workspace, "x")

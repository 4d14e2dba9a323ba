"""The history on a real workspace: queued and foreground trainings, a cancelled job,
real SQLite, MLflow and queue folders (shared with the panel tests: the delete test
deletes only runs it creates)."""

import contextlib
import datetime as dt
import io
import json

import pytest
from click.testing import CliRunner
from mlflow.exceptions import MlflowException
from mlflow.tracking import MlflowClient
from sqlalchemy import func, select

from cockpit.cli import cli
from core.db import Model, ModelTrainData, open_database
from core.errors import CockpitError
from core.history import (
    HistoryFilter,
    compare,
    delete_entry,
    get_entry,
    list_entries,
    plan_delete,
    plot_status,
    request_plots,
    requeue_params,
    sort_entries,
)
from core.jobs.queue import JobQueue
from core.jobs.run import run as run_job
from core.jobs.submit import submit_plot, submit_train
from core.processes import this_host
from tests.core.history.history_workspace import train_job
from tests.core.training.conftest import tiny_params

pytestmark = pytest.mark.filterwarnings("ignore")


def cockpit(history, *args):
    result = CliRunner().invoke(cli, ["-w", str(history.workspace.root), *args])
    return result


def by_id(history):
    """The training rows (tests add plot jobs, which are rows of their own kind)."""
    return {e.id: e for e in list_entries(history.workspace, HistoryFilter(kinds=("train",)))}


def test_list_joins_jobs_experiments_database_and_mlflow_ids(history):
    ws = history.workspace
    entries = by_id(history)
    assert set(entries) == {
        history.fast_job,
        history.slow_job,
        history.foreground,
        history.cancelled_job,
    }
    fast = entries[history.fast_job]
    state = json.loads((ws.experiment_dir(fast.experiment_id) / "state.json").read_text())
    assert fast.status == "finished" and fast.kind == "train" and fast.theme == "shapes"
    assert fast.model == "simple_cnn" and fast.epochs == 2 and fast.recorded
    assert fast.metrics == state["final_metrics"]
    assert fast.duration is not None and fast.duration > 0
    run = MlflowClient(ws.mlflow_tracking_uri).get_run(fast.run_id)
    assert run.data.tags["experiment_hash"] == fast.experiment_id
    assert run.data.tags["job_id"] == fast.job_id
    assert entries[history.slow_job].epochs == 3
    foreground = entries[history.foreground]
    assert foreground.job_id is None and foreground.experiment_id == history.foreground
    assert foreground.status == "finished" and foreground.recorded
    cancelled = entries[history.cancelled_job]
    assert cancelled.status == "cancelled" and cancelled.metrics == {}
    assert cancelled.duration is None and not cancelled.recorded
    # newest first
    assert list(entries)[-1] == history.fast_job


def test_filters_and_numeric_sorting(history):
    ws = history.workspace
    all_entries = list_entries(ws, HistoryFilter(kinds=("train",)))
    assert [e.id for e in list_entries(ws, HistoryFilter(text=history.slow_job[-6:]))] == [
        history.slow_job
    ]
    assert {e.id for e in list_entries(ws, HistoryFilter(text="SHAPES cancelled"))} == {
        history.cancelled_job
    }
    assert list_entries(ws, HistoryFilter(themes=("other",))) == []
    assert len(list_entries(ws, HistoryFilter(models=("simple_cnn",)))) == 4
    finished = list_entries(ws, HistoryFilter(statuses=("finished",), kinds=("train",)))
    assert history.cancelled_job not in {e.id for e in finished} and len(finished) == 3
    tomorrow = (dt.datetime.now() + dt.timedelta(days=1)).timestamp()
    assert list_entries(ws, HistoryFilter(since=tomorrow)) == []
    assert len(list_entries(ws, HistoryFilter(until=tomorrow, kinds=("train",)))) == 4
    ranked = sort_entries(all_entries, "test_acc", descending=True)
    accuracies = [e.metrics.get("test_acc") for e in ranked]
    assert accuracies[-1] is None  # unknown last, also when descending
    assert accuracies[:3] == sorted(accuracies[:3], reverse=True)
    best = ranked[0].metrics["test_acc"]
    at_least_best = list_entries(ws, HistoryFilter(metric_ranges=(("test_acc", best, None),)))
    assert {e.metrics["test_acc"] for e in at_least_best} == {best}
    assert sort_entries(all_entries, "epochs")[0].epochs == 2
    with pytest.raises(CockpitError, match="unknown metric 'accuracy'"):
        HistoryFilter(metric_ranges=(("accuracy", 0.5, None),))
    with pytest.raises(CockpitError, match="unknown sort key"):
        sort_entries(all_entries, "speed")


def test_compare_curves_param_diff_and_confusion_matrices(history):
    result = compare(history.workspace, [history.fast_job, history.slow_job, history.foreground])
    assert [row.key for row in result.differing_rows] == ["lr", "max_epochs", "seed"]
    lr = next(r for r in result.param_rows if r.key == "lr")
    assert lr.values == ("0.01", "0.003", "0.02")
    assert not next(r for r in result.param_rows if r.key == "batch_size").differs
    fast, slow, foreground = result.runs
    assert fast.curve_source == "job log" and foreground.curve_source == "mlflow"
    assert [epoch for epoch, _v in slow.curves["valid_loss"]] == [1, 2, 3]
    assert [epoch for epoch, _v in foreground.curves["train_acc"]] == [1, 2]
    # the metrics are those of the best weights: the lowest valid loss of the curve
    best = min(v for _epoch, v in fast.curves["valid_loss"])
    assert best == pytest.approx(fast.entry.metrics["valid_loss"], rel=1e-6)
    for run in result.runs:
        matrix = run.confusion
        assert matrix is not None and matrix.split == "test"
        assert matrix.classes == ("circle", "square", "triangle")
        assert matrix.accuracy == pytest.approx(run.entry.metrics["test_acc"], abs=1e-6)
    with pytest.raises(CockpitError, match="two or more runs"):
        compare(history.workspace, [history.fast_job])
    with pytest.raises(CockpitError, match="no job or experiment 'nope'"):
        compare(history.workspace, [history.fast_job, "nope"])


def test_requeue_params_are_the_runs_parameters(history):
    params, theme = requeue_params(history.workspace, history.slow_job)
    assert theme == "shapes" and params["lr"] == 0.003 and params["max_epochs"] == 3
    params, _theme = requeue_params(history.workspace, history.foreground[:6])
    assert params["seed"] == 7


def test_plot_job_writes_images_that_the_history_finds(history):
    ws = history.workspace
    job = request_plots(ws, history.slow_job, start=False)
    assert plot_status(ws, job.id).state == "pending"
    queue = JobQueue(ws)
    claimed = queue.claim_next("cpu", this_host(), 0)
    with contextlib.redirect_stdout(io.StringIO()):
        code = run_job(claimed)
    queue.finish(claimed, "finished", code, None)
    status = plot_status(ws, job.id)
    assert status.ended and status.state == "finished"
    names = {p.name for p in status.images}
    assert {"model_confusion_matrix.png", "model_training_curves.png"} <= names
    # plot jobs are history rows of their own kind, hidden by the default kind filter
    assert get_entry(ws, job.id).kind == "plot"


def test_cli_list_show_and_compare(history):
    listed = cockpit(history, "history", "list", "--sort", "test_acc", "--format", "json")
    assert listed.exit_code == 0, listed.output
    rows = json.loads(listed.output)
    assert [r["kind"] for r in rows] == ["train"] * 4  # plot jobs left out by default
    assert rows[-1]["metrics"] == {}
    table = cockpit(history, "history", "list", "--status", "finished", "--min", "test_acc=0")
    assert table.exit_code == 0 and len(table.output.strip().splitlines()) == 4
    bad = cockpit(history, "history", "list", "--min", "accuracy=1")
    assert bad.exit_code == 2 and "unknown metric 'accuracy'" in bad.output
    shown = cockpit(history, "history", "show", history.slow_job)
    assert shown.exit_code == 0 and "lr = 0.003" in shown.output
    assert "model_training_curves.png" in shown.output
    compared = cockpit(history, "history", "compare", history.fast_job, history.slow_job)
    assert compared.exit_code == 0, compared.output
    assert "* lr" in compared.output and "confusion matrix" in compared.output


def test_delete_removes_the_run_from_database_queue_mlflow_and_disk(history):
    ws = history.workspace
    victim_job = train_job(ws, "lr=0.007")
    victim = get_entry(ws, victim_job)
    pending = submit_plot(ws, victim.experiment_id, start=False)
    with pytest.raises(CockpitError, match=f"has a pending job {pending.id}"):
        plan_delete(ws, victim_job)
    JobQueue(ws).cancel(pending.id)

    client = MlflowClient(ws.mlflow_tracking_uri)
    assert client.search_model_versions(f"run_id='{victim.run_id}'")
    db = open_database(ws)
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(ModelTrainData))
        model_id = session.scalar(select(Model.id).where(Model.mlflow_run_id == victim.run_id))
        used = session.scalar(
            select(func.count())
            .select_from(ModelTrainData)
            .where(ModelTrainData.model_id == model_id)
        )
    assert used > 0
    asked = CliRunner().invoke(
        cli, ["-w", str(ws.root), "history", "delete", victim_job], input="n\n"
    )
    assert "will delete" in asked.output and "kept" in asked.output
    assert ws.experiment_dir(victim.experiment_id).exists()

    done = cockpit(history, "history", "delete", victim_job, "--yes")
    assert done.exit_code == 0, done.output
    # database
    with db.session() as session:
        runs = set(session.scalars(select(Model.mlflow_run_id)))
        rows = session.scalar(select(func.count()).select_from(ModelTrainData))
    assert victim.run_id not in runs and len(runs) == 3
    assert rows == total - used
    # queue: the training job, its cancelled plot job, their logs
    left = JobQueue(ws).jobs()
    assert all(j.experiment_id != victim.experiment_id for j in left)
    assert all(j.args.get("experiment_id") != victim.experiment_id for j in left)
    assert not (ws.logs_dir / f"{victim_job}.metrics.jsonl").exists()
    assert not (ws.logs_dir / f"{victim_job}.log").exists()
    # MLflow: run, its registered version and its artifacts
    with pytest.raises(MlflowException):
        client.get_run(victim.run_id)
    assert client.search_model_versions(f"run_id='{victim.run_id}'") == []
    assert not (ws.mlflow_artifacts_dir / victim.run_id).exists()
    # disk, and the others untouched
    assert not ws.experiment_dir(victim.experiment_id).exists()
    remaining = by_id(history)
    assert set(remaining) == {
        history.fast_job,
        history.slow_job,
        history.foreground,
        history.cancelled_job,
    }
    for entry in remaining.values():
        if entry.run_id:
            assert client.get_run(entry.run_id).info.lifecycle_stage == "active"
    # a job row without an experiment: just the job
    cancelled = submit_train(ws, "shapes", tiny_params(ws, "lr=0.09"), start=False)
    JobQueue(ws).cancel(cancelled.id)
    assert cockpit(history, "history", "delete", cancelled.id, "-y").exit_code == 0
    assert cancelled.id not in by_id(history)
    assert ws.experiment_dir(history.foreground).exists()


def test_deleting_the_only_version_removes_its_empty_registered_model(shapes_workspace):
    workspace = shapes_workspace
    job_id = train_job(workspace)
    client = MlflowClient(tracking_uri=workspace.mlflow_tracking_uri)
    assert [m.name for m in client.search_registered_models()] == ["shapes_model"]
    delete_entry(workspace, job_id)
    assert client.search_registered_models() == []

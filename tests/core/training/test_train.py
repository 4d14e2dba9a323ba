"""Training end to end on real SQLite, MLflow and files (tiny data, CPU)."""

import base64
import json
import os
import signal
import subprocess
import sys
import time

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient
from sqlalchemy import func, select

from core.db import Model, ModelTrainData, open_database
from core.errors import CockpitError
from core.training.checkpoints import CheckpointManager
from core.training.run import train_experiment
from tests.core.training.conftest import TINY, tiny_params

pytestmark = pytest.mark.filterwarnings("ignore")


def quiet(_line):
    pass


def test_train_records_everything_and_registers_a_servable_model(shapes_workspace, tmp_path):
    ws = shapes_workspace
    outcome = train_experiment(ws, "shapes", tiny_params(ws), job_id="job-1", echo=quiet)
    assert outcome.plan.mode == "new"
    assert outcome.model_version == "1" and outcome.run_id
    assert set(outcome.metrics) == {"valid_loss", "valid_acc", "test_loss", "test_acc"}

    client = MlflowClient(ws.mlflow_tracking_uri)
    run = client.get_run(outcome.run_id)
    assert client.get_experiment(run.info.experiment_id).name == "shapes"
    assert run.info.status == "FINISHED"
    assert run.data.tags["experiment_hash"] == outcome.experiment_id
    assert run.data.tags["job_id"] == "job-1"
    assert json.loads(run.data.params["lr"]) == 0.01
    assert [m.step for m in client.get_metric_history(run.info.run_id, "valid_loss")] == [0, 1]
    assert "test_acc" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "record")}
    assert {
        "record/params.yaml",
        "record/augments.yaml",
        "record/resolved_config.yaml",
        "record/split_manifest.csv",
        "record/class_index.json",
    } <= artifacts

    lines = (ws.logs_dir / "job-1.metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert {r["split"] for r in records if r["kind"] == "epoch"} == {"train", "valid", "test"}
    assert all({"step", "epoch", "loss", "lr", "time"} <= set(r) for r in records)

    db = open_database(ws)
    with db.session() as session:
        model = session.scalar(select(Model))
        assert model.mlflow_run_id == outcome.run_id
        assert model.experiment_hash == outcome.experiment_id
        used = session.scalar(select(func.count()).select_from(ModelTrainData))
        assert used == 36

    mlflow.set_tracking_uri(ws.mlflow_tracking_uri)
    model = mlflow.pyfunc.load_model("models:/shapes_model/1")
    image = next((tmp_path / "shapes" / "circle").iterdir())
    frame = pd.DataFrame(
        {"image": [base64.b64encode(image.read_bytes()).decode(), image.read_bytes()]}
    )
    predicted = model.predict(frame)
    with pytest.raises(Exception, match="file paths are not read"):
        model.predict(pd.DataFrame({"image": [str(image)]}))
    assert list(predicted.columns[:2]) == ["label", "probability"]
    assert set(predicted["label"]) <= {"circle", "square", "triangle"}
    assert predicted.iloc[0]["label"] == predicted.iloc[1]["label"]
    probabilities = predicted[["prob_circle", "prob_square", "prob_triangle"]].to_numpy()
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-5)
    batch = np.zeros((2, 20, 20, 3), dtype=np.uint8)
    assert len(model.predict(batch)) == 2
    with pytest.raises(Exception, match="must be base64 of an image file"):
        model.predict(pd.DataFrame({"image": ["not an image!"]}))


def test_same_config_is_complete_more_epochs_extend(shapes_workspace):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    again = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    assert again.plan.mode == "complete" and again.experiment_id == first.experiment_id
    assert again.run_id == first.run_id and again.model_version == first.model_version
    longer = train_experiment(
        ws, "shapes", tiny_params(ws, "max_epochs=3", "registration=always"), echo=quiet
    )
    assert longer.plan.mode == "extend" and longer.plan.completed_epochs == 2
    assert longer.experiment_id == first.experiment_id and longer.run_id == first.run_id
    assert longer.model_version == "2"  # new weights, new registered version
    history = MlflowClient(ws.mlflow_tracking_uri).get_metric_history(first.run_id, "valid_loss")
    assert [m.step for m in history] == [0, 1, 2]
    # each version keeps the metrics of its own weights, though both came from one run
    from core.models.catalog import get_model

    model = get_model(ws, "shapes_model")
    assert model.version("1").metrics["test_acc"] == pytest.approx(first.metrics["test_acc"])
    assert model.version("2").metrics["test_acc"] == pytest.approx(longer.metrics["test_acc"])


def test_epochs_logged_without_a_checkpoint_are_not_logged_twice(shapes_workspace):
    """A large model's checkpoints are paced: a process killed outright before its first
    one has logged epochs that no checkpoint holds. The same command starts over in a new
    run (the earlier run kept), so no step is logged twice into one run."""
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    manager = CheckpointManager(ws.experiment_dir(first.experiment_id))
    for path in (manager.last, manager.best, manager.state_file):
        path.unlink()  # as if the process had died before writing them
    lines = []
    again = train_experiment(ws, "shapes", tiny_params(ws), echo=lines.append)
    assert again.plan.mode == "new" and again.run_id != first.run_id
    assert any("starting over in a new MLflow run" in line for line in lines)
    client = MlflowClient(ws.mlflow_tracking_uri)
    for run_id in (first.run_id, again.run_id):
        assert [m.step for m in client.get_metric_history(run_id, "valid_loss")] == [0, 1]
    record = json.loads((manager.dir / "mlflow_run.json").read_text())
    assert record["previous_run_ids"] == [first.run_id]


def test_registration_policy_keeps_the_registry_to_improvements(shapes_workspace):
    """registration: better (the default) makes a version only of a training that beats every
    registered version of the theme; never registers nothing; the same weights are never
    registered twice; the decision is said and recorded on the run."""
    from core.models.catalog import get_model
    from core.training.packaging import decide_registration

    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    assert first.model_version == "1" and first.registry_decision == "the theme's first version"
    # a chance-level training (lr far too small, one epoch) does not beat version 1
    worse = train_experiment(
        ws, "shapes", tiny_params(ws, "lr=1e-7", "max_epochs=1", "seed=7"), echo=quiet
    )
    registered = get_model(ws, "shapes_model")
    if worse.metrics["test_acc"] <= first.metrics["test_acc"]:
        assert worse.model_version is None
        assert worse.registry_decision.startswith("not registered: test_acc")
        assert "registration: always" in worse.registry_decision
        assert [v.version for v in registered.versions] == ["1"]
    run = MlflowClient(ws.mlflow_tracking_uri).get_run(worse.run_id)
    assert run.data.tags["registry_decision"] == worse.registry_decision
    never = train_experiment(
        ws, "shapes", tiny_params(ws, "lr=0.02", "registration=never"), echo=quiet
    )
    assert never.model_version is None and never.registry_decision.endswith("(registration: never)")
    assert len(get_model(ws, "shapes_model").versions) == len(registered.versions)

    # the decision itself, on made-up versions
    class Version:
        def __init__(self, number, acc):
            self.version, self.run_id, self.tags = number, "r", {"metric.test_acc": str(acc)}

    versions = [Version("1", 0.5), Version("2", 0.8)]
    assert decide_registration("better", {"test_acc": 0.9}, versions, {}).register
    assert not decide_registration("better", {"test_acc": 0.8}, versions, {}).register
    assert (
        "version 2 (0.8000)"
        in decide_registration("better", {"test_acc": 0.7}, versions, {}).reason
    )
    assert decide_registration("always", {"test_acc": 0.1}, versions, {}).register
    assert not decide_registration("never", {"test_acc": 0.99}, versions, {}).register
    assert decide_registration("better", {"valid_acc": 0.1}, [], {}).register  # the first


def test_corrupt_checkpoint_is_explained_and_restart_recovers(shapes_workspace):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    manager = CheckpointManager(ws.experiment_dir(first.experiment_id))
    manager.last.write_bytes(b"garbage")
    lines = []
    train_experiment(ws, "shapes", tiny_params(ws), echo=lines.append)
    assert any("last.ckpt is unreadable" in line and "best.ckpt" in line for line in lines)
    manager.last.write_bytes(b"garbage")
    manager.best.write_bytes(b"")  # what a full disk used to leave
    with pytest.raises(CockpitError, match="unreadable.*--restart"):
        train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    fresh = train_experiment(ws, "shapes", tiny_params(ws), restart=True, echo=quiet)
    assert fresh.plan.mode == "new"
    assert list(manager.dir.glob("corrupt-*/last.ckpt"))


def test_unreachable_tracking_store_loses_nothing(shapes_workspace):
    ws = shapes_workspace
    ws.mlflow_db_file.mkdir()  # sqlite cannot open a folder: the store is unreachable
    outcome = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    assert outcome.mlflow_pending and outcome.run_id is None
    journal = ws.experiment_dir(outcome.experiment_id) / "mlflow_journal.jsonl"
    assert journal.exists()
    ws.mlflow_db_file.rmdir()
    later = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    assert later.plan.mode == "complete" and not later.mlflow_pending
    assert later.model_version == "1" and not journal.exists()
    client = MlflowClient(ws.mlflow_tracking_uri)
    assert [m.step for m in client.get_metric_history(later.run_id, "valid_loss")] == [0, 1]


def test_same_config_on_cpu_gives_identical_metrics(shapes_workspace):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    second = train_experiment(ws, "shapes", tiny_params(ws), restart=True, echo=quiet)
    assert second.metrics == first.metrics


def test_untrainable_theme_fails_with_a_clear_message(workspace):
    from core.data.themes import create_theme

    create_theme(open_database(workspace), "empty", ["a", "b"])
    with pytest.raises(
        CockpitError, match="has no labeled images; training needs at least 2 classes"
    ):
        train_experiment(workspace, "empty", tiny_params(workspace), echo=quiet)


def test_kill_during_training_then_the_same_command_resumes(shapes_workspace):
    ws = shapes_workspace
    command = [
        sys.executable,
        "-m",
        "cockpit",
        "-w",
        str(ws.root),
        "train",
        "--theme",
        "shapes",
        "--job-id",
        "killed",
        *[a for s in TINY[1:] for a in ("--set", s)],
        "--set",
        "max_epochs=60",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    metrics = ws.logs_dir / "killed.metrics.jsonl"
    deadline = time.time() + 180
    while time.time() < deadline:
        epochs = (
            [json.loads(line) for line in metrics.read_text().splitlines()]
            if metrics.exists()
            else []
        )
        if sum(1 for r in epochs if r["kind"] == "epoch" and r["split"] == "valid") >= 2:
            break
        time.sleep(0.2)
    else:
        pytest.fail("two epochs did not end within 180 s")
    # the kill must land mid-training, or the resume below proves nothing (a tiny epoch takes
    # tens of milliseconds: 60 of them outlast the polling above)
    assert process.poll() is None, process.communicate()[0].decode(errors="replace")[-2000:]
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    params = tiny_params(ws, "max_epochs=60")
    plan = None

    def capture(line):
        nonlocal plan
        plan = plan or line

    resumed = train_experiment(ws, "shapes", params, echo=capture)
    assert resumed.plan.mode == "resume" and 1 <= resumed.plan.completed_epochs < 60
    assert "resuming from epoch" in plan


def test_precision_on_the_cpu_is_full():
    import torch

    from core.training.run import choose_precision

    if torch.cuda.is_available():
        pytest.skip("CPU-only expectation")
    assert choose_precision("auto") == "32-true"
    assert choose_precision("32") == "32-true"
    assert choose_precision("bf16-mixed") == "bf16-mixed"

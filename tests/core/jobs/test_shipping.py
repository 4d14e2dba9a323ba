"""A train job's data shipped with it (stores.ray_data: ship), without a cluster: which
stores allow it, the package, the metrics lines in the log, and the outputs coming back
(the end-to-end runs on a real Ray head are in tests/cluster/test_ray.py)."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from core.data.splits import assign_splits
from core.db import JobOutput, open_database
from core.errors import CockpitError
from core.jobs import shipping
from core.jobs.model import Job
from core.settings import ENV_VARS

PG = "postgresql://lab@db.lab:5432/cockpit"


@pytest.fixture(autouse=True)
def _no_store_variables(monkeypatch):
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)


def train_job(ws, experiment_id=None):
    return Job(kind="train", workspace=str(ws.root), theme="shapes",
               experiment_id=experiment_id, params={"max_epochs": 1})


def test_a_bad_ray_data_value_is_one_line_naming_the_setting(workspace):
    (workspace.root / "cockpit.yaml").write_text("stores:\n  ray_data: copy\n", encoding="utf-8")
    shown = CliRunner().invoke(cli, ["-w", str(workspace.root), "stores", "show"])
    assert shown.exit_code == 2
    [line] = shown.output.strip().splitlines()
    assert "stores.ray_data in" in line and "'copy'" in line and "use shared" in line
    (workspace.root / "cockpit.yaml").write_text("stores:\n  ray_data: ship\n", encoding="utf-8")
    shown = CliRunner().invoke(cli, ["-w", str(workspace.root), "stores", "show"])
    assert shown.exit_code == 0 and "ray_data" in shown.output and "ship" in shown.output


@pytest.mark.parametrize(
    ("stores", "problem"),
    [
        ({}, "the workspace database is the SQLite file"),
        ({"COCKPIT_DATABASE_URL": PG}, "MLflow tracks into sqlite:///"),
        ({"COCKPIT_DATABASE_URL": PG, "COCKPIT_MLFLOW_TRACKING_URI": PG},
         "MLflow artifacts would be written to file:"),
        ({"COCKPIT_DATABASE_URL": PG, "COCKPIT_MLFLOW_TRACKING_URI": "http://ml.lab:5000",
          "COCKPIT_MLFLOW_ARTIFACTS": "/mnt/local"}, "MLflow artifacts would be written to"),
        ({"COCKPIT_DATABASE_URL": PG, "COCKPIT_MLFLOW_TRACKING_URI": "http://ml.lab:5000"}, None),
        ({"COCKPIT_DATABASE_URL": PG, "COCKPIT_MLFLOW_TRACKING_URI": PG,
          "COCKPIT_MLFLOW_ARTIFACTS": "s3://lab/artifacts"}, None),
    ],
)
def test_shipping_needs_stores_a_node_reaches(workspace, monkeypatch, stores, problem):
    for var, value in stores.items():
        monkeypatch.setenv(var, value)
    found = shipping.shipping_problem(workspace, train_job(workspace))
    if problem is None:
        assert found is None
    else:
        assert problem in found and "stores.ray_data: shared" in found
        assert "\n" not in found


def test_a_study_cannot_take_its_data_along_and_is_refused_at_submit(workspace, monkeypatch):
    from core.jobs.submit import submit_tune

    job = Job(kind="tune", workspace=str(workspace.root), theme="shapes")
    found = shipping.shipping_problem(workspace, job)
    assert "tune jobs do not take their data with them" in found
    monkeypatch.setenv("COCKPIT_RAY_ADDRESS", "http://127.0.0.1:9")
    monkeypatch.setenv("COCKPIT_RAY_DATA", "ship")
    with pytest.raises(CockpitError) as caught:
        submit_tune(workspace, "shapes", start=False)
    assert "stores.ray_data: shared" in str(caught.value)
    assert not list(workspace.queue_state_dir("pending").glob("*.json"))  # nothing queued


def test_a_job_that_reads_the_workspace_runs_on_this_machine_when_data_is_shipped(
    workspace, monkeypatch
):
    import subprocess
    import sys

    from core.config import resolve_params
    from core.jobs.queue import JobQueue
    from core.jobs.submit import submit_check

    job = submit_check(workspace, resolve_params(workspace), start=False)
    # no cluster answers at that address: the job never goes there
    env = {**os.environ, "COCKPIT_RAY_ADDRESS": "http://127.0.0.1:9",
           "COCKPIT_RAY_DATA": "ship"}
    done = subprocess.run(
        [sys.executable, "-m", "core.jobs.ray_executor", str(JobQueue(workspace).path(job))],
        capture_output=True, text=True, env=env, cwd=workspace.root, timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "a check job reads the workspace, so it runs on this machine" in done.stdout
    assert "parameters valid; experiment id" in done.stdout


def test_an_mlflow_server_keeps_the_artifacts_of_new_experiments(workspace, monkeypatch):
    monkeypatch.setenv("COCKPIT_MLFLOW_TRACKING_URI", "http://ml.lab:5000")
    assert workspace.mlflow_artifact_location is None  # the server's own artifact store
    monkeypatch.setenv("COCKPIT_MLFLOW_ARTIFACTS", "s3://lab/artifacts")
    assert workspace.mlflow_artifact_location == "s3://lab/artifacts"


def test_the_package_holds_the_snapshot_definitions_and_checkpoints(shapes_workspace):
    ws = shapes_workspace
    assign_splits(open_database(ws), "shapes")
    folder = ws.experiment_dir("abc123")
    folder.mkdir(parents=True)
    (folder / "last.ckpt").write_bytes(b"checkpoint")
    (ws.root / "definitions" / "__pycache__").mkdir(parents=True, exist_ok=True)
    (ws.root / "definitions" / "__pycache__" / "x.pyc").write_bytes(b"compiled")
    job = train_job(ws, "abc123")
    package = shipping.build_package(ws, job, ws.root / "tmp-out")
    assert package.name.startswith("_ray_pkg_") and package.suffix == ".zip"
    names = set(zipfile.ZipFile(package).namelist())
    images = {n for n in names if n.startswith("images/")}
    assert len(images) == 36  # every labeled, split image of the theme
    assert shipping.PACKAGE_JOB_FILE in names
    assert "output/experiments/abc123/last.ckpt" in names
    assert any(n.startswith("definitions/") for n in names)
    assert not any("__pycache__" in n for n in names)
    # the same content gives the same package name (Ray keeps one copy)
    again = shipping.build_package(ws, job, ws.root / "tmp-out2")
    assert again.name == package.name


def test_a_package_too_large_is_refused_in_one_line(shapes_workspace, monkeypatch):
    ws = shapes_workspace
    assign_splits(open_database(ws), "shapes")
    monkeypatch.setattr(shipping, "MAX_PACKAGE_MIB", 0)
    with pytest.raises(CockpitError) as caught:
        shipping.build_package(ws, train_job(ws), ws.root / "tmp-out")
    assert "more than the 0 MiB a job can take with it" in str(caught.value)
    assert "stores.ray_data: shared" in str(caught.value)
    assert not (ws.root / "tmp-out").exists() or not any((ws.root / "tmp-out").iterdir())


def test_metrics_lines_travel_in_the_log_and_are_taken_out_of_it(tmp_path):
    path = tmp_path / "job.metrics.jsonl"
    sent: list[str] = []
    echo = shipping.MetricsEcho(path, write=sent.append)
    path.write_text('{"kind": "epoch", "epoch": 0}\n{"kind": "st', encoding="utf-8")
    echo.copy()
    with open(path, "a", encoding="utf-8") as handle:
        handle.write('ep", "step": 10}\n')
    echo.close()
    log = "epoch 1/2  train_acc 0.5\n" + "".join(sent) + "done\n"
    kept, metrics = shipping.split_metrics(log)
    assert kept == "epoch 1/2  train_acc 0.5\ndone\n"
    assert metrics == ['{"kind": "epoch", "epoch": 0}\n', '{"kind": "step", "step": 10}\n']
    # blank lines and a last line without its newline stay in the log as they were
    assert shipping.split_metrics("a\n\nb") == ("a\n\nb", [])


def test_outputs_come_back_into_the_workspace_and_their_row_goes(workspace):
    root = workspace.root
    (root / "output").mkdir(exist_ok=True)
    before = shipping.file_states(root)
    node = root / "node"
    for name, data in {
        "output/experiments/e1/last.ckpt": b"ckpt",
        "output/experiments/e1/record/params.yaml": b"lr: 0.1\n",
        "output/cache/images/x.npy": b"cache",
    }.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    names = shipping.written_files(root, before)
    assert names == ["output/experiments/e1/last.ckpt", "output/experiments/e1/record/params.yaml"]
    job = Job(kind="train", workspace=str(root), theme="shapes")
    shipping.send_outputs(workspace, job, "cockpit-x-1", names)
    for name in names:  # as if they had been written on the node only
        (root / name).unlink()
    lines: list[str] = []
    assert shipping.receive_outputs(workspace, job.id, echo=lines.append) == 2
    assert (root / "output/experiments/e1/last.ckpt").read_bytes() == b"ckpt"
    assert "2 file(s) the job wrote on the node are in the workspace" in lines[0]
    with open_database(workspace).session() as session:
        assert session.query(JobOutput).count() == 0
    assert not node.exists()


@pytest.mark.parametrize(
    "name", ["../escaped.txt", "output/../configs/params.yaml", "configs/params.yaml",
             "output/cache/x.npy", "/tmp/absolute.txt"],
)
def test_an_output_outside_the_output_folder_is_never_written(workspace, name):
    params = (workspace.root / "configs" / "params.yaml").read_bytes()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, b"planted")
    with open_database(workspace).session() as session:
        session.add(JobOutput(job_id="j1", submission_id="s", files=1, data=buffer.getvalue()))
    with pytest.raises(CockpitError):
        shipping.receive_outputs(workspace, "j1", echo=lambda _line: None)
    assert (workspace.root / "configs" / "params.yaml").read_bytes() == params
    assert not (workspace.root.parent / "escaped.txt").exists()
    assert not (workspace.root / "output" / "cache" / "x.npy").exists()


def test_stores_check_says_whether_jobs_can_take_their_data_along(workspace, monkeypatch):
    monkeypatch.setenv("COCKPIT_RAY_DATA", "ship")
    shown = CliRunner().invoke(cli, ["-w", str(workspace.root), "stores", "check"])
    assert shown.exit_code == 2
    assert "stores.ray_data is ship, but the workspace database is the SQLite file" in shown.output
    # the fix it names: shared data, and the check passes
    monkeypatch.setenv("COCKPIT_RAY_DATA", "shared")
    shown = CliRunner().invoke(cli, ["-w", str(workspace.root), "stores", "check"])
    assert shown.exit_code == 0, shown.output


def test_a_theme_whose_mlflow_experiment_keeps_artifacts_in_a_folder_is_not_shipped(workspace):
    from core.training.tracking import tracking_client

    assert shipping.experiment_problem(workspace, "shapes") is None  # no experiment yet
    client = tracking_client(workspace)
    client.create_experiment("shapes", artifact_location=(workspace.root / "mla").as_uri())
    found = shipping.experiment_problem(workspace, "shapes")
    assert "the MLflow experiment 'shapes' keeps its artifacts in file:" in found
    assert "stores.ray_data: shared" in found and "\n" not in found
    client.create_experiment("cells", artifact_location="s3://lab/artifacts/cells")
    assert shipping.experiment_problem(workspace, "cells") is None


def test_a_train_job_that_could_not_be_shipped_is_refused_at_submit(shapes_workspace, monkeypatch):
    from core.jobs.submit import submit_train
    from tests.core.training.shapes import tiny_params

    ws = shapes_workspace
    monkeypatch.setenv("COCKPIT_RAY_ADDRESS", "http://127.0.0.1:9")
    monkeypatch.setenv("COCKPIT_RAY_DATA", "ship")
    with pytest.raises(CockpitError) as caught:
        submit_train(ws, "shapes", tiny_params(ws), start=False)
    assert "the workspace database is the SQLite file" in str(caught.value)
    assert not list(ws.queue_state_dir("pending").glob("*.json"))  # nothing queued

"""Jobs on a real local Ray head (127.0.0.1, logical GPUs) through the runner: train end
to end, cancel, and a runner killed mid-job - each job runs on Ray once at a time."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.jobs.queue import JobQueue
from core.jobs.runner import Runner
from core.settings import ENV_VARS
from tests.cluster.studies import write_study
from tests.core.training.conftest import TINY

pytestmark = [pytest.mark.cluster, pytest.mark.filterwarnings("ignore")]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def on_ray(ray_head, monkeypatch):
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COCKPIT_RAY_ADDRESS", ray_head.address)
    monkeypatch.setenv("PYTHONPATH", str(REPO))  # the Ray job imports this checkout
    from ray.job_submission import JobSubmissionClient

    return JobSubmissionClient(ray_head.address)


def ray_jobs(client, job_id):
    return [d for d in client.list_jobs() if (d.metadata or {}).get("cockpit_job_id") == job_id]


def submit(ws, *extra, gpus=1):
    from core.config import parse_overrides, resolve_params
    from core.data.splits import assign_splits
    from core.db import open_database
    from core.jobs.submit import submit_train

    assign_splits(open_database(ws), "shapes")
    tiny = [item for item in TINY if not item.startswith("max_epochs=")]
    params = resolve_params(ws, overrides=parse_overrides([*tiny, *extra]))
    job = submit_train(ws, "shapes", params, start=False)
    queue = JobQueue(ws)
    job.args["resources"] = {"num_gpus": gpus, "num_cpus": 1}
    from core.fileio import atomic_write_text

    atomic_write_text(queue.path(job), job.model_dump_json(indent=1) + "\n")
    return job


def epochs(ws, job_id):
    path = ws.logs_dir / f"{job_id}.metrics.jsonl"
    if not path.exists():
        return 0
    rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
    return sum(1 for r in rows if r.get("kind") == "epoch" and r.get("split") == "valid")


def wait_for(condition, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("not reached in time")


def cancel_in_a_runner(ws, job, after_epochs: int, grace: float = 30) -> str:
    """Run the queue in a runner process, cancel ``job`` once it logged ``after_epochs``
    epochs, and wait for the runner to end; its output."""
    runner = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), "runner", "--grace", str(grace)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True,
    )
    try:
        wait_for(lambda: epochs(ws, job.id) >= after_epochs)
        JobQueue(ws).cancel(job.id)
        runner.wait(timeout=180)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    return runner.stdout.read()


def test_a_train_job_runs_on_the_cluster_with_its_gpu_request(on_ray, shapes_workspace):
    ws = shapes_workspace
    job = submit(ws, "max_epochs=1")
    assert Runner(ws, echo=lambda _l: None, poll_s=0.05).run() == 0
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    done = JobQueue(ws).get(job.id)
    assert done.state == "finished", log
    assert "submitted as Ray job" in log and f"job {job.id}: train" in log
    assert epochs(ws, job.id) >= 1  # the Live panel's metrics file, written on the node
    [details] = ray_jobs(on_ray, job.id)
    assert str(details.status).endswith("SUCCEEDED")
    assert details.driver_exit_code == 0


def test_cancel_stops_the_ray_job_and_keeps_the_checkpoint(on_ray, shapes_workspace):
    ws = shapes_workspace
    job = submit(ws, "max_epochs=60")
    output = cancel_in_a_runner(ws, job, after_epochs=1)
    done = JobQueue(ws).get(job.id)
    assert done.state == "cancelled", output
    [details] = ray_jobs(on_ray, job.id)
    assert str(details.status).endswith(("STOPPED", "FAILED", "SUCCEEDED")) is True
    assert str(details.status).endswith("STOPPED") or details.driver_exit_code != 0
    assert (ws.experiment_dir(done.experiment_id) / "last.ckpt").exists()


def test_a_runner_killed_mid_job_never_runs_the_job_twice(on_ray, shapes_workspace):
    ws = shapes_workspace
    job = submit(ws, "max_epochs=4")
    runner = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), "runner", "--grace", "30"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    wait_for(lambda: epochs(ws, job.id) >= 1)
    os.kill(runner.pid, signal.SIGKILL)  # the runner only: its job's supervisor lives on
    runner.wait(timeout=30)
    assert Runner(ws, echo=lambda _l: None, poll_s=0.05).run() == 0
    done = JobQueue(ws).get(job.id)
    assert done.state == "finished", (ws.logs_dir / f"{job.id}.log").read_text()[-3000:]
    runs = sorted(ray_jobs(on_ray, job.id), key=lambda d: d.start_time)
    # the new runner stopped the orphaned Ray job (checkpoint kept), then resumed it
    assert len(runs) == 2 and str(runs[0].status).endswith("STOPPED"), runs
    # one Ray job at a time: each ended before the next one started
    for earlier, later in itertools.pairwise(runs):
        assert earlier.end_time is not None and earlier.end_time <= later.start_time
    assert str(runs[-1].status).endswith("SUCCEEDED")


def test_the_cluster_shows_its_nodes_gpus_and_use(on_ray, ray_head, workspace):
    from click.testing import CliRunner

    from cockpit.cli import cli
    from core.jobs.cluster import cluster_nodes, cluster_slots

    wait_for(lambda: cluster_nodes(ray_head.address), timeout=60)
    [node] = cluster_nodes(ray_head.address)
    assert node.alive and node.head
    assert (node.gpus_total, node.cpus_total) == (2, 2)  # the head's logical resources
    assert cluster_slots([node]) == ("gpu", 2)  # the runner sends two jobs at once
    shown = CliRunner().invoke(cli, ["-w", str(workspace.root), "queue", "cluster"])
    assert shown.exit_code == 0, shown.output
    assert f"Ray cluster {ray_head.address}: 1 node" in shown.output
    assert f"node {node.ip} (head): GPUs" in shown.output and "CPUs" in shown.output


def test_the_cluster_command_without_a_cluster_names_the_setting(workspace, monkeypatch):
    from click.testing import CliRunner

    from cockpit.cli import cli

    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    shown = CliRunner().invoke(cli, ["-w", str(workspace.root), "queue", "cluster"])
    assert shown.exit_code == 2
    assert "COCKPIT_RAY_ADDRESS or stores.ray_address" in shown.output


def test_a_study_runs_its_workers_side_by_side_on_the_cluster(on_ray, shapes_workspace):
    import threading

    import optuna
    from optuna.trial import TrialState

    from core.jobs.submit import submit_tune

    ws = shapes_workspace
    write_study(ws, "name: on_ray, n_trials: 3, n_parallel: 2, pruner: none", max_epochs=2)
    jobs, _warnings = submit_tune(ws, "shapes", start=False)
    assert len(jobs) == 2
    runner = Runner(ws, echo=lambda _l: None, poll_s=0.05)
    thread = threading.Thread(target=runner.run, daemon=True)
    thread.start()
    seen_together: list[list[str]] = []

    def both_placed() -> bool:
        running = JobQueue(ws).jobs(("running",))
        nodes = [j.where for j in running if j.node]
        if len(nodes) == 2:
            seen_together.append(nodes)
        return bool(seen_together) or not thread.is_alive()

    wait_for(both_placed, timeout=300)
    thread.join(timeout=600)
    assert not thread.is_alive()
    # both workers ran on the cluster at the same time, each on its own GPU slot and node
    logs = [(ws.logs_dir / f"{j.id}.log").read_text()[-2000:] for j in jobs]
    assert seen_together, ("the two workers never ran at the same time", logs)
    assert sorted(w.split(" @ ")[0] for w in seen_together[0]) == ["ray-gpu:0", "ray-gpu:1"]
    ran = []
    for job in jobs:
        log = (ws.logs_dir / f"{job.id}.log").read_text()
        assert JobQueue(ws).get(job.id).state == "finished", log[-3000:]
        assert "running on Ray node" in log and "database is locked" not in log
        assert "Warning" not in log  # no library chatter, as in a local job's log
        [details] = ray_jobs(on_ray, job.id)
        assert str(details.status).endswith("SUCCEEDED")
        ran.append((details.start_time, details.end_time))
    (start_a, end_a), (start_b, end_b) = ran
    assert start_a < end_b and start_b < end_a  # Ray ran the two jobs at the same time
    study = optuna.load_study(study_name="on_ray", storage=ws.optuna_storage_url)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    assert len(done) == 3 == len(study.trials)  # which worker ran which: as they came


@pytest.mark.parametrize("palette", ["light", "dark"])
def test_the_queue_panel_shows_the_cluster_and_each_jobs_node(
    on_ray, ray_head, workspace, qtbot, qapp, palette, screenshot_dir
):
    from PySide6.QtCore import QThreadPool

    from cockpit.panels.queue import QueuePanel
    from core.jobs.cluster import cluster_nodes
    from core.jobs.model import Job
    from tests.cockpit.palettes import dark_palette

    wait_for(lambda: cluster_nodes(ray_head.address), timeout=60)
    queue = JobQueue(workspace)
    job = queue.submit(Job(kind="check", workspace=str(workspace.root)))
    queue.claim_next("ray-gpu:1", "this-host", os.getpid())
    queue.place(job.id, "10.0.0.7")  # what the job's supervisor records once Ray placed it
    from click.testing import CliRunner

    from cockpit.cli import cli

    listed = CliRunner().invoke(cli, ["-w", str(workspace.root), "queue", "list"])
    assert "ray-gpu:1 @ 10.0.0.7" in listed.output, listed.output
    before = qapp.palette()
    if palette == "dark":
        qapp.setPalette(dark_palette())
    panel = QueuePanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1280, 700)
    panel.show()
    try:
        qtbot.waitUntil(lambda: panel._loaded, timeout=30_000)
        qtbot.waitUntil(lambda: "Ray cluster" in panel.device_label.text(), timeout=30_000)
        text = panel.device_label.text()
        assert text.startswith("This machine: ")  # the local GPUs (or CPU) stay in view
        assert f"Ray cluster {ray_head.address}: 1 node" in text and "(head): GPUs" in text
        label = panel.device_label  # all of its lines in view, not squeezed by the table
        qtbot.waitUntil(lambda: label.height() >= label.sizeHint().height(), timeout=5_000)
        assert label.width() >= label.sizeHint().width()
        model = panel.model
        headers = [
            model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())
        ]
        column = headers.index("Device")
        row = [r.id for r in panel.model.rows].index(job.id)
        assert panel.model.index(row, column).data() == "ray-gpu:1 @ 10.0.0.7"
        panel.grab().save(str(screenshot_dir / f"queue_cluster_{palette}.png"))
    finally:
        panel.shutdown()
        QThreadPool.globalInstance().waitForDone()
        qapp.setPalette(before)


@pytest.fixture
def shipping(on_ray, postgres_server, mlflow_server, monkeypatch):
    """Jobs take their data with them: the workspace database on PostgreSQL and MLflow on a
    tracking server, both of which a node reaches without the workspace."""
    database = postgres_server.create_database("workspace")
    monkeypatch.setenv("COCKPIT_DATABASE_URL", database)
    monkeypatch.setenv("COCKPIT_MLFLOW_TRACKING_URI", mlflow_server.url)
    monkeypatch.setenv("COCKPIT_RAY_DATA", "ship")
    yield on_ray
    from core.db.engine import forget_database

    forget_database(database)


def shipped_files(ws):
    from core.db import JobOutput, open_database

    with open_database(ws).session() as session:
        return session.query(JobOutput).count()


def test_a_train_job_takes_its_data_with_it_is_cancelled_and_resumes_from_what_came_back(
    shipping, shapes_workspace
):
    """One run through everything a shipped job does: its data goes along, its metrics
    come back while it runs, a cancel stops it with its checkpoint (sent back from the
    node), a retry takes that checkpoint along and resumes to the end, and the run, its
    model and its files are where a local job leaves them."""
    import mlflow

    ws = shapes_workspace
    job = submit(ws, "max_epochs=100000")  # never done before the cancel
    # the metrics lines come back inside the log while the job runs (Live panel)
    cancel_in_a_runner(ws, job, after_epochs=2, grace=60)
    done = JobQueue(ws).get(job.id)
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert done.state == "cancelled", log[-3000:]
    checkpoint = ws.experiment_dir(done.experiment_id) / "last.ckpt"
    assert checkpoint.is_file(), log[-3000:]  # written on the node, sent back when stopped
    stopped_at = epochs(ws, job.id)
    # a retry takes the checkpoint along and goes on from it, to its end
    JobQueue(ws).retry(job.id)
    again = JobQueue(ws).get(job.id)
    again.params["max_epochs"] = stopped_at + 1  # not part of the id: the same experiment
    from core.fileio import atomic_write_text

    atomic_write_text(JobQueue(ws).path(again), again.model_dump_json(indent=1) + "\n")
    assert Runner(ws, echo=lambda _l: None, poll_s=0.05).run() == 0
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    finished = JobQueue(ws).get(job.id)
    assert finished.state == "finished", log[-3000:]
    retried = log.split("shipping the job's data with it")[-1]
    assert "resuming from epoch" in retried and "from epoch 0 " not in retried, log[-3000:]
    # it ran in the copy Ray unpacked on the node, not in the workspace
    [ran_in, *_] = [line for line in retried.splitlines() if "with the data it brought" in line]
    assert str(ws.root) not in ran_in and "runtime_resources" in ran_in
    runs = sorted(ray_jobs(shipping, job.id), key=lambda d: d.start_time)
    assert len(runs) == 2
    assert all(r.runtime_env["working_dir"].startswith("gcs://_ray_pkg_") for r in runs)
    assert "cockpit-metrics" not in log and epochs(ws, job.id) > stopped_at
    # what the job wrote on the node is in the workspace, and the transport rows are gone
    folder = ws.experiment_dir(finished.experiment_id)
    for name in ("last.ckpt", "state.json", "model/model.pt", "record/params.yaml"):
        assert (folder / name).is_file(), name
    assert shipped_files(ws) == 0
    assert "file(s) the job wrote on the node are in the workspace" in retried
    # the run is on the tracking server, its artifacts in the server's store
    client = mlflow.MlflowClient(ws.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("shapes")
    assert experiment.artifact_location.startswith("mlflow-artifacts:")
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    # the cockpit reads it back like any run: the history lists the experiment
    from click.testing import CliRunner

    from cockpit.cli import cli

    shown = CliRunner().invoke(cli, ["-w", str(ws.root), "history", "list"])
    assert shown.exit_code == 0 and finished.experiment_id in shown.output, shown.output


def test_shipping_is_refused_in_one_line_when_the_node_could_not_reach_the_stores(
    on_ray, shapes_workspace, monkeypatch
):
    ws = shapes_workspace  # its database is the SQLite file in the workspace
    job = submit(ws, "max_epochs=1")
    # shipping turned on after submit (at submit it is refused: tests/core/jobs): the
    # job's supervisor refuses it before anything goes to the cluster
    monkeypatch.setenv("COCKPIT_RAY_DATA", "ship")
    assert Runner(ws, echo=lambda _l: None, poll_s=0.05).run() == 0
    done = JobQueue(ws).get(job.id)
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert done.state == "failed" and done.exit_code == 2, log
    [line] = [x for x in log.splitlines() if x.startswith("error:")]
    assert "stores.ray_data is ship, but the workspace database is the SQLite file" in line
    assert "cockpit migrate-stores --to" in line and "stores.ray_data: shared" in line
    assert ray_jobs(on_ray, job.id) == []  # nothing was sent to the cluster

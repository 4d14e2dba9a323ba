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

from core.jobs.queue import JobQueue
from core.jobs.runner import Runner
from core.settings import ENV_VARS
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
    runner = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), "runner", "--grace", "30"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True, text=True,
    )
    try:
        wait_for(lambda: epochs(ws, job.id) >= 1)
        JobQueue(ws).cancel(job.id)
        runner.wait(timeout=180)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    done = JobQueue(ws).get(job.id)
    assert done.state == "cancelled", runner.stdout.read()
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

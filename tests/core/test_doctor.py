"""`cockpit doctor` on a workspace with each fault injected for real: the report names
each one with its fix, it changes nothing without --fix, and --fix applies the safe
fixes (never deleting an image or a row)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.jobs.model import Job
from core.jobs.queue import JobQueue

pytestmark = pytest.mark.filterwarnings("ignore")


def doctor(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), "doctor", *args])


def found(result):
    return [line for line in result.output.splitlines() if line.startswith("found ")]


def corrupt_sqlite(path):
    """A real SQLite file with an index page overwritten, as a torn write leaves it."""
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)")
    connection.execute("CREATE INDEX t_v ON t (v)")
    connection.executemany(
        "INSERT INTO t (v) VALUES (?)", [(f"value {n}" * 5,) for n in range(3000)]
    )
    connection.commit()
    root = connection.execute("SELECT rootpage FROM sqlite_master WHERE name = 't_v'").fetchone()
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    with open(path, "r+b") as handle:
        handle.seek((root[0] + 2) * page_size + 100)
        handle.write(b"\x07" * 400)


def dead_process():
    """The pid and start time of a process that was killed with SIGKILL."""
    import psutil

    process = subprocess.Popen(["sleep", "60"])
    started = psutil.Process(process.pid).create_time()
    process.kill()
    process.wait()
    return process.pid, started


@pytest.mark.slow
def test_doctor_reports_each_fault_and_fixes_the_safe_ones(workspace, tmp_path):
    import torch

    from core.training.tracking import experiment_for_theme, tracking_client

    # images: one file without a row, one row without its file
    write_demo_images(tmp_path / "shapes", per_class=2, size=16, seed=1)
    db = open_database(workspace)
    theme = create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [tmp_path / "shapes"])
    folder = workspace.images_dir / str(theme.id)
    imported = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    gone = imported[0]
    gone.unlink()
    stray = folder / "stray.png"
    shutil.copy(imported[1], stray)
    # queue: a truncated job file, and a running job whose process was killed
    queue = JobQueue(workspace)
    stale = queue.submit(Job(kind="check", workspace=str(workspace.root)))
    stale = queue.claim_next("cpu:0", "host", 1)
    stale.pid, stale.pid_started_at = dead_process()
    queue.update_running(stale)
    broken = queue.submit(Job(kind="check", workspace=str(workspace.root)))
    truncated = queue.path(broken)
    truncated.write_text(truncated.read_text()[:50])
    # MLflow: the run of that job, left RUNNING
    client = tracking_client(workspace)
    run = client.create_run(
        experiment_for_theme(client, workspace, "shapes"),
        run_name="killed",
        tags={"job_id": stale.id},
    )
    run_id = run.info.run_id
    # optuna.db damaged; a checkpoint cut short beside an intact one
    corrupt_sqlite(workspace.optuna_db_file)
    experiment = workspace.experiments_dir / "abc123"
    experiment.mkdir(parents=True)
    torch.save({"state_dict": {"w": torch.ones(64, 64)}, "epoch": 3}, experiment / "last.ckpt")
    data = (experiment / "last.ckpt").read_bytes()
    (experiment / "best.ckpt").write_bytes(data[: len(data) // 2])

    result = doctor(workspace)
    assert result.exit_code == 1, result.output
    lines = found(result)
    assert len(result.output.splitlines()) == len(lines) + 1  # one line per finding
    expected = [
        "optuna.db: integrity check failed (",
        f"images/{theme.id}/{gone.name}: missing, but image row ",
        f"images/{theme.id}/stray.png: no image row refers to this file",
        f"queue/pending/{broken.id}.json: unreadable job file, truncated (",
        f"job {stale.id} (check) is in queue/running/ but no runner and no process runs it; "
        "`cockpit doctor --fix` queues it again",
        f"MLflow run 'killed' ({run_id}, job {stale.id}) is RUNNING but no process runs it; "
        "`cockpit doctor --fix` closes it as KILLED",
        "output/experiments/abc123/best.ckpt: cannot be loaded (",
    ]
    assert len(lines) == len(expected), result.output
    for line, start in zip(lines, expected, strict=True):
        assert start in line, line
    assert result.output.splitlines()[-1] == (
        f"{len(expected)} finding(s); 3 fixable with `cockpit doctor --fix`"
    )
    # read-only: nothing moved
    assert truncated.exists() and [j.id for j in queue.jobs(("running",))] == [stale.id]
    assert client.get_run(run_id).info.status == "RUNNING"

    fixed = doctor(workspace, "--fix")
    assert fixed.exit_code == 1, fixed.output  # what needs the user remains
    assert sum(line.startswith("fixed ") for line in fixed.output.splitlines()) == 3
    assert (queue.corrupt_dir / truncated.name).exists() and not truncated.exists()
    requeued = queue.get(stale.id)
    assert requeued.state == "pending" and "found by cockpit doctor" in requeued.error
    assert client.get_run(run_id).info.status == "KILLED"
    # nothing of the user's deleted
    assert stray.exists() and (experiment / "best.ckpt").exists()
    with db.session() as session:
        from core.db.models import TrainData

        assert session.query(TrainData).count() == len(imported)

    again = doctor(workspace)
    remaining = found(again)
    assert len(remaining) == 5, again.output  # the four above and the quarantined job file
    assert any(
        f"queue/corrupt/{truncated.name} (was pending): truncated" in line for line in remaining
    )
    assert "fixable" not in again.output.splitlines()[-1]


def test_a_missing_workspace_is_bad_input(tmp_path):
    result = CliRunner().invoke(cli, ["-w", str(tmp_path / "nowhere"), "doctor"])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line.startswith(f"error: {tmp_path / 'nowhere'} is not a workspace")
    assert not (tmp_path / "nowhere").exists()  # nothing created


def test_a_healthy_workspace_exits_0_and_a_live_job_is_left_alone(workspace):
    queue = JobQueue(workspace)
    queue.submit(Job(kind="check", workspace=str(workspace.root)))
    job = queue.claim_next("cpu:0", "host", 1)
    import psutil

    process = subprocess.Popen(["sleep", "60"])
    try:
        job.pid, job.pid_started_at = process.pid, psutil.Process(process.pid).create_time()
        queue.update_running(job)
        result = doctor(workspace, "--fix")
        assert result.exit_code == 0, result.output
        assert result.output.splitlines() == [f"healthy: {workspace.root}"]
        assert queue.get(job.id).state == "running"
    finally:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_a_foreground_run_is_orphan_only_once_its_process_is_gone(workspace):
    from core.training.tracking import experiment_for_theme, tracking_client

    client = tracking_client(workspace)
    run = client.create_run(
        experiment_for_theme(client, workspace, "shapes"),
        run_name="foreground",
        tags={"job_id": "foreground"},
    )
    # a process with the command line of `cockpit -w WS train` (sleeping instead of training)
    code = "import time; time.sleep(60)"
    elsewhere = subprocess.Popen(
        [sys.executable, "-c", code, "cockpit", "train", "-w", "../other"], cwd=workspace.root
    )
    training = subprocess.Popen(
        [sys.executable, "-c", code, "cockpit", "-w", "ws", "train"], cwd=workspace.root.parent
    )
    try:
        result = doctor(workspace, "--fix")
        assert result.exit_code == 0, result.output
        assert client.get_run(run.info.run_id).info.status == "RUNNING"
    finally:
        training.kill()
        training.wait()
    try:
        result = doctor(workspace)
        assert result.exit_code == 1
        [line] = found(result)
        assert f"MLflow run 'foreground' ({run.info.run_id}) is RUNNING but no process" in line
        assert doctor(workspace, "--fix").exit_code == 0
        assert client.get_run(run.info.run_id).info.status == "KILLED"
    finally:
        elsewhere.kill()
        elsewhere.wait()


def test_a_running_job_whose_lock_is_held_is_not_stale(workspace):
    """A job process holds its job's lock from its first instruction, before its pid
    reaches the job file: while the lock is held, doctor neither reports nor requeues it."""
    import os

    from core.jobs import locks

    queue = JobQueue(workspace)
    queue.submit(Job(kind="check", workspace=str(workspace.root)))
    job = queue.claim_next("cpu:0", "host", 1)
    job.pid, job.pid_started_at = dead_process()  # the recorded pid is gone ...
    queue.update_running(job)
    fd = locks.acquire(workspace, job.id)  # ... but a process of the job holds its lock
    try:
        held = doctor(workspace, "--fix")
        assert f"job {job.id}" not in held.output
        assert queue.get(job.id).state == "running"
    finally:
        os.close(fd)
    released = doctor(workspace, "--fix")
    assert f"fixed: job {job.id}" in released.output or queue.get(job.id).state == "pending"

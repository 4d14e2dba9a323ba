"""The runner with real job processes: order, failures, cancel, crash recovery."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from core.config import parse_overrides, resolve_params
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.jobs.runner import Runner, runner_info
from core.jobs.submit import submit_check, submit_train
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


def quiet(_line):
    pass


def wait_for(condition, timeout=180, step=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(step)
    raise AssertionError("condition not reached in time")


def start_runner_process(ws):
    return subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), "runner", "--grace", "20"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )


def valid_epochs(ws, job_id):
    path = ws.logs_dir / f"{job_id}.metrics.jsonl"
    if not path.exists():
        return 0
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return sum(1 for r in lines if r["kind"] == "epoch" and r["split"] == "valid")


def test_runner_runs_jobs_in_queue_order_and_records_failures(workspace):
    queue = JobQueue(workspace)
    params = resolve_params(workspace)
    jobs = [submit_check(workspace, params, start=False) for _ in range(3)]
    bad = Job(kind="check", workspace=str(workspace.root), params={"lr": -1})
    bad = queue.submit(bad)
    queue.move(jobs[2].id, 1)
    assert Runner(workspace, echo=quiet, poll_s=0.05).run() == 0
    done = {j.id: j for j in queue.jobs()}
    started = sorted(done.values(), key=lambda j: j.started_at)
    assert [j.id for j in started] == [jobs[2].id, jobs[0].id, jobs[1].id, bad.id]
    assert all(done[j.id].state == "finished" for j in jobs)
    assert done[bad.id].state == "failed" and done[bad.id].exit_code == 2
    assert "lr: Input should be greater than 0" in done[bad.id].error
    first = (workspace.logs_dir / f"{jobs[0].id}.log").read_text().splitlines()
    assert first[0] == f"job {jobs[0].id}: check (attempt 1 of 3)"
    assert first[-1] == f"job {jobs[0].id}: finished (attempt 1 of 3)"
    last = (workspace.logs_dir / f"{bad.id}.log").read_text().splitlines()[-1]
    assert last == f"job {bad.id}: failed: bad input (exit code 2) (attempt 1 of 3)"
    assert runner_info(workspace) is None  # exited and released its lock


def test_cancel_stops_a_running_job_and_retry_resumes_it(shapes_workspace):
    ws = shapes_workspace
    # tiny epochs take milliseconds: many of them, so the cancel surely lands mid-fit
    params = resolve_params(ws, overrides=parse_overrides([*TINY, "max_epochs=150"]))
    job = submit_train(ws, "shapes", params, start=False)
    runner = start_runner_process(ws)
    try:
        wait_for(lambda: valid_epochs(ws, job.id) >= 2)
        # queue list shows how far the running job is, from the metrics it writes
        listed = CliRunner().invoke(cli, ["-w", str(ws.root), "queue", "list"]).output
        [row] = [line for line in listed.splitlines() if line.startswith("running ")]
        assert re.search(r"epoch ([2-9]|\d\d+)/150 .*, \d.* left$", row), listed
        JobQueue(ws).cancel(job.id)
        runner.wait(timeout=120)
    finally:
        if runner.poll() is None:
            os.killpg(runner.pid, signal.SIGKILL)
    cancelled = JobQueue(ws).get(job.id)
    assert cancelled.state == "cancelled", runner.stdout.read()
    assert (ws.experiment_dir(job.experiment_id) / "interrupted.ckpt").exists()
    assert valid_epochs(ws, job.id) < 150
    JobQueue(ws).retry(job.id)
    assert Runner(ws, echo=quiet, poll_s=0.05).run() == 0
    retried = JobQueue(ws).get(job.id)
    assert retried.state == "finished"
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert "resuming from epoch" in log
    # each attempt's log ends with how it ended; the retry is attempt 2, not 1 again
    starts = [line for line in log.splitlines() if ": train (attempt" in line]
    assert starts == [
        f"job {job.id}: train (attempt 1 of 3)",
        f"job {job.id}: train (attempt 2 of 4)",
    ]
    assert f"job {job.id}: cancelled by the user (attempt 1 of 3)" in log.splitlines()
    assert log.splitlines()[-1] == f"job {job.id}: finished (attempt 2 of 4)"
    assert "\r" not in log and "INFO" not in log and "Epoch 0" not in log


def test_killed_runner_restarts_and_the_job_resumes_from_its_checkpoint(shapes_workspace):
    ws = shapes_workspace
    # long enough that the orphaned job is still running when the next runner starts
    params = resolve_params(ws, overrides=parse_overrides([*TINY, "max_epochs=40"]))
    job = submit_train(ws, "shapes", params, start=False)
    other = submit_check(ws, resolve_params(ws), start=False)
    runner = start_runner_process(ws)
    wait_for(lambda: valid_epochs(ws, job.id) >= 2)
    os.killpg(runner.pid, signal.SIGKILL)  # the runner dies; its job may live on
    runner.wait(timeout=30)
    assert JobQueue(ws).get(job.id).state == "running"
    assert Runner(ws, echo=quiet, poll_s=0.05).run() == 0
    finished = {j.id: j for j in JobQueue(ws).jobs()}
    assert finished[job.id].state == "finished" and finished[job.id].attempts == 2
    assert finished[other.id].state == "finished"
    assert len(finished) == 2
    log = (ws.logs_dir / f"{job.id}.log").read_text()
    assert "resuming from epoch" in log and "done" in log


def test_stale_runner_files_after_a_reboot_do_not_block(workspace):
    (workspace.queue_dir).mkdir(parents=True, exist_ok=True)
    (workspace.queue_dir / "runner.lock").write_text("")
    (workspace.queue_dir / "runner.json").write_text('{"pid": 999999, "heartbeat": 0}')
    assert runner_info(workspace) is None  # an OS lock dies with its process
    job = submit_check(workspace, resolve_params(workspace), start=False)
    assert Runner(workspace, echo=quiet, poll_s=0.05).run() == 0
    assert JobQueue(workspace).get(job.id).state == "finished"
    assert not (workspace.queue_dir / "runner.json").exists()


def test_a_tune_job_runs_its_study_through_the_queue(shapes_workspace):
    import optuna

    from core.jobs.submit import submit_tune

    ws = shapes_workspace
    base = ", ".join(f"{k}: {v}" for k, v in (item.split("=") for item in TINY))
    ws.optuna_params_file.write_text(
        "study: {name: queued, n_trials: 2, pruner: none}\n"
        f"base_params: {{{base}}}\n"
        "search_space:\n  optimizer: {type: categorical, choices: [adam, sgd]}\n"
    )
    [job], warnings = submit_tune(ws, "shapes", start=False)
    assert warnings == []  # 12 images per class: enough for a sound study
    assert Runner(ws, echo=quiet, poll_s=0.05).run() == 0
    assert JobQueue(ws).get(job.id).state == "finished"
    study = optuna.load_study(study_name="queued", storage=ws.optuna_storage_url)
    assert sorted(t.params["optimizer"] for t in study.trials) == ["adam", "sgd"]  # grid
    # the history's row of the tune job names the study's parent and best trial's runs
    from core.history import list_entries
    from core.tuning.results import PARENT_RUN_ATTR

    [entry] = [e for e in list_entries(ws) if e.id == job.id]
    assert entry.parent_run_id == study.user_attrs[PARENT_RUN_ATTR]
    assert entry.best_run_id == study.best_trial.user_attrs["mlflow_run_id"]
    assert entry.run_id is None  # deleting the row never deletes the study's runs

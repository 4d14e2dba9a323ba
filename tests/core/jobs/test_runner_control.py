"""Stopping and draining a runner through its control file, with real job processes."""

import os
import subprocess
import sys
import threading
import time

import pytest

from core.config import resolve_params
from core.errors import CockpitError
from core.jobs.executor import LocalProcess
from core.jobs.model import Job
from core.jobs.queue import JobQueue, QueueScanner
from core.jobs.runner import STOPPED_REASON, Runner, request_runner, runner_state
from core.jobs.submit import submit_check
from tests.core.jobs.test_runner import quiet, wait_for

pytestmark = pytest.mark.filterwarnings("ignore")


class SleepingJobs:
    """Job processes that just sleep (real processes, real signals): the runner's control
    is under test here, not training, whose stop is checked by the queue panel's test."""

    def __init__(self, seconds):
        self.seconds = seconds

    def start(self, job, job_file, log_file, env):
        log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(log_file, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", f"import time; time.sleep({self.seconds})"],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return LocalProcess(process)


def run_in_thread(workspace, seconds):
    lines = []
    runner = Runner(
        workspace, executor=SleepingJobs(seconds), echo=lines.append, poll_s=0.05, grace_s=10
    )
    thread = threading.Thread(target=runner.run)
    thread.start()
    return thread, lines


def test_stop_puts_the_running_job_back_at_the_front(workspace):
    params = resolve_params(workspace)
    jobs = [submit_check(workspace, params, start=False) for _ in range(3)]
    with pytest.raises(CockpitError, match="no runner is running"):
        request_runner(workspace, "stop")
    thread, lines = run_in_thread(workspace, 60)
    try:
        wait_for(lambda: runner_state(workspace).running == [jobs[0].id], timeout=30, step=0.02)
        done = subprocess.run(
            [sys.executable, "-m", "cockpit", "-w", str(workspace.root), "runner", "stop"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0 and "stopping" in done.stdout, done.stderr
    finally:
        thread.join(timeout=60)
    assert "stopped: runner exits" in lines, lines
    stopped = JobQueue(workspace).get(jobs[0].id)
    assert stopped.state == "pending" and stopped.error == STOPPED_REASON
    assert stopped.attempts == 0  # a stop is not a failed attempt
    assert [j.id for j in JobQueue(workspace).pending()] == [j.id for j in jobs]
    assert not runner_state(workspace).active
    assert not (workspace.queue_dir / "runner.control").exists()


def test_drain_lets_the_running_job_finish_and_starts_no_other(workspace):
    params = resolve_params(workspace)
    jobs = [submit_check(workspace, params, start=False) for _ in range(3)]
    thread, lines = run_in_thread(workspace, 1.5)
    try:
        wait_for(lambda: runner_state(workspace).running == [jobs[0].id], timeout=30, step=0.02)
        assert request_runner(workspace, "drain").pid == os.getpid()
        wait_for(lambda: runner_state(workspace).mode in ("draining", None), timeout=10)
        request_runner(workspace, "drain")  # twice: no harm
    finally:
        thread.join(timeout=60)
    assert "drained: runner exits" in lines, lines
    states = {j.id: j.state for j in JobQueue(workspace).jobs()}
    assert [states[j.id] for j in jobs] == ["finished", "pending", "pending"]


def test_a_stale_control_file_does_not_stop_a_new_runner(workspace):
    (workspace.queue_dir).mkdir(parents=True, exist_ok=True)
    (workspace.queue_dir / "runner.control").write_text('{"command": "stop", "pid": 1}')
    job = submit_check(workspace, resolve_params(workspace), start=False)
    assert Runner(workspace, echo=quiet, poll_s=0.05).run() == 0
    assert JobQueue(workspace).get(job.id).state == "finished"


def test_scanner_rereads_only_changed_files(workspace):
    queue = JobQueue(workspace)
    params = resolve_params(workspace)
    jobs = [submit_check(workspace, params, start=False) for _ in range(3)]
    scanner = QueueScanner(queue)
    first = {j.id: j for j in scanner.scan()}
    assert set(first) == {j.id for j in jobs}
    time.sleep(0.01)
    queue.cancel(jobs[1].id)
    second = {j.id: j for j in scanner.scan()}
    assert second[jobs[0].id] is first[jobs[0].id]  # unchanged: not parsed again
    assert second[jobs[1].id].state == "cancelled"
    assert sorted(j.id for j in scanner.scan()) == sorted(j.id for j in queue.jobs())


def test_move_block_keeps_the_dragged_order_and_the_others_order(workspace):
    queue = JobQueue(workspace)
    a, y, c, x = (queue.submit(Job(kind="check", workspace=str(workspace.root))) for _ in range(4))
    queue.move_block([a.id, c.id], 3)
    assert [j.id for j in queue.pending()] == [y.id, x.id, a.id, c.id]
    queue.move_block([x.id, c.id], 1)
    assert [j.id for j in queue.pending()] == [x.id, c.id, y.id, a.id]

"""Stopping and draining a real runner process through its control file."""

import os
import signal
import threading
import time

import pytest

from core.config import parse_overrides, resolve_params
from core.errors import CockpitError
from core.jobs.model import Job
from core.jobs.queue import JobQueue, QueueScanner
from core.jobs.runner import STOPPED_REASON, Runner, request_runner, runner_state
from core.jobs.submit import submit_check, submit_train
from tests.core.jobs.test_runner import quiet, start_runner_process, valid_epochs, wait_for
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


def stop_process(runner):
    if runner.poll() is None:
        os.killpg(runner.pid, signal.SIGKILL)


def test_stop_puts_the_running_job_back_with_its_checkpoint(shapes_workspace):
    ws = shapes_workspace
    params = resolve_params(ws, overrides=parse_overrides([*TINY, "max_epochs=30"]))
    job = submit_train(ws, "shapes", params, start=False)
    later = submit_check(ws, resolve_params(ws), start=False)
    with pytest.raises(CockpitError, match="no runner is running"):
        request_runner(ws, "stop")
    runner = start_runner_process(ws)
    try:
        wait_for(lambda: valid_epochs(ws, job.id) >= 2)
        assert runner_state(ws).running == [job.id]
        request_runner(ws, "stop")
        runner.wait(timeout=120)
    finally:
        stop_process(runner)
    output = runner.stdout.read()
    assert "stop requested" in output and "stopped: runner exits" in output, output
    stopped = JobQueue(ws).get(job.id)
    assert stopped.state == "pending" and stopped.error == STOPPED_REASON
    assert stopped.attempts == 0  # a stop is not a failed attempt
    assert [j.id for j in JobQueue(ws).pending()] == [job.id, later.id]  # still first
    # the same checkpoint a cancel leaves: the next runner resumes from it, as after a retry
    assert (ws.experiment_dir(job.experiment_id) / "interrupted.ckpt").exists()
    assert valid_epochs(ws, job.id) < 30
    assert not runner_state(ws).active
    assert not (ws.queue_dir / "runner.control").exists()


def test_drain_lets_the_running_job_finish_and_starts_no_other(workspace):
    params = resolve_params(workspace)
    jobs = [submit_check(workspace, params, start=False) for _ in range(3)]
    lines = []
    runner = Runner(workspace, echo=lines.append, poll_s=0.05)
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        wait_for(lambda: runner_state(workspace).running == [jobs[0].id], timeout=30, step=0.02)
        assert request_runner(workspace, "drain").pid == os.getpid()
        wait_for(lambda: runner_state(workspace).mode in ("draining", None), timeout=10)
    finally:
        thread.join(timeout=60)
    assert "drained: runner exits" in lines
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

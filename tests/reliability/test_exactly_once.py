"""Nothing lost, nothing run twice: real runners, job processes, SIGKILLs, SQLite and
MLflow stores. Each test injects the fault for real and checks the invariant after."""

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time

import pytest

from core.jobs import locks
from core.jobs.model import MAX_KILLS, Job, this_host
from core.jobs.queue import JobQueue
from core.jobs.runner import FAULT_ENV
from core.jobs.submit import submit_train
from core.workspace import Workspace
from tests.core.training.conftest import tiny_params
from tests.reliability.storm import (
    REPO_ROOT,
    ProcessWatch,
    integrity,
    job_process,
    kill_group,
    kill_storm,
    mlflow_record,
    queue_files,
    start_runner,
    valid_epochs,
    wait_for,
)

pytestmark = pytest.mark.filterwarnings("ignore")


def _submit(root: str, count: int, out: str) -> None:
    queue = JobQueue(Workspace.resolve(root))
    ids = [queue.submit(Job(kind="check", workspace=root)).id for _ in range(count)]
    with open(out, "w") as handle:
        handle.write("\n".join(ids))


def _claim(root: str, expected: int, out: str) -> None:
    """A claimer racing the submitters: claims and finishes jobs until all were taken."""
    queue = JobQueue(Workspace.resolve(root))
    claimed: list[str] = []
    deadline = time.time() + 120
    while time.time() < deadline and len(queue.jobs(("finished",))) < expected:
        job = queue.claim_next("cpu:0", "host", os.getpid())
        if job is None:
            time.sleep(0.01)
            continue
        queue.finish(job, "finished", 0, None)
        claimed.append(job.id)
    with open(out, "w") as handle:
        handle.write("\n".join(claimed))


def test_concurrent_submitters_and_claimers_lose_and_duplicate_nothing(workspace, tmp_path):
    context = multiprocessing.get_context("spawn")
    root = str(workspace.root)
    submitters = [
        context.Process(target=_submit, args=(root, 10, str(tmp_path / f"s{i}"))) for i in range(4)
    ]
    claimers = [
        context.Process(target=_claim, args=(root, 40, str(tmp_path / f"c{i}"))) for i in range(2)
    ]
    for process in submitters + claimers:
        process.start()
    for process in submitters + claimers:
        process.join(180)
        assert process.exitcode == 0
    submitted = [i for n in range(4) for i in (tmp_path / f"s{n}").read_text().split()]
    claimed = [i for n in range(2) for i in (tmp_path / f"c{n}").read_text().split()]
    assert len(submitted) == 40 and len(set(submitted)) == 40
    assert sorted(claimed) == sorted(submitted)  # each claimed once, by one claimer
    assert queue_files(workspace) == dict.fromkeys(submitted, 1)  # one file per job
    jobs = JobQueue(workspace).jobs()
    assert all(j.state == "finished" and j.attempts == 1 for j in jobs)


class SelfKilling:
    """Job processes that die by SIGKILL (their own) the first ``kills`` times, then exit
    with ``code``: real processes and signals, no training (the runner is under test)."""

    def __init__(self, tmp_path, kills: int, code: int = 0) -> None:
        self.counter = tmp_path / "starts"
        self.kills, self.code = kills, code

    def start(self, job, job_file, log_file, env):
        from core.jobs.executor import LocalProcess

        script = (
            "import os, pathlib, signal, sys\n"
            f"p = pathlib.Path({str(self.counter)!r})\n"
            "n = int(p.read_text()) if p.exists() else 0\n"
            "p.write_text(str(n + 1))\n"
            f"if n < {self.kills}: os.kill(os.getpid(), signal.SIGKILL)\n"
            f"sys.exit({self.code})\n"
        )
        process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
        return LocalProcess(process)


def run_with(ws, executor, **job_fields):
    from core.jobs.runner import Runner

    job = JobQueue(ws).submit(Job(kind="check", workspace=str(ws.root), **job_fields))
    assert Runner(ws, executor=executor, echo=lambda _line: None, poll_s=0.02).run() == 0
    return JobQueue(ws).get(job.id)


def test_kills_do_not_use_up_the_retry_budget_and_are_capped(workspace, tmp_path):
    done = run_with(workspace, SelfKilling(tmp_path, kills=3), max_retries=0)
    assert done.state == "finished" and done.kills == 3 and done.failures == 0
    assert done.attempts == 4

    (tmp_path / "starts").unlink()
    doomed = run_with(workspace, SelfKilling(tmp_path, kills=1000))
    assert doomed.state == "failed" and doomed.kills == MAX_KILLS + 1
    assert doomed.error.startswith(f"gave up: killed {MAX_KILLS + 1} times")
    assert doomed.exit_code == -signal.SIGKILL
    assert int((tmp_path / "starts").read_text()) == MAX_KILLS + 1  # no endless loop


def test_own_failures_use_the_retry_budget(workspace, tmp_path):
    failed = run_with(workspace, SelfKilling(tmp_path, kills=0, code=1), max_retries=1)
    assert failed.state == "failed" and failed.failures == 2 and failed.kills == 0
    assert failed.error.startswith("gave up: failed 2 times") and failed.exit_code == 1
    assert int((tmp_path / "starts").read_text()) == 2  # the first run and one retry


def one_run_per_epoch(ws, experiment_id, epochs):
    record = mlflow_record(ws, "shapes")[experiment_id]
    assert len(record["runs"]) == 1 and record["runs"][0][1] == "FINISHED", record
    assert record["steps"] == list(range(epochs)), record  # every epoch, once
    assert len(record["versions"]) == 1, record
    return record


@pytest.mark.slow
def test_a_sigkilled_job_process_is_requeued_and_resumes_its_run(shapes_workspace):
    ws = shapes_workspace
    job = submit_train(ws, "shapes", tiny_params(ws, "max_epochs=40"), start=False)
    runner = start_runner(ws)
    try:
        wait_for(lambda: len(valid_epochs(ws, job.id)) >= 2)
        assert kill_group(job_process(ws, job.id))
        runner.wait(timeout=300)
    finally:
        kill_group(runner.pid)
    done = JobQueue(ws).get(job.id)
    assert done.state == "finished", (ws.queue_dir / "runners.log").read_text()
    assert (done.kills, done.failures, done.attempts) == (1, 0, 2)
    assert "resuming from epoch" in (ws.logs_dir / f"{job.id}.log").read_text()
    runners_log = (ws.queue_dir / "runners.log").read_text()
    assert "killed by signal SIGKILL" in runners_log
    assert "its MLflow run is marked KILLED until it resumes" in runners_log
    one_run_per_epoch(ws, job.experiment_id, 40)


@pytest.mark.slow
def test_a_runner_killed_between_claim_and_pid_never_lets_the_job_run_twice(shapes_workspace):
    ws = shapes_workspace
    job = submit_train(ws, "shapes", tiny_params(ws, "max_epochs=60"), start=False)
    first = start_runner(ws, env={FAULT_ENV: "started"})
    assert first.wait(timeout=60) == -signal.SIGKILL
    stuck = JobQueue(ws).get(job.id)
    assert stuck.state == "running" and stuck.pid is None  # its pid never reached the file
    assert (stuck.runner_pid, stuck.host) == (first.pid, this_host())
    orphan = wait_for(lambda: job_process(ws, job.id), timeout=60)
    # a second copy of the job process, started by hand, exits at once and touches nothing
    copy = subprocess.run(
        [sys.executable, "-m", "core.jobs.run", str(JobQueue(ws).path(stuck))],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert copy.returncode == 3, copy.stderr
    assert f"already runs in process {orphan}" in copy.stderr
    assert "train" not in copy.stdout
    with ProcessWatch(ws) as watch:
        second = start_runner(ws)
        try:
            second.wait(timeout=300)
        finally:
            kill_group(second.pid)
    assert watch.run_twice() == [] and watch.most[job.id] == 1
    done = JobQueue(ws).get(job.id)
    assert done.state == "finished", (ws.queue_dir / "runners.log").read_text()
    assert done.kills == 1 and done.failures == 0
    one_run_per_epoch(ws, job.experiment_id, 60)


EPOCHS = 8


@pytest.mark.slow
@pytest.mark.timeout(900)  # ~2 min on an idle 2-core machine; much more under load
def test_kill_storm_every_job_finishes_exactly_once(shapes_workspace):
    ws = shapes_workspace
    jobs = [
        submit_train(
            ws,
            "shapes",
            # enough epochs that a fast machine still runs while all six faults land
            tiny_params(ws, f"max_epochs={EPOCHS}", f"seed={n}", "registration=always"),
            start=False,
        )
        for n in range(4)
    ]
    with ProcessWatch(ws) as watch:
        report = kill_storm(ws, kills=6, rng=random.Random(7), min_gap=0, max_gap=4, cpu_slots=2)
    assert report.faults == 6 and report.job_kills and report.runner_kills, report
    done = {j.id: j for j in JobQueue(ws).jobs()}
    assert sorted(done) == sorted(j.id for j in jobs)  # none lost, none added
    assert all(done[j.id].state == "finished" for j in jobs), [
        (j.id, j.state, j.error) for j in done.values()
    ]
    assert sum(j.kills for j in done.values()) >= report.job_kills  # each kill requeued
    assert watch.run_twice() == []
    assert queue_files(ws) == {j.id: 1 for j in jobs}
    assert not any(locks.holder(ws, j.id) for j in jobs)
    for job in jobs:
        one_run_per_epoch(ws, job.experiment_id, EPOCHS)
    assert integrity(ws.mlflow_db_file) == "ok" and integrity(ws.database_file) == "ok"


HOLD_LOCK = """
import sys, time
from core.jobs import locks
from core.workspace import Workspace
fd = locks.acquire(Workspace.resolve(sys.argv[1]), sys.argv[2])
if sys.argv[3] == "announce":
    import os, psutil
    locks.write_holder(fd, os.getpid(), psutil.Process().create_time())
print("locked", flush=True)
time.sleep(120)
"""


def orphan_holding_its_lock(ws, job, announce):
    """A job left in running/ by a dead runner (no pid recorded), and a live process
    holding the job's lock, which writes its pid into it or not (not yet)."""
    queue = JobQueue(ws)
    queue.submit(job)
    claimed = queue.claim_next(  # by a runner that is dead
        "cpu:0", this_host(), 999_999_999, 1.0, can_start=lambda j: j.id == job.id
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(ws.root), job.id, announce],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert holder.stdout.readline().strip() == "locked"
    return claimed, holder


def test_reconcile_never_requeues_a_job_whose_lock_is_held(workspace):
    from core.jobs.runner import Runner

    lines: list[str] = []
    runner = Runner(workspace, echo=lines.append, grace_s=5)
    silent = Job(kind="check", workspace=str(workspace.root))
    claimed, holder = orphan_holding_its_lock(workspace, silent, "no pid")
    try:
        runner.reconcile()  # its pid is nowhere yet: it must stay running, untouched
        assert JobQueue(workspace).get(claimed.id).state == "running"
        assert runner._orphans == {claimed.id} and holder.poll() is None
    finally:
        kill_group(holder.pid)
        holder.wait()
    runner.reconcile()  # the lock is free now: back to the front of the queue
    requeued = JobQueue(workspace).get(claimed.id)
    assert requeued.state == "pending" and requeued.kills == 1 and not runner._orphans

    loud = Job(kind="check", workspace=str(workspace.root))
    claimed, holder = orphan_holding_its_lock(workspace, loud, "announce")
    runner.reconcile()  # found through its lock: stopped, then requeued
    assert holder.wait(timeout=30) == -signal.SIGTERM
    stopping = f"job {claimed.id}: stopping the process a dead runner left behind"
    assert f"{stopping} (pid {holder.pid})" in lines
    assert JobQueue(workspace).get(claimed.id).state == "pending"


def test_the_process_watch_counts_copies_alive_together_and_not_one_after_another(tmp_path):
    """The instrument of the exactly-once tests: two live copies of a job are seen as two,
    a copy that ended before the next started as one each."""
    ws = Workspace.resolve(tmp_path)
    ws.queue_dir.mkdir(parents=True, exist_ok=True)

    def copy(job_id: str, seconds: float) -> subprocess.Popen:
        job_file = str(ws.queue_dir / "running" / f"{job_id}.json")
        sleep = f"import time; time.sleep({seconds})"
        return subprocess.Popen([sys.executable, "-c", sleep, "core.jobs.run", job_file])

    with ProcessWatch(ws, step=0.05) as watch:
        together = [copy("twice", 2.0), copy("twice", 2.0)]
        first = copy("once", 0.5)
        first.wait()
        second = copy("once", 0.5)
        for process in [*together, second]:
            process.wait()
    assert watch.most["twice"] == 2 and watch.run_twice() == ["twice"]
    assert watch.most["once"] == 1

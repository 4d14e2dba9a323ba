"""Real faults for the reliability tests and benchmark: runner subprocesses, SIGKILL of
runner and job process groups, and checks of the invariants afterwards (every job ran to
the end exactly once, nothing lost, stores intact)."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psutil

from core.jobs import locks
from core.jobs.queue import JobQueue
from core.mlflow_filter import model_versions
from core.workspace import QUEUE_STATES, Workspace

REPO_ROOT = Path(__file__).resolve().parents[2]


def wait_for(condition, timeout=180.0, step=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not reached in time")


def start_runner(
    ws: Workspace, env: dict[str, str] | None = None, cpu_slots: int = 1
) -> subprocess.Popen:
    log = open(ws.queue_dir / "runners.log", "ab")  # noqa: SIM115  (kept by the child)
    command = ["runner", "--grace", "20", "--cpu-slots", str(cpu_slots)]
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "cockpit", "-w", str(ws.root), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=REPO_ROOT,
            env={**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})},
        )
    finally:
        log.close()


def kill_group(pid: int) -> bool:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def job_process(ws: Workspace, job_id: str) -> int | None:
    """The pid of the live process of ``job_id`` (the holder of its job lock)."""
    held = locks.holder(ws, job_id)
    return held.pid if held is not None else None


def valid_epochs(ws: Workspace, job_id: str) -> list[int]:
    """Epochs of the job's live metrics file, in the order they were logged."""
    path = ws.logs_dir / f"{job_id}.metrics.jsonl"
    if not path.exists():
        return []
    epochs = []
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a line cut by a kill
        if record.get("kind") == "epoch" and record.get("split") == "valid":
            epochs.append(int(record["epoch"]))
    return epochs


def _live(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


class ProcessWatch:
    """Samples the live job processes (``core.jobs.run`` command lines) in a thread and
    keeps, per job, the most processes seen alive at once: more than one means the job
    ran twice concurrently."""

    def __init__(self, ws: Workspace, step: float = 0.1) -> None:
        self.ws, self.step = ws, step
        self.most: Counter = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self) -> None:
        queue_dir = str(self.ws.queue_dir)
        while not self._stop.is_set():
            seen: dict[str, list[psutil.Process]] = {}
            for process in psutil.process_iter(["cmdline", "status"]):
                cmdline = process.info["cmdline"] or []
                if process.info["status"] == psutil.STATUS_ZOMBIE or "core.jobs.run" not in cmdline:
                    continue
                if cmdline[-1].startswith(queue_dir):
                    seen.setdefault(Path(cmdline[-1]).stem, []).append(process)
            for job_id, processes in seen.items():
                # a pass reads the processes one after another: two of a job count only if
                # both still live once it is done, i.e. at one moment (not a process that
                # ended while the pass went on and its successor started later in the pass)
                alive = [p for p in processes if _live(p)] if len(processes) > 1 else processes
                self.most[job_id] = max(self.most[job_id], len(alive))
            self._stop.wait(self.step)

    def run_twice(self) -> list[str]:
        return sorted(job_id for job_id, count in self.most.items() if count > 1)


@dataclass
class StormReport:
    faults: int = 0
    runner_kills: int = 0
    job_kills: int = 0
    restarts: int = 0
    seconds: float = 0.0


def kill_storm(
    ws: Workspace,
    kills: int,
    rng: random.Random,
    *,
    min_gap=0.5,
    max_gap=3.0,
    cpu_slots=1,
    timeout=900.0,
) -> StormReport:
    """Run the queue to its end under ``kills`` random SIGKILLs of the runner's or a job
    process's group; a dead runner is started again at once (as `cockpit submit` would)."""
    report = StormReport()
    began = time.time()
    queue = JobQueue(ws)
    runner = start_runner(ws, cpu_slots=cpu_slots)

    def unfinished() -> bool:
        return bool(queue.jobs(("pending", "running")))

    def progress() -> int:  # epochs logged by all jobs, restarts included
        return sum(len(valid_epochs(ws, job.id)) for job in queue.jobs())

    try:
        while report.faults < kills and unfinished() and time.time() - began < timeout:
            # a fault only after some training since the previous one: kills then land in
            # every phase (start-up, fit, evaluation, packaging), not only in start-ups
            reached = progress()
            while unfinished() and progress() <= reached and time.time() - began < timeout:
                if runner.poll() is not None:
                    runner = start_runner(ws, cpu_slots=cpu_slots)
                    report.restarts += 1
                time.sleep(0.2)
            time.sleep(rng.uniform(min_gap, max_gap))
            running = [j.id for j in queue.jobs(("running",))]
            targets = [pid for pid in (job_process(ws, j) for j in running) if pid]
            if runner.poll() is None and (not targets or rng.random() < 0.5):
                if kill_group(runner.pid):
                    runner.wait(timeout=30)
                    report.runner_kills += 1
                    report.faults += 1
            elif targets and kill_group(rng.choice(targets)):
                report.job_kills += 1
                report.faults += 1
            if runner.poll() is not None and unfinished():
                runner = start_runner(ws, cpu_slots=cpu_slots)
                report.restarts += 1
        while unfinished() and time.time() - began < timeout:  # no more faults: let it end
            if runner.poll() is not None:
                runner = start_runner(ws, cpu_slots=cpu_slots)
                report.restarts += 1
            time.sleep(0.3)
        runner.wait(timeout=max(1.0, timeout - (time.time() - began)))
    finally:
        if runner.poll() is None:
            kill_group(runner.pid)
            runner.wait()
        for job in queue.jobs(("running",)):  # a failed run leaves no process behind
            pid = job_process(ws, job.id)
            if pid:
                kill_group(pid)
    report.seconds = time.time() - began
    return report


# --- invariants -------------------------------------------------------------------------
def queue_files(ws: Workspace) -> Counter:
    """How many files each job has across the state folders (a job is in exactly one)."""
    count: Counter = Counter()
    for state in QUEUE_STATES:
        folder = ws.queue_state_dir(state)
        for path in folder.glob("*.json") if folder.is_dir() else ():
            count[path.stem] += 1
    return count


def integrity(path: Path) -> str:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def mlflow_record(ws: Workspace, theme: str) -> dict[str, dict]:
    """Per experiment hash: its runs (id, status), the steps of its logged valid_loss and
    its registered model versions."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(ws.mlflow_tracking_uri, ws.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(theme)
    record: dict[str, dict] = {}
    for run in client.search_runs([experiment.experiment_id], max_results=1000):
        entry = record.setdefault(
            run.data.tags["experiment_hash"], {"runs": [], "steps": [], "versions": []}
        )
        entry["runs"].append((run.info.run_id, run.info.status))
        history = client.get_metric_history(run.info.run_id, "valid_loss")
        entry["steps"] += sorted(m.step for m in history)
    for version in model_versions(client, f"{theme}_model"):
        run = client.get_run(version.run_id)
        record[run.data.tags["experiment_hash"]]["versions"].append(version.version)
    return record

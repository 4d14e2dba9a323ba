"""The transient runner: started when jobs are submitted, one per workspace,
runs pending jobs in queue order — one per free GPU, or ``cpu_slots`` at a time without
GPUs — and exits when the queue is empty.

Crash safety: the runner holds ``queue/runner.lock`` (an OS lock, released by the kernel
when the process dies, so a reboot never leaves it stale) and writes a heartbeat to
``queue/runner.json``. A claim writes the job's owner (host, runner pid and start time)
with its move to ``running/``, and the runner hands the job's own OS lock
(``core.jobs.locks``) to the job process it starts, so a job never runs twice at once.
On start the runner reconciles: a job left in ``running/`` by a dead runner is stopped if
a process of it survived (its job lock is held, whether or not its pid was recorded), and
only once that lock is free does it go back to the front of the queue.

A job killed by a signal (the OOM killer, a user's ``kill -9``) or orphaned by a dead
runner resumes from its checkpoint; its MLflow run is closed as KILLED meanwhile and set
RUNNING again by the resumed job. Kills count against ``MAX_KILLS``, not the job's
``max_retries``, which counts only the job's own failures (exit code other than 0 or 2).

Control: ``request_runner(workspace, "drain")`` asks the runner to start no new job and
exit once its running jobs have ended; ``"stop"`` also stops the running jobs (SIGTERM:
they keep their checkpoint and go back to the front of the queue, so the next runner
resumes them). The request is a file, ``queue/runner.control``, read on every loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import psutil
from filelock import FileLock, Timeout

from core.errors import CockpitError
from core.fileio import atomic_write_text
from core.jobs import locks
from core.jobs.executor import Executor, JobHandle, RayExecutor, executor_for, process_alive
from core.jobs.gpus import gpu_status
from core.jobs.model import Job, attempt_text
from core.jobs.queue import JobQueue
from core.processes import this_host
from core.workspace import Workspace

Echo = Callable[[str], None]
LOG_TAIL_LINES = 15
LOCK_WAIT_S = 0.5
Control = Literal["stop", "drain"]
Mode = Literal["running", "draining", "stopping"]
MODE_OF: dict[str, Mode] = {"drain": "draining", "stop": "stopping"}
STOPPED_REASON = "stopped with the runner; resumes from its checkpoint"
ORPHANED_REASON = "its runner stopped while the job ran; resumes from its checkpoint"
BAD_INPUT = 2  # the job's own verdict on its input: running it again cannot help
ALREADY_RUNNING = 3  # core.jobs.run: another process holds the job's lock
RECONCILE_EVERY_S = 1.0
# Fault injection for the reliability tests: the runner kills itself (SIGKILL) at the named
# point of a job start ("claimed": before the job process starts; "started": after it
# started, before its pid is recorded anywhere).
FAULT_ENV = "COCKPIT_RUNNER_FAULT"
RAY_SLOTS_S = 30.0  # how often the runner asks a Ray cluster for its size
RAY_SLOTS_RETRY_S = 2.0  # how soon again while it lists no live node


@dataclass
class _Active:
    job: Job
    handle: JobHandle
    device: str
    term_sent_at: float | None = None
    killed: bool = False
    stopped: bool = False  # by a runner stop, not a cancel: goes back to the queue


def runner_lock(workspace: Workspace) -> FileLock:
    return FileLock(str(workspace.queue_dir / "runner.lock"))


def runner_info(workspace: Workspace) -> dict | None:
    """The live runner's pid, host and heartbeat, or None when no runner runs."""
    workspace.queue_dir.mkdir(parents=True, exist_ok=True)
    lock = runner_lock(workspace)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        path = workspace.queue_dir / "runner.json"
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            return {"pid": None, "heartbeat": None}
    lock.release()
    return None


def control_file(workspace: Workspace) -> Path:
    return workspace.queue_dir / "runner.control"


@dataclass(frozen=True)
class RunnerState:
    """What a view shows about the runner: whether one runs, its pid and its jobs."""

    pid: int | None = None
    host: str | None = None
    mode: Mode | None = None  # None: no runner
    running: list[str] = field(default_factory=list)
    heartbeat: float | None = None

    @property
    def active(self) -> bool:
        return self.mode is not None

    def describe(self) -> str:
        if self.mode is None:
            return "not running"
        jobs = f"{len(self.running)} job{'' if len(self.running) == 1 else 's'}"
        return f"{self.mode}, pid {self.pid}, {jobs}"


def runner_state(workspace: Workspace) -> RunnerState:
    info = runner_info(workspace)
    if info is None:
        return RunnerState()
    mode = info.get("mode") if info.get("mode") in ("draining", "stopping") else "running"
    return RunnerState(
        pid=info.get("pid"),
        host=info.get("host"),
        mode=mode,
        running=list(info.get("running") or []),
        heartbeat=info.get("heartbeat"),
    )


def request_runner(workspace: Workspace, command: Control) -> RunnerState:
    """Ask the live runner to ``drain`` (finish its jobs, start none) or ``stop`` (also
    stop its jobs, which go back to the queue). Returns the runner asked."""
    if command not in MODE_OF:
        raise CockpitError(f"unknown runner command {command!r}: use stop or drain")
    state = runner_state(workspace)
    if not state.active:
        raise CockpitError(f"no runner is running for {workspace.root}; nothing to {command}")
    path = control_file(workspace)
    try:
        current = json.loads(path.read_text()).get("command")
    except (OSError, ValueError, AttributeError):
        current = None
    if current == "stop" and command == "drain":
        return state  # a stop already asks for more than a drain
    request = {"command": command, "pid": state.pid, "requested_at": time.time()}
    atomic_write_text(path, json.dumps(request) + "\n")
    return state


def start_runner(workspace: Workspace) -> bool:
    """Start a runner in the background unless one runs; True when one was started."""
    if runner_info(workspace) is not None:
        return False
    workspace.logs_dir.mkdir(parents=True, exist_ok=True)
    with open(workspace.logs_dir / "runner.log", "ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "cockpit", "--workspace", str(workspace.root), "runner"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workspace.root,
            start_new_session=True,
        )
    return True


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 16_384))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class Runner:
    def __init__(
        self,
        workspace: Workspace,
        *,
        executor: Executor | None = None,
        cpu_slots: int = 1,
        min_free_gpu_mb: int = 2048,
        grace_s: float = 30.0,
        poll_s: float = 0.2,
        echo: Echo = print,
    ) -> None:
        self.workspace = workspace
        self.queue = JobQueue(workspace)
        self.executor = executor or executor_for(workspace)
        self.cpu_slots = max(1, cpu_slots)
        self.min_free_gpu_mb = min_free_gpu_mb
        self.grace_s = grace_s
        self.poll_s = poll_s
        self.echo = echo
        self.active: dict[str, _Active] = {}
        self.info_file = workspace.queue_dir / "runner.json"
        self._last_heartbeat = 0.0
        self._gpu_indices = [g.index for g in gpu_status()]
        self._ray_slots: tuple[str, int] | None = None  # ("gpu" | "cpu", how many)
        self._ray_slots_at = 0.0
        self.mode: Mode = "running"
        self._control_stamp: tuple[int, int] | None = None
        self._started_at = psutil.Process().create_time()
        self._orphans: set[str] = set()  # left by a dead runner, their process not gone yet
        self._reconciled_at = 0.0

    # --- lifecycle -----------------------------------------------------------------
    def run(self, *, once: bool = False) -> int:
        """Run until the queue is empty (``once``: until one job has ended)."""
        self.queue.ensure_folders()
        lock = runner_lock(self.workspace)
        try:
            # views probe the lock (runner_info) every second for a moment: wait that out
            lock.acquire(timeout=LOCK_WAIT_S)
        except Timeout:
            info = runner_info(self.workspace) or {}
            self.echo(f"a runner is already active for this workspace (pid {info.get('pid')})")
            return 0
        try:
            control_file(self.workspace).unlink(missing_ok=True)  # meant for an older runner
            self._heartbeat(force=True)
            self.reconcile()
            ended = 0
            while True:
                self._read_control()
                self._heartbeat()
                ended += self._collect_ended()
                if self._orphans and time.time() - self._reconciled_at >= RECONCILE_EVERY_S:
                    self.reconcile()
                self._handle_cancels()
                self._handle_stop()
                if self.mode == "running" and not (once and ended):
                    self._start_jobs()
                if (
                    not self.active
                    and not self._orphans
                    and (self.mode != "running" or (once and ended) or not self.queue.pending())
                ):
                    break
                time.sleep(self.poll_s)
        finally:
            self.info_file.unlink(missing_ok=True)
            control_file(self.workspace).unlink(missing_ok=True)
            lock.release()
        why = {"running": "queue empty", "draining": "drained", "stopping": "stopped"}
        self.echo(f"{why[self.mode]}: runner exits")
        return 0

    def _read_control(self) -> None:
        """Apply a stop or drain request (a file: cheap to check on every loop)."""
        path = control_file(self.workspace)
        try:
            info = path.stat()
        except OSError:
            return
        stamp = (info.st_mtime_ns, info.st_ino)
        if stamp == self._control_stamp:
            return
        self._control_stamp = stamp
        try:
            request = json.loads(path.read_text())
            command = request["command"]
        except (OSError, ValueError, KeyError, TypeError):
            return
        if request.get("pid") not in (None, os.getpid()) or command not in MODE_OF:
            return
        mode = MODE_OF[command]
        if mode == self.mode or self.mode == "stopping":
            return
        self.mode = mode
        if mode == "draining":
            self.echo(f"drain requested: no new jobs; waiting for {len(self.active)} running")
        else:
            self.echo(f"stop requested: stopping {len(self.active)} running job(s)")
        self._heartbeat(force=True)

    def _handle_stop(self) -> None:
        if self.mode != "stopping":
            return
        for job_id, active in self.active.items():
            if active.term_sent_at is None:
                active.handle.terminate()
                active.term_sent_at = time.time()
                active.stopped = True
                self.echo(f"job {job_id}: runner stopping, SIGTERM sent")

    def _heartbeat(self, force: bool = False) -> None:
        now = time.time()
        if not force and now - self._last_heartbeat < 1.0:
            return
        self._last_heartbeat = now
        info = {
            "pid": os.getpid(),
            "host": this_host(),
            "heartbeat": now,
            "running": sorted(self.active),
            "mode": self.mode,
        }
        atomic_write_text(self.info_file, json.dumps(info) + "\n")

    # --- crash recovery --------------------------------------------------------------
    def reconcile(self) -> None:
        """Jobs in ``running/`` that this runner did not start were left by a dead runner.
        Never start one again while its owner or a process of it may be alive: a held
        job lock means a live process (its pid read from the lock file, since a crash
        may have come before the pid reached the job file); it is stopped, and the job
        goes back to the queue on a later pass, once the kernel has released the lock."""
        self._reconciled_at = time.time()
        self._orphans.clear()
        for job in self.queue.jobs(("running",)):
            if job.id in self.active:
                continue
            if self._owner_alive(job):
                self._orphans.add(job.id)
                continue
            held = locks.holder(self.workspace, job.id)
            if held is not None:
                self._stop_orphan(job, held)
                if locks.holder(self.workspace, job.id) is not None:
                    self._orphans.add(job.id)
                    continue
            self._close_run(job)
            if job.cancel_requested:
                updated = self.queue.finish(job, "cancelled", None, "cancelled by the user")
            else:
                updated = self.queue.requeue(job, ORPHANED_REASON, killed=True)
            self._log_end(job, updated, ORPHANED_REASON)
            self.echo(f"job {job.id}: {updated.state} ({updated.error})")

    def _owner_alive(self, job: Job) -> bool:
        """Whether the runner that claimed ``job`` still lives. We hold the runner lock, so
        this guards against a file system that did not honour it; a runner on another
        host cannot be checked from here, and its job's lock speaks for it instead."""
        if job.runner_pid is None or job.runner_pid == os.getpid() or job.host != this_host():
            return False
        return process_alive(job.runner_pid, job.runner_started_at)

    def _stop_orphan(self, job: Job, held: locks.Holder) -> None:
        """SIGTERM to the orphan's process group (it keeps a checkpoint and ends its run),
        SIGKILL after ``grace_s``; done when the kernel has released the job's lock."""
        pid, started_at = held.pid, held.started_at
        if pid is None and process_alive(job.pid, job.pid_started_at):
            pid, started_at = job.pid, job.pid_started_at
        if pid is None:
            return  # just started, its pid not written yet: the next pass sees it
        self.echo(f"job {job.id}: stopping the process a dead runner left behind (pid {pid})")
        # a held lock whose holder is gone: a child of it (same group) still holds the lock
        steps = [(signal.SIGTERM, self.grace_s)] if process_alive(pid, started_at) else []
        for sig, wait_s in [*steps, (signal.SIGKILL, 10.0)]:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, sig)
            deadline = time.time() + wait_s
            while time.time() < deadline:
                if locks.holder(self.workspace, job.id) is None:
                    return
                time.sleep(0.1)

    def _close_run(self, job: Job) -> None:
        """A killed train job could not end its MLflow run: end it KILLED now (the resumed
        job continues the same run, RUNNING again)."""
        if job.kind != "train" or not job.experiment_id or not job.theme:
            return
        folder = self.workspace.experiment_dir(job.experiment_id)
        if (
            not (folder / "mlflow_run.json").exists()
            and not (folder / "mlflow_journal.jsonl").exists()
        ):
            return  # killed before it wrote anything to MLflow
        from core.training.tracking import RunJournal

        try:
            if RunJournal(self.workspace, folder, job.theme).close_if_running("KILLED"):
                self.echo(f"job {job.id}: its MLflow run is marked KILLED until it resumes")
        except Exception as exc:  # the store is down: the resumed job's flush catches up
            self.echo(f"job {job.id}: could not close its MLflow run now ({exc})")

    # --- scheduling ----------------------------------------------------------------
    def _cluster_slots(self) -> tuple[str, int]:
        """The Ray cluster's slots (one per GPU, or per CPU without GPUs), asked again
        every ``RAY_SLOTS_S``; while the cluster cannot be asked, the last answer (at
        first one CPU slot: the job's supervisor then says what is wrong)."""
        now = time.time()
        if self._ray_slots is None or now >= self._ray_slots_at:
            from core.jobs.cluster import cluster_nodes, cluster_slots

            self._ray_slots_at = now + RAY_SLOTS_S
            try:
                nodes = cluster_nodes(self.workspace.stores.ray_address, timeout=5)
            except Exception as exc:  # one job's supervisor then says what is wrong
                self.echo(f"Ray cluster: {exc}")
                self._ray_slots = self._ray_slots or ("cpu", 1)
                return self._ray_slots
            if any(node.alive for node in nodes):
                self._ray_slots = cluster_slots(nodes)
            else:  # a head that has just started lists its nodes a moment later: no
                # job is sent (it would go without its GPU) until it does
                self._ray_slots_at = now + RAY_SLOTS_RETRY_S
                return self._ray_slots or ("gpu", 0)
        return self._ray_slots

    def _free_devices(self) -> list[str]:
        busy = {a.device for a in self.active.values()}
        if isinstance(self.executor, RayExecutor):
            kind, slots = self._cluster_slots()
            return [f"ray-{kind}:{i}" for i in range(slots) if f"ray-{kind}:{i}" not in busy]
        if self._gpu_indices:
            free_memory = {g.index: g.memory_free_mb for g in gpu_status()}
            return [
                f"cuda:{i}"
                for i in self._gpu_indices
                if f"cuda:{i}" not in busy and free_memory.get(i, 0) >= self.min_free_gpu_mb
            ]
        return [f"cpu:{i}" for i in range(self.cpu_slots) if f"cpu:{i}" not in busy]

    def _claim(self, device: str) -> tuple[Job, int] | None:
        """The next job whose lock is free, claimed, with its locked file descriptor."""
        taken: dict[str, int] = {}

        def lock_job(job: Job) -> bool:
            fd = locks.acquire(self.workspace, job.id)
            if fd is not None:
                taken[job.id] = fd
            return fd is not None  # held: a process of it still runs somewhere

        job = None
        try:
            job = self.queue.claim_next(
                device, this_host(), os.getpid(), self._started_at, can_start=lock_job
            )
        finally:
            for job_id, fd in taken.items():
                if job is None or job_id != job.id:
                    os.close(fd)
        return None if job is None else (job, taken[job.id])

    def _start_jobs(self) -> None:
        for device in self._free_devices():
            claimed = self._claim(device)
            if claimed is None:
                return
            job, fd = claimed
            _fault_point("claimed")
            env = {
                "CUDA_VISIBLE_DEVICES": device.split(":")[1] if device.startswith("cuda") else "",
                locks.FD_ENV: str(fd),
            }
            log = self.workspace.logs_dir / f"{job.id}.log"
            try:
                handle = self.executor.start(job, self.queue.path(job), log, env)
            except OSError as exc:
                os.close(fd)
                self.queue.finish(job, "failed", None, f"could not start the job process: {exc}")
                continue
            _fault_point("started")
            try:
                locks.write_holder(fd, handle.pid, handle.started_at)
            finally:
                os.close(fd)  # from now on only the job process holds its lock
            job.pid, job.pid_started_at = handle.pid, handle.started_at
            self.queue.update_running(job)
            self.active[job.id] = _Active(job, handle, device)
            self._last_heartbeat = 0.0  # views show the new job at the next heartbeat
            self.echo(f"job {job.id}: started on {device} (pid {handle.pid})")

    def _collect_ended(self) -> int:
        ended = 0
        for job_id, active in list(self.active.items()):
            code = active.handle.poll()
            if code is None:
                continue
            del self.active[job_id]
            ended += 1
            self._last_heartbeat = 0.0
            current = self.queue.get(job_id)
            if code == 0:  # a cancel that came after the work was done changes nothing
                state, error, why = "finished", None, ""
            elif current.cancel_requested:
                state, error, why = "cancelled", "cancelled by the user", ""
                if active.killed:
                    why = f"killed after {self.grace_s:.0f} s"
            elif active.stopped:
                updated = self.queue.return_to_pending(current, STOPPED_REASON)
                self._log_end(current, updated, "stopped with the runner")
                self.echo(f"job {job_id}: back in the queue (exit code {code})")
                continue
            elif code == ALREADY_RUNNING:  # only when the lock was not handed over
                why = "another process of the job was running"
                updated = self.queue.requeue(current, why, killed=True, code=code)
                self._log_end(current, updated, why)
                self.echo(f"job {job_id}: {updated.state} (another process of it runs)")
                continue
            elif code == BAD_INPUT:
                tail = log_tail(self.workspace.logs_dir / f"{job_id}.log")
                state, error, why = (
                    "failed",
                    f"exit code {code}\n{tail}",
                    f"bad input (exit code {code})",
                )
            else:
                killed = code < 0 or code > 128  # a signal: the job did nothing wrong
                if killed:
                    self._close_run(current)
                why = f"killed by signal {_signal_name(code)}" if killed else f"exit code {code}"
                tail = "" if killed else "\n" + log_tail(self.workspace.logs_dir / f"{job_id}.log")
                updated = self.queue.requeue(
                    current, f"{why}; resumes from its checkpoint{tail}", killed=killed, code=code
                )
                self._log_end(current, updated, why)
                self.echo(f"job {job_id}: {updated.state} ({why})")
                continue
            updated = self.queue.finish(current, state, code, error)
            self._log_end(current, updated, why)
            self.echo(f"job {job_id}: {state} (exit code {code})")
        return ended

    def _log_end(self, before: Job, after: Job, why: str) -> None:
        """The last line of the attempt's log: how it ended, and which attempt it was."""
        attempt = attempt_text(before)
        if after.state == "finished":
            line = f"finished ({attempt})"
        elif after.state == "cancelled":
            line = f"cancelled by the user ({attempt}{'; ' + why if why else ''})"
        elif after.state == "failed":
            gave_up = bool(after.error and after.error.startswith("gave up"))
            reason = (after.error or why) if gave_up else why
            line = f"failed: {reason.splitlines()[0]} ({attempt})"
        else:
            line = f"ended: {why} ({attempt}); back in the queue, resumes from its checkpoint"
        path = self.workspace.logs_dir / f"{before.id}.log"
        try:
            with open(path, "a", encoding="utf-8") as log:
                log.write(f"job {before.id}: {line}\n")
        except OSError as exc:  # a full disk: the queue file still says how it ended
            self.echo(f"job {before.id}: could not write to its log ({exc})")

    def _handle_cancels(self) -> None:
        """SIGTERM for a cancelled job; SIGKILL for any job (cancelled or stopped) that
        has not ended ``grace_s`` after its SIGTERM."""
        now = time.time()
        for job_id, active in self.active.items():
            if active.term_sent_at is None:
                path = self.workspace.queue_state_dir("running") / f"{job_id}.json"
                try:
                    wanted = Job.model_validate_json(path.read_text()).cancel_requested
                except (OSError, ValueError):
                    continue
                if wanted:
                    active.handle.terminate()
                    active.term_sent_at = now
                    self.echo(f"job {job_id}: cancel requested, SIGTERM sent")
            elif not active.killed and now - active.term_sent_at > self.grace_s:
                active.handle.kill()
                active.killed = True
                self.echo(f"job {job_id}: did not stop within {self.grace_s:.0f} s, killed")


def _signal_name(code: int) -> str:
    number = -code if code < 0 else code - 128
    try:
        return signal.Signals(number).name
    except ValueError:
        return str(number)


def _fault_point(name: str) -> None:
    if os.environ.get(FAULT_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)

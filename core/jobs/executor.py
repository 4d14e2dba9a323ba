"""How a job's process is started and stopped. The runner talks to this interface only,
so another executor (Ray Jobs on a cluster) can replace the local one."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Protocol

import psutil

from core.jobs.locks import FD_ENV
from core.jobs.model import Job
from core.processes import kill_process_group, process_alive
from core.workspace import Workspace

__all__ = [
    "Executor",
    "JobHandle",
    "LocalExecutor",
    "RayExecutor",
    "executor_for",
    "kill_process_group",
    "process_alive",
]


class JobHandle(Protocol):
    pid: int
    started_at: float

    def poll(self) -> int | None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...


class Executor(Protocol):
    def start(self, job: Job, job_file: Path, log_file: Path, env: dict[str, str]) -> JobHandle: ...


class LocalProcess:
    """A job in its own process group (session), so stopping it stops its workers too."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.process = process
        self.pid = process.pid
        self.started_at = psutil.Process(process.pid).create_time()

    def poll(self) -> int | None:
        return self.process.poll()

    def _signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def terminate(self) -> None:
        self._signal_group(signal.SIGTERM)

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)


class LocalExecutor:
    """Runs ``python -m core.jobs.run JOB.json`` on this machine. The job's locked file
    (its descriptor named in ``env`` by the runner) is inherited by the job process."""

    module = "core.jobs.run"

    def start(self, job: Job, job_file: Path, log_file: Path, env: dict[str, str]) -> LocalProcess:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        lock_fd = env.get(FD_ENV)
        with open(log_file, "ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-u", "-m", self.module, str(job_file)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **env},
                cwd=job.workspace,
                start_new_session=True,
                pass_fds=(int(lock_fd),) if lock_fd else (),
            )
        return LocalProcess(process)




class RayExecutor(LocalExecutor):
    """Runs each job on the Ray cluster of the store settings (``core.jobs.ray_executor``):
    a local supervisor process holds the job's lock, submits it, copies its log and maps
    SIGTERM to stopping the Ray job, so the runner treats it as a local job process."""

    module = "core.jobs.ray_executor"


def executor_for(workspace: Workspace) -> Executor:
    """The Ray executor when the settings name a Ray cluster, else the local one."""
    return RayExecutor() if workspace.stores.ray_address else LocalExecutor()

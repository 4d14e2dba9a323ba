"""One OS lock per job, ``queue/locks/<job_id>.lock``, held by the job's process.

The runner takes the lock before it starts the job process and hands the locked file
descriptor to it (the child inherits it), so from its first instruction to its death the
job process holds the lock, and the kernel releases it when the process dies, however it
dies. A held lock therefore means "a process of this job may still run": the runner never
starts such a job again, and a second copy of the job process gives up at once.

The file holds the holder's pid and start time, so a runner that finds a job orphaned by
a dead runner can stop its process group even when its pid never reached the job file.
Lock files are never deleted: deleting a locked file would let a second process lock a
new file of the same name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path

from core.workspace import Workspace

FD_ENV = "COCKPIT_JOB_LOCK_FD"  # the inherited descriptor of the job's locked file


@dataclass(frozen=True)
class Holder:
    """Who holds a job's lock: pid and start time when it wrote them (else None)."""

    pid: int | None
    started_at: float | None


def lock_path(workspace: Workspace, job_id: str) -> Path:
    return workspace.queue_dir / "locks" / f"{job_id}.lock"


def _try_lock(fd: int) -> bool:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def acquire(workspace: Workspace, job_id: str) -> int | None:
    """The descriptor of the job's file, locked, or None when another process holds it."""
    path = lock_path(workspace, job_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    if not _try_lock(fd):
        os.close(fd)
        return None
    os.ftruncate(fd, 0)  # a dead holder's pid must not be mistaken for the next one's
    return fd


def write_holder(fd: int, pid: int, started_at: float) -> None:
    os.ftruncate(fd, 0)
    os.pwrite(fd, json.dumps({"pid": pid, "started_at": started_at}).encode(), 0)
    os.fsync(fd)


def holder(workspace: Workspace, job_id: str) -> Holder | None:
    """Who holds the job's lock, or None when nobody does (no process of it runs)."""
    path = lock_path(workspace, job_id)
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        if _try_lock(fd):
            return None  # closing the descriptor releases the probe's lock
        try:
            info = json.loads(os.pread(fd, 4096, 0) or b"{}")
        except ValueError:
            info = {}  # being written right now
        return Holder(info.get("pid"), info.get("started_at"))
    finally:
        os.close(fd)


def claim_inherited(workspace: Workspace, job_id: str) -> int | None:
    """In the job process: the lock handed over by the runner (``FD_ENV``), or, for a job
    process started by hand, the lock taken now; None when another process holds it."""
    inherited = os.environ.pop(FD_ENV, None)
    if inherited is not None:
        with contextlib.suppress(ValueError, OSError):
            fd = int(inherited)
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path(workspace, job_id)))
            if same and _try_lock(fd):  # already ours: flock on the same open file succeeds
                os.set_inheritable(fd, False)  # programs it execs do not hold it
                return fd
    fd = acquire(workspace, job_id)
    if fd is not None:
        os.set_inheritable(fd, False)
    return fd

"""Process utilities every layer may use (the queue, tuning workers, the MLflow server,
the doctor): which machine this is, whether a recorded process is still the one we
started, and stopping a process group."""

from __future__ import annotations

import os
import signal
import socket

import psutil


def this_host() -> str:
    return socket.gethostname()


def process_alive(pid: int | None, started_at: float | None) -> bool:
    """Whether ``pid`` is still the process we started (pids are reused after a reboot)."""
    if not pid:
        return False
    try:
        process = psutil.Process(pid)
        if started_at is not None and abs(process.create_time() - started_at) > 1.0:
            return False
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_process_group(pid: int) -> None:
    """SIGTERM the group, then SIGKILL it if its leader has not ended within 10 s."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            psutil.Process(pid).wait(timeout=10)
            return
        except psutil.TimeoutExpired:
            continue
        except psutil.Error:
            return

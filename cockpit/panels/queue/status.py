"""Background reads for the queue panel: the queue scan with progress and runner state,
and the GPU/CPU status line. Plain functions and data, no widgets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from core.jobs.progress import Progress, ProgressTracker
from core.jobs.model import Job
from core.jobs.queue import QueueScanner, UnreadableJobFile
from core.jobs.runner import RunnerState, runner_state
from core.workspace import Workspace


@dataclass
class QueueScan:
    jobs: list[Job]
    progress: dict[str, Progress]
    runner: RunnerState
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    corrupt: list[UnreadableJobFile] = field(default_factory=list)  # in queue/corrupt/


def scan_queue(workspace: Workspace, scanner: QueueScanner, tracker: ProgressTracker) -> QueueScan:
    """One refresh's reading: changed job files, new metrics lines, the runner's state,
    the job files that could not be read."""
    start = time.perf_counter()
    jobs = scanner.scan()
    progress = tracker.update(jobs)
    runner = runner_state(workspace)
    corrupt = scanner.queue.corrupt_files()
    return QueueScan(jobs, progress, runner, time.perf_counter() - start, corrupt=corrupt)


def _gb(megabytes: int) -> str:
    return f"{megabytes / 1024:.1f}"


def device_text(workspace: Workspace | None = None) -> str:
    """Per GPU utilisation and memory (NVML); without GPUs the CPU's load. When the
    workspace sends its jobs to a Ray cluster, the cluster's nodes and GPUs follow (a
    cluster that cannot be asked says so in its line)."""
    local = _local_text()
    address = workspace.stores.ray_address if workspace is not None else ""
    if not address:
        return local
    from core.jobs.cluster import cluster_nodes, cluster_text

    try:
        cluster = cluster_text(address, cluster_nodes(address, timeout=3))
    except Exception as exc:  # the local line stays; the cluster's problem is one line
        cluster = f"Ray cluster: {str(exc).splitlines()[0]}"
    return f"This machine: {local}\n{cluster}"


def _local_text() -> str:
    from core.jobs.gpus import cpu_status, gpu_status

    gpus = gpu_status()
    if gpus:
        return "   ".join(
            f"GPU {g.index} {g.name}: {g.utilisation_percent} % · "
            f"{_gb(g.memory_used_mb)}/{_gb(g.memory_total_mb)} GB"
            for g in gpus
        )
    cpu = cpu_status()
    used = cpu.memory_total_mb - cpu.memory_available_mb
    # no reading yet on the first refresh: say nothing rather than "load 0 %"
    load = "" if cpu.load_percent is None else f", load {cpu.load_percent:.0f} %"
    return (
        f"No GPU (NVML) — jobs run on the CPU: {cpu.cores} cores{load} · "
        f"memory {_gb(used)}/{_gb(cpu.memory_total_mb)} GB"
    )

"""Which GPUs can take a job now (NVML); none means the runner uses CPU slots, and views
show the CPU's load instead."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GpuStatus:
    index: int
    name: str
    memory_total_mb: int
    memory_free_mb: int
    utilisation_percent: int

    @property
    def memory_used_mb(self) -> int:
        return self.memory_total_mb - self.memory_free_mb


@dataclass(frozen=True)
class CpuStatus:
    cores: int
    load_percent: float | None  # all cores, since the previous call; None on the first
    memory_total_mb: int
    memory_available_mb: int


_cpu_measured = False  # psutil's first cpu_percent() has nothing to compare with: 0.0


def cpu_status() -> CpuStatus:
    import psutil

    global _cpu_measured
    memory = psutil.virtual_memory()
    load = psutil.cpu_percent(interval=None)
    first, _cpu_measured = not _cpu_measured, True
    return CpuStatus(
        psutil.cpu_count() or 1,
        None if first else load,
        memory.total // 2**20,
        memory.available // 2**20,
    )


def gpu_status() -> list[GpuStatus]:
    """Every NVIDIA GPU, or an empty list when there is no driver or no GPU."""
    try:
        import pynvml
    except ImportError:
        return []
    try:
        pynvml.nvmlInit()
    except pynvml.NVMLError:
        return []
    try:
        found = []
        for index in range(pynvml.nvmlDeviceGetCount()):
            handle = pynvml.nvmlDeviceGetHandleByIndex(index)
            memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
            try:
                busy = pynvml.nvmlDeviceGetUtilizationRates(handle).gpu
            except pynvml.NVMLError:
                busy = 0
            name = pynvml.nvmlDeviceGetName(handle)
            found.append(
                GpuStatus(
                    index,
                    name.decode() if isinstance(name, bytes) else name,
                    memory.total // 2**20,
                    memory.free // 2**20,
                    int(busy),
                )
            )
        return found
    finally:
        pynvml.nvmlShutdown()

"""DataLoader settings chosen for the machine and the data size."""

from __future__ import annotations

import os
from dataclasses import dataclass

SMALL_DATASET = 512  # below this, worker start-up costs more than it saves


@dataclass(frozen=True)
class LoaderSettings:
    num_workers: int
    pin_memory: bool
    persistent_workers: bool


def loader_settings(requested_workers: int, n_items: int, on_gpu: bool) -> LoaderSettings:
    """``requested_workers`` -1 means: none for small data, else one per spare core (max 8)."""
    if requested_workers >= 0:
        workers = requested_workers
    elif n_items < SMALL_DATASET:
        workers = 0
    else:
        workers = max(0, min(8, (os.cpu_count() or 1) - 1))
    return LoaderSettings(workers, pin_memory=on_gpu, persistent_workers=workers > 0)

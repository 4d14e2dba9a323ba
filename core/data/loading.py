"""DataLoader settings chosen for the machine and the data (the rule is documented in
docs/training-speed.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass

SMALL_DATASET = 512  # below this, worker start-up costs more than it saves
MAX_WORKERS = 8
PREFETCH_BATCHES = 4  # per worker: enough to hide an uneven batch, little memory


@dataclass(frozen=True)
class LoaderSettings:
    num_workers: int
    pin_memory: bool
    persistent_workers: bool
    prefetch_factor: int | None = None  # None: DataLoader's own (it refuses one without workers)


def loader_settings(
    requested_workers: int, n_items: int, on_gpu: bool, *, served_from_memory: bool = False
) -> LoaderSettings:
    """``requested_workers`` -1 means: chosen here.

    - no workers when the items come ready from the in-memory cache (``served_from_memory``:
      an item is an array copy, cheaper than shipping it from another process) or the data
      is small (< ``SMALL_DATASET`` items: starting workers costs more than they save);
    - else one per core left over by the main process, at most ``MAX_WORKERS``.

    Workers stay alive between epochs (``persistent_workers``) and keep
    ``PREFETCH_BATCHES`` batches ready each; pinned memory (for asynchronous copies to the
    device) only when training on a GPU.
    """
    if requested_workers >= 0:
        workers = requested_workers
    elif served_from_memory or n_items < SMALL_DATASET:
        workers = 0
    else:
        workers = max(0, min(MAX_WORKERS, (os.cpu_count() or 1) - 1))
    return LoaderSettings(
        workers,
        pin_memory=on_gpu,
        persistent_workers=workers > 0,
        prefetch_factor=PREFETCH_BATCHES if workers > 0 else None,
    )

"""How Lightning reads and writes this project's checkpoints.

Lightning's own TorchCheckpointIO leaves ``weights_only`` to the installed versions' default
and writes through fsspec, which on a full disk can leave an empty or cut-short file in place
of the previous checkpoint. This plugin loads tensors and plain values only (a planted
checkpoint cannot run code during a resume) and replaces a checkpoint only once the new one
is completely on disk.

Writing may be asynchronous (``SafeCheckpointIO(asynchronous=True)``, what a fit uses):
the checkpoint is serialised at once (so it is the state of that
moment), then written, fsynced and renamed into place by one background thread, in order,
while training goes on. A write that failed stops the fit at the next checkpoint or at the
end of the fit (``teardown`` waits for every write), with the same one-line error; a process
killed meanwhile resumes from the checkpoint before, as if killed a moment earlier.

Two savings a fit also uses (``budget``):

- **One serialisation per training state.** At an epoch that improves the monitored value,
  best.ckpt and last.ckpt hold the same training state: the bytes serialised for best.ckpt
  are written again as last.ckpt (two files still: either is the other's fallback when
  one cannot be read).
- **Paced resume checkpoints.** A large model's checkpoint costs real time (ResNet-18 with
  Adam: 134 MB, about 0.25 s to serialise and write on a 2-core machine, a fifth of a
  small epoch). last.ckpt is written at most as often as keeps its cost under ``budget``
  (5 %) of the time since the previous write: a skipped one is kept in memory and the
  newest is written when the fit ends, stops or is interrupted (with the time its state was
  taken as its modification time, so an interrupted.ckpt taken later stays the newer one).
  A small model's checkpoint costs milliseconds and is written every epoch; a process
  killed outright (``kill -9``, the OOM killer) resumes from the newest checkpoint written,
  losing at most about 20 times its write time of training.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from lightning_fabric.utilities.apply_func import apply_to_collection
from pytorch_lightning.callbacks import OnExceptionCheckpoint

from core.errors import CockpitError
from core.fileio import atomic_write_bytes
from core.training.checkpoints import read_checkpoint


class CheckpointWriteError(CockpitError):
    """A checkpoint could not be written (full disk, permissions); the earlier ones stand."""


PACED = frozenset({"last.ckpt"})  # written for resuming only: may wait (``budget``)
DEFAULT_BUDGET = 0.05


class SafeCheckpointIO(TorchCheckpointIO):
    def __init__(self, *, asynchronous: bool = False, budget: float | None = None) -> None:
        """``budget``: the share of training time the paced checkpoints may cost (None:
        every checkpoint is written when saved)."""
        super().__init__()
        self.asynchronous = asynchronous
        self.budget = budget
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        # the newest file saved: its path, training state and bytes
        self._previous: tuple[Path, Any, bytes] | None = None
        self._cost: dict[Path, float] = {}  # seconds its last write took (serialise + write)
        self._started: dict[Path, float] = {}  # when that write was asked for
        self._deferred: dict[Path, tuple[dict[str, Any], float]] = {}  # state, wall time

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("SafeCheckpointIO takes no storage_options")
        self._raise_failed_write()
        path = Path(path)
        moment = _training_state(checkpoint)
        if self.budget is not None and self._previous is not None and path.name in PACED:
            source, state, data = self._previous
            if source != path and state == moment:  # the same state, just serialised
                self._deferred.pop(path, None)
                self._run(_write, path, data)
                return
        if self._paced(path):
            copied = apply_to_collection(checkpoint, torch.Tensor, _copy)
            self._deferred[path] = (copied, time.time())
            return
        self._deferred.pop(path, None)
        self._previous = (path, moment, self._write_now(checkpoint, path))

    def _paced(self, path: Path) -> bool:
        """Whether writing ``path`` now would spend more than the budget."""
        if self.budget is None or path.name not in PACED or path not in self._cost:
            return False
        return time.perf_counter() - self._started[path] < self._cost[path] / self.budget

    def _write_now(
        self, checkpoint: dict[str, Any], path: Path, taken: float | None = None
    ) -> bytes:
        """Serialise now, write now or on the writer thread; returns the bytes."""
        started = time.perf_counter()
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
        serialised = time.perf_counter() - started
        self._started[path] = started

        def write() -> None:
            begun = time.perf_counter()
            _write(path, data)
            if taken is not None:
                os.utime(path, (taken, taken))
            self._cost[path] = serialised + time.perf_counter() - begun

        self._run(write)
        return data

    def _run(self, work: Callable[..., None], *args: Any) -> None:
        """``work`` now, or in order on the writer thread when asynchronous."""
        if not self.asynchronous:
            work(*args)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="checkpoint-writer")
        self._pending.append(self._executor.submit(work, *args))

    def flush_deferred(self) -> None:
        """Write the newest skipped state of each paced checkpoint."""
        deferred, self._deferred = self._deferred, {}
        for path, (checkpoint, taken) in deferred.items():
            self._write_now(checkpoint, path, taken)

    def _raise_failed_write(self) -> None:
        done = [future for future in self._pending if future.done()]
        self._pending = [future for future in self._pending if not future.done()]
        for future in done:
            future.result()  # raises the write's CheckpointWriteError

    def wait(self) -> None:
        """Every checkpoint saved so far is on disk (or its write error is raised)."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()

    def remove_checkpoint(self, path: Any) -> None:
        self._deferred.pop(Path(path), None)
        self.wait()
        super().remove_checkpoint(path)

    def teardown(self) -> None:
        try:
            self.wait()  # a write that failed is reported first, and nothing more written
            self.flush_deferred()
            self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None

    def load_checkpoint(
        self,
        path: Any,
        map_location: Callable[..., Any] | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        # ``weights_only`` from the caller is ignored on purpose: never False here. The
        # tensors load onto the CPU (Lightning's default too) and move with the module.
        self.wait()
        return read_checkpoint(Path(path), mmap=False)


def _training_state(checkpoint: dict[str, Any]) -> Any:
    """What tells two checkpoints of one fit apart: epoch, step and the loops' progress."""
    return (checkpoint.get("epoch"), checkpoint.get("global_step"), checkpoint.get("loops"))


def _copy(tensor: torch.Tensor) -> torch.Tensor:
    return tensor.detach().clone()


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(path, data)
    except CockpitError as exc:
        cause = exc.__cause__
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
        raise CheckpointWriteError(
            f"cannot write checkpoint {path}: {reason or exc}; the checkpoints saved "
            "before are intact: free disk space (or fix the folder's permissions) and run "
            "the same command to resume"
        ) from exc


class InterruptCheckpoint(OnExceptionCheckpoint):
    """Saves the state of a fit that a cancel or crash interrupts mid-epoch, except when
    the interruption is a checkpoint that could not be written: a second write would fail
    the same way and its message would hide which file the disk refused."""

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if isinstance(exception, CheckpointWriteError):
            return
        super().on_exception(trainer, pl_module, exception)

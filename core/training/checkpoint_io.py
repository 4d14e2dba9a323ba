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
- **Paced epoch checkpoints.** A large model's checkpoint costs real time (ResNet-18 with
  Adam: 134 MB; writing it slowed the next epoch by ~1 s on a 2-core machine). best.ckpt
  and last.ckpt are written, together, at most as often as keeps their cost under
  ``budget`` (5 %) of the time since the previous write (the cost: the larger of the
  measured one and ``SECONDS_PER_MIB`` per MiB of tensors). A state kept back is copied in
  memory and the newest is written when the fit ends, stops or is interrupted (with the
  time its state was taken as its modification time, so an interrupted.ckpt taken later
  stays the newer one). A small model's checkpoint costs milliseconds and is written every
  epoch; a process killed outright (``kill -9``, the OOM killer) resumes from the newest
  checkpoint written, losing at most about 20 times its cost of training.
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
from pytorch_lightning.callbacks import OnExceptionCheckpoint

from core.errors import CockpitError
from core.fileio import atomic_write_bytes
from core.training.checkpoints import read_checkpoint


class CheckpointWriteError(CockpitError):
    """A checkpoint could not be written (full disk, permissions); the earlier ones stand."""


PACED = frozenset({"best.ckpt", "last.ckpt"})  # the epoch-end pair: may wait (``budget``)
DEFAULT_BUDGET = 0.05
# What writing a checkpoint costs the training beside it, at least, per MiB: measured on
# a 2-core machine, ResNet-18 with Adam (134 MB) slowed the next epoch by ~1 s (writing,
# fsync and the page cache compete with the training threads), which the write's own
# time (~0.4 s) does not show. A state under SMALL_STATE_S of it is written at once.
SECONDS_PER_MIB = 0.008
SMALL_STATE_S = 0.05


class SafeCheckpointIO(TorchCheckpointIO):
    def __init__(self, *, asynchronous: bool = False, budget: float | None = None) -> None:
        """``budget``: the share of training time the paced checkpoints may cost (None:
        every checkpoint is written when saved)."""
        super().__init__()
        self.asynchronous = asynchronous
        self.budget = budget
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []
        # the newest file serialised: its path, training state and bytes
        self._previous: tuple[Path, Any, bytes] | None = None
        # the newest written group of paced files: when it began, what it cost (seconds of
        # serialising and writing, added up as its writes end)
        self._group: tuple[float, list[float]] | None = None
        self._decided: tuple[Any, bool] | None = None  # a training state: paced or not
        self._opened = time.perf_counter()
        self._deferred: dict[Path, tuple[dict[str, Any], float, Any]] = {}

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("SafeCheckpointIO takes no storage_options")
        self._raise_failed_write()
        path = Path(path)
        moment = _training_state(checkpoint)
        if self._paced(path, moment, checkpoint):
            self._defer(checkpoint, path, moment)
            return
        self._deferred.pop(path, None)
        if path.name in PACED:
            # an earlier state still waiting (a best.ckpt of an epoch that improved) goes
            # first; last.ckpt follows best.ckpt at every epoch's end, this one included
            self.flush_deferred(keep=("last.ckpt",) if path.name == "best.ckpt" else ())
        if self._previous is not None:
            source, state, data = self._previous
            if source != path and state == moment:  # the same state, just serialised
                self._run(self._timed(path, data, 0.0, None))
                return
        self._previous = (path, moment, self._write_now(checkpoint, path))

    def _paced(self, path: Path, moment: Any, checkpoint: dict[str, Any]) -> bool:
        """Whether the paced files of this training state wait: decided once per state
        (best.ckpt and last.ckpt of one epoch wait or are written together, so that on disk
        they always agree on the best so far). They wait while the time since the previous
        write (or since the fit began, for a large state) is under its cost / budget."""
        if self.budget is None or path.name not in PACED:
            return False
        if self._decided is not None and self._decided[0] == moment:
            return self._decided[1]
        estimate = _tensor_bytes(checkpoint) / 2**20 * SECONDS_PER_MIB
        if self._group is not None:
            started, cost = self._group
            waits = time.perf_counter() - started < max(sum(cost), estimate) / self.budget
        else:
            waits = (
                estimate >= SMALL_STATE_S
                and time.perf_counter() - self._opened < estimate / self.budget
            )
        if not waits:
            self._group = (time.perf_counter(), [])
        self._decided = (moment, waits)
        return waits

    def _defer(self, checkpoint: dict[str, Any], path: Path, moment: Any) -> None:
        """Keep a copy of ``checkpoint`` (the tensors change as training goes on): into
        the tensors of the copy it replaces (no new memory each epoch); the files of one
        training state share the copied tensors."""
        same = next((c for c, _t, m in self._deferred.values() if m == moment), None)
        if same is not None:
            callbacks = _copy_into(None, checkpoint.get("callbacks"))
            copied = {**same, "callbacks": callbacks}
        else:
            older = self._deferred.get(path)
            shared = older is not None and any(
                other != path and entry[2] == older[2] for other, entry in self._deferred.items()
            )  # a best.ckpt of that state still waits on those tensors
            copied = _copy_into(older[0] if older and not shared else None, checkpoint)
        self._deferred[path] = (copied, time.time(), moment)

    def _write_now(
        self, checkpoint: dict[str, Any], path: Path, taken: float | None = None
    ) -> bytes:
        """Serialise now, write now or on the writer thread; returns the bytes."""
        started = time.perf_counter()
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        data = buffer.getvalue()
        self._run(self._timed(path, data, time.perf_counter() - started, taken))
        return data

    def _timed(
        self, path: Path, data: bytes, serialised: float, taken: float | None
    ) -> Callable[[], None]:
        """The write of ``data`` to ``path``; its cost counts in the current group's."""
        group = self._group if path.name in PACED else None

        def write() -> None:
            begun = time.perf_counter()
            _write(path, data)
            if taken is not None:  # a state kept back: its time is when it was taken
                os.utime(path, (taken, taken))
            if group is not None:
                group[1].append(serialised + time.perf_counter() - begun)

        return write

    def _run(self, work: Callable[..., None], *args: Any) -> None:
        """``work`` now, or in order on the writer thread when asynchronous."""
        if not self.asynchronous:
            work(*args)
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="checkpoint-writer")
        self._pending.append(self._executor.submit(work, *args))

    def flush_deferred(self, keep: tuple[str, ...] = ()) -> None:
        """Write the newest state kept back of each paced checkpoint (but those named in
        ``keep``), oldest first."""
        waiting = sorted(self._deferred.items(), key=lambda entry: entry[1][1])
        for path, (checkpoint, taken, moment) in waiting:
            if path.name in keep:
                continue
            del self._deferred[path]
            self._previous = (path, moment, self._write_now(checkpoint, path, taken))

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


def _tensor_bytes(value: Any) -> int:
    if isinstance(value, torch.Tensor):
        return value.nelement() * value.element_size()
    if isinstance(value, dict):
        return sum(_tensor_bytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(_tensor_bytes(v) for v in value)
    return 0


def _copy_into(old: Any, new: Any) -> Any:
    """A copy of ``new`` whose tensors are ``old``'s where their shapes and types match
    (overwritten in place), new ones elsewhere."""
    if isinstance(new, torch.Tensor):
        if (
            isinstance(old, torch.Tensor)
            and old.shape == new.shape
            and old.dtype == new.dtype
            and old.device == new.device
        ):
            return old.copy_(new.detach())
        return new.detach().clone()
    if isinstance(new, dict):
        olds = old if isinstance(old, dict) else {}
        return {key: _copy_into(olds.get(key), value) for key, value in new.items()}
    if isinstance(new, list | tuple):
        same_length = isinstance(old, list | tuple) and len(old) == len(new)
        copied = [_copy_into(old[i] if same_length else None, n) for i, n in enumerate(new)]
        if isinstance(new, list):
            return copied
        return type(new)(*copied) if hasattr(new, "_fields") else type(new)(copied)
    return new


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

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
"""

from __future__ import annotations

import io
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


class SafeCheckpointIO(TorchCheckpointIO):
    def __init__(self, *, asynchronous: bool = False) -> None:
        super().__init__()
        self.asynchronous = asynchronous
        self._executor: ThreadPoolExecutor | None = None
        self._pending: list[Future[None]] = []

    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("SafeCheckpointIO takes no storage_options")
        self._raise_failed_write()
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        if not self.asynchronous:
            _write(Path(path), buffer.getvalue())
            return
        if self._executor is None:
            self._executor = ThreadPoolExecutor(1, thread_name_prefix="checkpoint-writer")
        self._pending.append(self._executor.submit(_write, Path(path), buffer.getvalue()))

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
        self.wait()
        super().remove_checkpoint(path)

    def teardown(self) -> None:
        try:
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

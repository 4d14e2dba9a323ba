"""How Lightning reads and writes this project's checkpoints.

Lightning's own TorchCheckpointIO leaves ``weights_only`` to the installed versions' default
and writes through fsspec, which on a full disk can leave an empty or cut-short file in place
of the previous checkpoint. This plugin loads tensors and plain values only (a planted
checkpoint cannot run code during a resume) and replaces a checkpoint only once the new one
is completely on disk.
"""

from __future__ import annotations

import io
from collections.abc import Callable
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
    def save_checkpoint(
        self, checkpoint: dict[str, Any], path: Any, storage_options: Any | None = None
    ) -> None:
        if storage_options is not None:
            raise TypeError("SafeCheckpointIO takes no storage_options")
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        try:
            atomic_write_bytes(Path(path), buffer.getvalue())
        except CockpitError as exc:
            cause = exc.__cause__
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else cause
            raise CheckpointWriteError(
                f"cannot write checkpoint {path}: {reason or exc}; the checkpoints saved "
                "before are intact: free disk space (or fix the folder's permissions) and run "
                "the same command to resume"
            ) from exc

    def load_checkpoint(
        self,
        path: Any,
        map_location: Callable[..., Any] | None = None,
        weights_only: bool | None = None,
    ) -> dict[str, Any]:
        # ``weights_only`` from the caller is ignored on purpose: never False here. The
        # tensors load onto the CPU (Lightning's default too) and move with the module.
        return read_checkpoint(Path(path), mmap=False)


class InterruptCheckpoint(OnExceptionCheckpoint):
    """Saves the state of a fit that a cancel or crash interrupts mid-epoch, except when
    the interruption is a checkpoint that could not be written: a second write would fail
    the same way and its message would hide which file the disk refused."""

    def on_exception(self, trainer: Any, pl_module: Any, exception: BaseException) -> None:
        if isinstance(exception, CheckpointWriteError):
            return
        super().on_exception(trainer, pl_module, exception)

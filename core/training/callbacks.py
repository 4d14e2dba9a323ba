"""JobLoggingCallback: one JSON line per logged step and epoch in
``queue/logs/<job_id>.metrics.jsonl``, flushed per line, for the live plots."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, TextIO

import pytorch_lightning as pl


class JobLoggingCallback(pl.Callback):
    """Appends ``{"kind", "step", "epoch", "split", "loss", "acc", "lr", "time"}`` lines.

    Step lines come every ``every_n_steps`` training batches (cheap: the loss is already
    on the batch output); epoch lines carry the epoch means of each split.
    """

    def __init__(self, path: Path, every_n_steps: int = 10) -> None:
        self.path = Path(path)
        self.every_n_steps = max(1, every_n_steps)
        self._file: TextIO | None = None
        self._started = time.time()

    def _write(self, record: dict[str, Any]) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._file = open(self.path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        record["time"] = round(time.time(), 3)
        self._file.write(json.dumps(record) + "\n")
        self._file.flush()

    @staticmethod
    def _lr(trainer: pl.Trainer) -> float | None:
        if not trainer.optimizers:
            return None
        return float(trainer.optimizers[0].param_groups[0]["lr"])

    def on_train_batch_end(
        self,
        trainer: pl.Trainer,
        module: pl.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        if trainer.global_step % self.every_n_steps:
            return
        loss = outputs["loss"] if isinstance(outputs, dict) else outputs
        self._write(
            {
                "kind": "step",
                "step": trainer.global_step,
                "epoch": trainer.current_epoch,
                "split": "train",
                "loss": float(loss),
                "lr": self._lr(trainer),
            }
        )

    def _epoch_record(self, trainer: pl.Trainer, split: str) -> None:
        metrics = trainer.callback_metrics
        if f"{split}_loss" not in metrics:
            return
        record = {
            "kind": "epoch",
            "step": trainer.global_step,
            "epoch": trainer.current_epoch,
            "split": split,
            "loss": float(metrics[f"{split}_loss"]),
            "acc": float(metrics[f"{split}_acc"]) if f"{split}_acc" in metrics else None,
            "lr": self._lr(trainer),
        }
        self._write(record)

    def on_train_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._epoch_record(trainer, "train")

    def on_validation_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._epoch_record(trainer, "valid")

    def on_test_epoch_end(self, trainer: pl.Trainer, module: pl.LightningModule) -> None:
        self._epoch_record(trainer, "test")

    def teardown(self, trainer: pl.Trainer, module: pl.LightningModule, stage: str) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

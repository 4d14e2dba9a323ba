"""Metric and log lines in the exact format of JobLoggingCallback, with plausible values,
for tests and benchmarks that need a job writing faster or longer than a tiny training."""

from __future__ import annotations

import json
import math
import random
import time
from pathlib import Path

from core.jobs.model import Job
from core.jobs.queue import JobQueue


def running_job(
    workspace, kind: str = "train", model: str = "simple_cnn", state: str = "running"
) -> Job:
    """A job file in ``queue/<state>/`` as the runner leaves it."""
    now = time.time()
    ended = state in ("finished", "failed", "cancelled")
    job = Job(
        kind=kind,
        state=state,
        workspace=str(workspace.root),
        theme="shapes",
        params={"model": model},
        started_at=now - 600 if ended else now,
        finished_at=now - 60 if ended else None,
    )
    JobQueue(workspace).write(job)
    workspace.logs_dir.mkdir(parents=True, exist_ok=True)
    return job


class TrainingWriter:
    """Appends what a training writes: a step line every ``every`` steps, train and valid
    epoch lines at each epoch end, and log lines, flushed per line like the callback."""

    def __init__(self, logs_dir: Path, job_id: str, steps_per_epoch: int = 50, seed: int = 0):
        self.metrics = logs_dir / f"{job_id}.metrics.jsonl"
        self.log = logs_dir / f"{job_id}.log"
        self.steps_per_epoch = steps_per_epoch
        self.step = 0
        self.random = random.Random(seed)
        self.lines = 0

    def _loss(self, step: float, floor: float = 0.08) -> float:
        return floor + 1.1 * math.exp(-step / (4.0 * self.steps_per_epoch))

    def write_steps(self, count: int, every: int = 1) -> None:
        with (
            open(self.metrics, "a", encoding="utf-8") as metrics,
            open(self.log, "a", encoding="utf-8") as log,
        ):
            for _ in range(count):
                self.step += every
                epoch = self.step // self.steps_per_epoch
                noise = self.random.gauss(0, 0.06)
                record = {"kind": "step", "step": self.step, "epoch": epoch, "split": "train",
                          "loss": max(0.01, self._loss(self.step) + noise), "lr": 0.001,
                          "time": round(time.time(), 3)}  # fmt: skip
                metrics.write(json.dumps(record) + "\n")
                metrics.flush()
                self.lines += 1
                if self.step % self.steps_per_epoch == 0:
                    self._epoch_end(metrics, log, epoch - 1)

    def _epoch_end(self, metrics, log, epoch: int) -> None:
        train_loss = self._loss(self.step)
        valid_loss = self._loss(self.step, floor=0.2) + self.random.gauss(0, 0.02)
        train_acc = min(0.99, 1.0 - 0.8 * train_loss)
        valid_acc = min(0.97, 1.0 - 0.8 * valid_loss) + self.random.gauss(0, 0.01)
        for split, loss, acc in (
            ("valid", valid_loss, valid_acc),
            ("train", train_loss, train_acc),
        ):
            record = {"kind": "epoch", "step": self.step, "epoch": epoch, "split": split,
                      "loss": loss, "acc": acc, "lr": 0.001, "time": round(time.time(), 3)}  # fmt: skip
            metrics.write(json.dumps(record) + "\n")
            self.lines += 1
        log.write(
            f"epoch {epoch + 1}/40  train_acc {train_acc:.4f}  train_loss {train_loss:.4f}  "
            f"valid_acc {valid_acc:.4f}  valid_loss {valid_loss:.4f}\n"
        )
        log.flush()

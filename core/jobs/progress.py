"""How far each job is, from the tail of its ``queue/logs/<id>.metrics.jsonl``.

Read incrementally (``FileTail``: only the bytes written since the last scan; the first
read only the file's end), so a scan every second costs little however long a job runs.
Training jobs write ``epoch`` and ``step`` lines; tune jobs also ``trial_start`` and
``trial`` lines (core/tuning/study.py TrialLog). Shared by ``cockpit queue list`` and the
Queue panel (which runs it in its scan worker).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.jobs.model import Job
from core.jobs.tail import FileTail

FIRST_READ_BYTES = 64 * 1024  # recent lines are enough: the newest epoch, step and trial


@dataclass(frozen=True)
class Progress:
    epochs_done: int | None = None
    max_epochs: int | None = None
    step: int | None = None
    trial: int | None = None  # 1-based number of the trial running (or last run)
    n_trials: int | None = None
    eta_s: float | None = None

    @property
    def fraction(self) -> float | None:
        """0..1 for a progress bar: trials for a study, epochs for a training."""
        if self.n_trials and self.trial:
            within = (self.epochs_done or 0) / self.max_epochs if self.max_epochs else 0.0
            return min(1.0, (self.trial - 1 + min(within, 1.0)) / self.n_trials)
        if self.max_epochs and self.epochs_done is not None:
            return min(1.0, self.epochs_done / self.max_epochs)
        return None

    def text(self) -> str:
        if self.epochs_done is None and self.trial is None and self.step is None:
            return self.plan()
        parts = []
        if self.n_trials or self.trial:
            parts.append(f"trial {self.trial or '?'}/{self.n_trials or '?'}")
        if self.epochs_done is not None or self.max_epochs:
            done = self.epochs_done if self.epochs_done is not None else 0
            parts.append(f"epoch {done}/{self.max_epochs or '?'}")
        if self.step is not None:
            parts.append(f"step {self.step}")
        return " · ".join(parts)

    def plan(self) -> str:
        """What a job that has not started will do."""
        epochs = f"{self.max_epochs} epochs" if self.max_epochs else ""
        if self.n_trials:
            return f"{self.n_trials} trials" + (f" × {epochs}" if epochs else "")
        return epochs


@dataclass
class _Seen:
    """What one job's metrics file said so far."""

    tail: FileTail
    epochs_done: int | None = None
    step: int | None = None
    trial: int | None = None
    n_trials: int | None = None
    trials_ended_since_start: int = 0
    first_epoch_this_attempt: int | None = None
    first_epoch_time: float | None = None  # when that epoch ended
    last_epoch_time: float | None = None
    last_time: float | None = None
    state: str | None = None
    final: bool = False  # read once: the file of a job not running does not change


def _int(value: object) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def n_trials_of(job: Job) -> int | None:
    value = job.args.get("n_trials")
    if value is None:
        value = (job.args.get("optuna") or {}).get("study", {}).get("n_trials")
    return _int(value)


def max_epochs_of(job: Job) -> int | None:
    value = job.params.get("max_epochs")
    if value is None and job.kind == "tune":
        value = (job.args.get("optuna") or {}).get("base_params", {}).get("max_epochs")
    return _int(value)


@dataclass
class ProgressTracker:
    """Remembers, per job, how far it has read; ``update`` returns the progress of the
    running jobs (every call), of ended or stopped ones (read once, then kept) and the
    plan of pending ones that never ran (no file read)."""

    logs_dir: Path
    seen: dict[str, _Seen] = field(default_factory=dict)

    def update(self, jobs: list[Job], now: float | None = None) -> dict[str, Progress]:
        now = time.time() if now is None else now
        result: dict[str, Progress] = {}
        alive = set()
        for job in jobs:
            if job.kind not in ("train", "tune"):
                continue
            if job.state == "pending" and not job.started_at:  # never ran: its plan
                result[job.id] = Progress(
                    max_epochs=max_epochs_of(job),
                    n_trials=n_trials_of(job) if job.kind == "tune" else None,
                )
                continue
            alive.add(job.id)
            seen = self.seen.get(job.id)
            if seen is None:
                path = self.logs_dir / f"{job.id}.metrics.jsonl"
                seen = self.seen[job.id] = _Seen(FileTail(path, first_read_max=FIRST_READ_BYTES))
            if seen.state != job.state:  # e.g. stopped, then running again
                seen.state, seen.final = job.state, False
            if not seen.final:
                self._read(seen, job)
                seen.final = job.state != "running"
            result[job.id] = self._progress(seen, job, now)
        for gone in set(self.seen) - alive:
            del self.seen[gone]
        return result

    def _read(self, seen: _Seen, job: Job) -> None:
        chunk = seen.tail.read()
        while True:
            for line in chunk.lines:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    self._take(seen, record, job)
            if not chunk.more:
                return
            chunk = seen.tail.read()

    @staticmethod
    def _take(seen: _Seen, record: dict, job: Job) -> None:
        kind = record.get("kind")
        stamp = record.get("time")
        this_attempt = isinstance(stamp, (int, float)) and stamp >= (job.started_at or 0)
        if isinstance(stamp, (int, float)):
            seen.last_time = stamp
        if kind in ("epoch", "step") and _int(record.get("step")) is not None:
            seen.step = max(seen.step or 0, _int(record.get("step")) or 0)
        if kind == "epoch" and record.get("split") in ("train", "valid"):
            epoch = _int(record.get("epoch"))
            if epoch is not None:
                seen.epochs_done = max(seen.epochs_done or 0, epoch + 1)
                if this_attempt and seen.first_epoch_this_attempt is None:
                    seen.first_epoch_this_attempt = epoch
                    seen.first_epoch_time = stamp
                if this_attempt:
                    seen.last_epoch_time = stamp
        elif kind == "trial_start":
            number = _int(record.get("trial"))
            if number is not None:
                seen.trial = number + 1
                seen.epochs_done = seen.step = None  # a new trial trains from epoch 0
                seen.first_epoch_this_attempt = seen.first_epoch_time = None
        elif kind == "trial":
            number = _int(record.get("number"))
            if number is not None:
                seen.trial = max(seen.trial or 0, number + 1)
            seen.n_trials = _int(record.get("n_trials")) or seen.n_trials
            if this_attempt:
                seen.trials_ended_since_start += 1

    @staticmethod
    def _progress(seen: _Seen, job: Job, now: float) -> Progress:
        max_epochs = max_epochs_of(job)
        epochs = seen.epochs_done
        if epochs is not None and max_epochs:
            epochs = min(epochs, max_epochs)  # the final evaluation logs one epoch more
        eta = None
        if job.state == "running" and job.started_at:
            elapsed = now - job.started_at
            if job.kind == "tune":
                n_trials = seen.n_trials or n_trials_of(job)
                ended = seen.trials_ended_since_start
                if n_trials and seen.trial and ended:
                    eta = elapsed / ended * max(0, n_trials - (seen.trial - 1))
            elif epochs and max_epochs and seen.first_epoch_this_attempt is not None:
                eta = _epochs_eta(seen, epochs, max_epochs, elapsed)
        return Progress(
            epochs_done=epochs,
            max_epochs=max_epochs,
            step=seen.step,
            trial=seen.trial if job.kind == "tune" else None,
            n_trials=(seen.n_trials or n_trials_of(job)) if job.kind == "tune" else None,
            eta_s=eta,
        )


def _epochs_eta(seen: _Seen, epochs: int, max_epochs: int, elapsed: float) -> float | None:
    """Seconds left: from the time between epoch ends once two are known (start-up and
    data loading excluded), else from the time since the job started."""
    first = seen.first_epoch_this_attempt or 0
    left = max(0, max_epochs - epochs)
    span = (seen.last_epoch_time or 0) - (seen.first_epoch_time or 0)
    if epochs - 1 - first > 0 and span > 0:
        return span / (epochs - 1 - first) * left
    done_now = epochs - first
    return elapsed / done_now * left if done_now > 0 else None


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {whole % 3600 // 60:02d} min"

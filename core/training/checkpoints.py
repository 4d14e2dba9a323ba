"""CheckpointManager (seed 001): what a training command must do for an experiment id.

- no checkpoint: start a new experiment;
- ``last.ckpt`` and fewer finished epochs than ``max_epochs``: resume (after a kill), or
  add epochs (the experiment had finished with a smaller ``max_epochs``);
- finished (all epochs, or early stopping ended it): nothing to train, exit 0 at once.

``state.json`` beside the checkpoints records a finished fit; the checkpoint itself records
the epochs done, so a kill at any moment leaves a consistent picture.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from core.errors import CockpitError
from core.fileio import atomic_write_text

Mode = Literal["new", "resume", "extend", "complete"]


@dataclass(frozen=True)
class TrainingState:
    finished: bool = False
    completed_epochs: int = 0
    max_epochs: int = 0
    stopped_early: bool = False
    packaged: bool = False
    final_metrics: dict[str, float] = field(default_factory=dict)  # of the best weights


@dataclass(frozen=True)
class ResumePlan:
    mode: Mode
    completed_epochs: int
    max_epochs: int
    checkpoint: Path | None
    packaged: bool = False

    def describe(self) -> str:
        if self.mode == "new":
            return f"new experiment: training {self.max_epochs} epoch(s)"
        if self.mode == "resume":
            return (
                f"resuming from epoch {self.completed_epochs} of {self.max_epochs} "
                f"({self.checkpoint.name if self.checkpoint else ''})"
            )
        if self.mode == "extend":
            extra = self.max_epochs - self.completed_epochs
            return (
                f"adding {extra} epoch(s) to a finished experiment ({self.completed_epochs} done)"
            )
        return f"already complete ({self.completed_epochs} epoch(s)); nothing to train"


class CheckpointManager:
    def __init__(self, experiment_dir: Path) -> None:
        self.dir = Path(experiment_dir)

    @property
    def last(self) -> Path:
        return self.dir / "last.ckpt"

    @property
    def best(self) -> Path:
        return self.dir / "best.ckpt"

    @property
    def interrupted(self) -> Path:
        """Written when a fit is interrupted mid-epoch (cancel, crash); removed after a
        normal end by Lightning itself."""
        return self.dir / "interrupted.ckpt"

    def resume_checkpoint(self) -> Path | None:
        """The newest of last.ckpt and interrupted.ckpt."""
        found = [p for p in (self.last, self.interrupted) if p.exists()]
        return max(found, key=lambda p: p.stat().st_mtime) if found else None

    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    def state(self) -> TrainingState:
        if not self.state_file.exists():
            return TrainingState()
        try:
            return TrainingState(**json.loads(self.state_file.read_text()))
        except (ValueError, TypeError):
            return TrainingState()  # rewritten at the end of this run

    def write_state(self, state: TrainingState) -> None:
        atomic_write_text(self.state_file, json.dumps(asdict(state), indent=2) + "\n")

    def epochs_in_checkpoint(self, path: Path) -> int:
        """Epochs finished when ``path`` was saved; CockpitError if it is unreadable."""
        import torch

        try:
            checkpoint = torch.load(path, map_location="cpu", weights_only=False, mmap=True)
            # "processed" counts epochs whose training finished, for a checkpoint written at
            # an epoch's end as well as one written mid-epoch by a cancel
            progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_progress")
            if progress:
                return int(progress["current"]["processed"])
            return int(checkpoint["epoch"]) + 1
        except Exception as exc:
            raise CockpitError(
                f"checkpoint {path} is unreadable ({type(exc).__name__}: {exc}); run the same "
                "command with --restart to start this experiment over (the old checkpoints "
                "are kept in a 'corrupt-<time>' folder)"
            ) from exc

    def plan(self, max_epochs: int) -> ResumePlan:
        state = self.state()
        source = self.resume_checkpoint()
        if source is None:
            return ResumePlan("new", 0, max_epochs, None)
        done = self.epochs_in_checkpoint(source)
        if state.finished and (state.stopped_early or done >= max_epochs):
            return ResumePlan("complete", done, max_epochs, source, state.packaged)
        if done >= max_epochs:
            return ResumePlan("complete", done, max_epochs, source, state.packaged)
        mode: Mode = "extend" if state.finished else "resume"
        return ResumePlan(mode, done, max_epochs, source)

    def set_aside(self) -> Path | None:
        """Move the checkpoints out of the way for ``--restart``; returns where they went."""
        files = [p for p in (self.last, self.interrupted, self.best, self.state_file) if p.exists()]
        if not files:
            return None
        target = self.dir / f"corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.move(str(path), target / path.name)
        return target

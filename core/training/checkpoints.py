"""CheckpointManager: what a training command must do for an experiment id.

- no checkpoint: start a new experiment;
- ``last.ckpt`` and fewer finished epochs than ``max_epochs``: resume (after a kill), or
  add epochs (the experiment had finished with a smaller ``max_epochs``);
- finished (all epochs, or early stopping ended it): nothing to train, exit 0 at once.

``state.json`` beside the checkpoints records a finished fit; the checkpoint itself records
the epochs done, so a kill at any moment leaves a consistent picture.

Checkpoints are read with ``weights_only``: a file planted in (or damaged in) an experiment
folder is refused as unreadable and never runs code. A resume skips unreadable checkpoints
for the newest readable one and says so.
"""

from __future__ import annotations

import json
import shutil
import time
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from core.errors import CockpitError
from core.fileio import atomic_write_text

Mode = Literal["new", "resume", "extend", "complete"]

_RESTART_ADVICE = (
    "train with --restart (cockpit train or cockpit submit train, same options) to start this "
    "experiment over; the old checkpoints are kept in a 'corrupt-<time>' folder"
)


class UnreadableCheckpoint(CockpitError):
    """A checkpoint that cannot be loaded safely: damaged, cut short, or holding objects
    whose loading could run code."""

    def __init__(self, path: Path, reason: str, advice: str = _RESTART_ADVICE) -> None:
        super().__init__(f"checkpoint {path} is unreadable ({reason}); {advice}")
        self.path = Path(path)
        self.reason = reason


def _reason(exc: BaseException) -> str:
    text = str(exc).strip()
    if "weights only load failed" in text.lower() or "weights_only" in text:
        return (
            "it holds objects other than tensors and plain values, and loading those could run code"
        )
    first = text.splitlines()[0] if text else ""
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


def read_checkpoint(path: Path, *, mmap: bool = True) -> dict[str, Any]:
    """The contents of the checkpoint ``path``, loaded with ``weights_only``: tensors and
    plain values only, so nothing in the file can execute. UnreadableCheckpoint otherwise.

    ``mmap`` reads tensors only when used (cheap for a look at the epoch count)."""
    import torch

    try:
        # only torch's zip format can be mapped; anything else still loads weights_only
        mapped = mmap and zipfile.is_zipfile(path)
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=mapped)
    except Exception as exc:
        raise UnreadableCheckpoint(path, _reason(exc)) from exc
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get("state_dict"), dict):
        raise UnreadableCheckpoint(path, "it holds no training state")
    return checkpoint


@dataclass(frozen=True)
class TrainingState:
    finished: bool = False
    completed_epochs: int = 0
    max_epochs: int = 0
    stopped_early: bool = False
    packaged: bool = False
    final_metrics: dict[str, float] = field(default_factory=dict)  # of the best weights
    # name, size and mtime of the checkpoint ``completed_epochs`` was read from: while it
    # is unchanged, "already complete" is answered without loading it (nor importing torch)
    checkpoint_stamp: list[Any] | None = None


@dataclass(frozen=True)
class ResumePlan:
    mode: Mode
    completed_epochs: int
    max_epochs: int
    checkpoint: Path | None
    packaged: bool = False
    # one line per newer checkpoint that was skipped because it could not be read
    skipped: tuple[str, ...] = ()
    unreadable: tuple[Path, ...] = ()

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

    def resume_candidates(self) -> list[Path]:
        """Every checkpoint a fit can continue from, newest first; best.ckpt (written at
        the best epoch, with the full training state) only after last and interrupted."""
        newest_first = sorted(
            (p for p in (self.last, self.interrupted) if p.exists()),
            key=lambda p: p.stat().st_mtime,
            reverse=True,
        )
        return newest_first + ([self.best] if self.best.exists() else [])

    def best_weights(self) -> dict[str, Any]:
        """The model weights of the best epoch (of the last one when there is no best.ckpt);
        UnreadableCheckpoint when that file cannot be read safely."""
        source = self.best if self.best.exists() else self.resume_checkpoint()
        if source is None:
            raise CockpitError(f"{self.dir} holds no checkpoint; train the experiment first")
        return read_checkpoint(source)["state_dict"]

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

    @staticmethod
    def stamp(path: Path) -> list[Any] | None:
        try:
            info = path.stat()
        except OSError:
            return None
        return [path.name, info.st_size, info.st_mtime_ns]

    def _complete_from_state(self, state: TrainingState, max_epochs: int) -> ResumePlan | None:
        """The "complete" plan from state.json alone, when the newest checkpoint is the
        very file its epoch count was read from."""
        if not state.finished or state.checkpoint_stamp is None:
            return None
        if not (state.stopped_early or state.completed_epochs >= max_epochs):
            return None
        candidates = self.resume_candidates()
        if not candidates or self.stamp(candidates[0]) != list(state.checkpoint_stamp):
            return None
        return ResumePlan(
            "complete", state.completed_epochs, max_epochs, candidates[0], state.packaged
        )

    def epochs_in_checkpoint(self, path: Path) -> int:
        """Epochs finished when ``path`` was saved; CockpitError if it is unreadable."""
        checkpoint = read_checkpoint(path)
        try:
            # "processed" counts epochs whose training finished, for a checkpoint written at
            # an epoch's end as well as one written mid-epoch by a cancel
            progress = checkpoint.get("loops", {}).get("fit_loop", {}).get("epoch_progress")
            if progress:
                return int(progress["current"]["processed"])
            return int(checkpoint["epoch"]) + 1
        except Exception as exc:
            raise UnreadableCheckpoint(path, f"no epoch count: {_reason(exc)}") from exc

    def plan(self, max_epochs: int) -> ResumePlan:
        """What a fit must do; skips unreadable checkpoints for the newest readable one.

        CockpitError when checkpoints exist and none of them can be read: starting over
        would overwrite them, so that takes ``--restart``."""
        state = self.state()
        known = self._complete_from_state(state, max_epochs)
        if known is not None:
            return known
        unreadable: list[UnreadableCheckpoint] = []
        source: Path | None = None
        done = 0
        for candidate in self.resume_candidates():
            try:
                done = self.epochs_in_checkpoint(candidate)
            except UnreadableCheckpoint as exc:
                unreadable.append(exc)
                continue
            source = candidate
            break
        if source is None:
            if unreadable:
                raise unreadable[0]
            return ResumePlan("new", 0, max_epochs, None)
        skipped = tuple(
            f"checkpoint {exc.path.name} is unreadable ({exc.reason}); using the newest "
            f"readable one, {source.name} (epoch {done})"
            for exc in unreadable
        )
        found = {"skipped": skipped, "unreadable": tuple(exc.path for exc in unreadable)}
        if state.finished and (state.stopped_early or done >= max_epochs):
            return ResumePlan("complete", done, max_epochs, source, state.packaged, **found)
        if done >= max_epochs:
            return ResumePlan("complete", done, max_epochs, source, state.packaged, **found)
        mode: Mode = "extend" if state.finished else "resume"
        return ResumePlan(mode, done, max_epochs, source, **found)

    def set_aside(self, paths: tuple[Path, ...] | None = None) -> Path | None:
        """Move the checkpoints (or just ``paths``) out of the way, for ``--restart`` or
        because they are unreadable; returns where they went."""
        chosen = (
            paths
            if paths is not None
            else (self.last, self.interrupted, self.best, self.state_file)
        )
        files = [p for p in chosen if p.exists()]
        if not files:
            return None
        target = self.dir / f"corrupt-{time.strftime('%Y%m%d-%H%M%S')}"
        target.mkdir(parents=True, exist_ok=True)
        for path in files:
            shutil.move(str(path), target / path.name)
        return target

"""What a job's ``metrics.jsonl`` says, as growing numpy arrays for the plots (no Qt).

Lines (see core/training/callbacks.py and core/tuning/study.py):
``{"kind": "step"|"epoch", "step", "epoch", "split", "loss", "acc", "lr", "time"}``,
``{"kind": "trial_start", "trial", "params"}`` and
``{"kind": "trial", "number", "value", "state", "params", "n_trials", "metric", "direction"}``.

A tune job's epoch lines follow the ``trial_start`` of their trial: each trial gets its own
:class:`RunCurves`. Epoch lines without a learning rate come from the evaluation of the
best weights after the fit (valid and test): they are results, not curve points.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: curve name -> (plot, title in the legend)
CURVES = {
    "train_step": ("loss", "train (step)"),
    "train_loss": ("loss", "train"),
    "valid_loss": ("loss", "valid"),
    "train_acc": ("acc", "train"),
    "valid_acc": ("acc", "valid"),
}


class Series:
    """x/y float arrays that grow by doubling (amortised O(1) per point). A point whose x is
    not past the last one rewinds the series first: a resumed training repeats its steps."""

    def __init__(self) -> None:
        self._x = np.empty(64)
        self._y = np.empty(64)
        self.size = 0
        self.version = 0

    def append(self, x: float, y: float) -> None:
        if self.size and x <= self._x[self.size - 1]:
            self.size = int(np.searchsorted(self._x[: self.size], x, side="left"))
        if self.size == len(self._x):
            self._x = np.concatenate([self._x, np.empty_like(self._x)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._x[self.size] = x
        self._y[self.size] = y
        self.size += 1
        self.version += 1

    @property
    def x(self) -> np.ndarray:
        # a view: later appends write past its end (or into a new buffer), never into it
        return self._x[: self.size]

    @property
    def y(self) -> np.ndarray:
        return self._y[: self.size]

    def last(self) -> float | None:
        return float(self._y[self.size - 1]) if self.size else None


@dataclass
class RunCurves:
    """One training: the job's, or one trial's of a tune job."""

    trial: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    curves: dict[str, Series] = field(default_factory=lambda: {k: Series() for k in CURVES})
    results: dict[str, float] = field(default_factory=dict)  # best weights: valid_acc, test_loss…
    epoch: int | None = None
    step: int | None = None
    epoch_ends: dict[int, int] = field(default_factory=dict)  # epoch (from 1) -> its last step
    serial: int = field(default_factory=itertools.count().__next__)  # unlike id(), never reused

    def add(self, record: dict[str, Any]) -> None:
        step, split = record.get("step"), record.get("split")
        loss, acc = _number(record.get("loss")), _number(record.get("acc"))
        if not isinstance(step, int | float):
            return
        self.step = max(self.step or 0, int(step))
        if record.get("kind") == "step":
            if loss is not None:
                self.curves["train_step"].append(step, loss)
            return
        epoch = record.get("epoch")
        if record.get("lr") is None and split in ("valid", "test"):
            for name, value in (("loss", loss), ("acc", acc)):
                if value is not None:
                    self.results[f"{split}_{name}"] = value
            return
        if split not in ("train", "valid"):
            return
        if loss is not None:
            self.curves[f"{split}_loss"].append(step, loss)
        if acc is not None and isinstance(epoch, int | float):
            self.curves[f"{split}_acc"].append(epoch + 1, acc)
        if isinstance(epoch, int | float):
            self.epoch = int(epoch) + 1
            if self.epoch_ends.get(self.epoch) != int(step):
                self.epoch_ends[self.epoch] = int(step)
                # a resumed training repeats epochs: later ends belong to the old run
                for later in [e for e in self.epoch_ends if e > self.epoch]:
                    del self.epoch_ends[later]

    def x_values(self, name: str, axis: str) -> np.ndarray:
        """The x of curve ``name`` on an ``axis`` of "epochs" or "steps": loss curves are
        recorded by step and accuracy by epoch; each is converted through the steps at which
        the epochs ended (steps past the last ended epoch go on at its pace)."""
        series = self.curves[name]
        by_step = CURVES[name][0] == "loss"
        if (axis == "steps") == by_step or not series.size:
            return series.x
        epochs = np.array(sorted(self.epoch_ends), dtype=float)
        steps = np.array([self.epoch_ends[int(e)] for e in epochs], dtype=float)
        epochs, steps = np.append(0.0, epochs), np.append(0.0, steps)
        if axis == "epochs":
            return _through(series.x, steps, epochs, self.step or 1)
        return _through(series.x, epochs, steps, None)


def _through(x: np.ndarray, xp: np.ndarray, fp: np.ndarray, first: float | None) -> np.ndarray:
    """Piecewise-linear map of ``x`` through the points (xp, fp), extended past the last
    point with the last segment's slope (or ``first`` x per 1 of f before any segment)."""
    if len(xp) > 1:
        slope = (fp[-1] - fp[-2]) / max(xp[-1] - xp[-2], 1e-12)
    elif first is not None:
        slope = 1.0 / max(first, 1.0)  # the first epoch: as far as it has got
    else:
        slope = 0.0
    out = np.interp(x, xp, fp)
    past = x > xp[-1]
    out[past] = fp[-1] + (x[past] - xp[-1]) * slope
    return out


@dataclass
class Trial:
    number: int
    value: float | None
    state: str  # complete | pruned | fail
    params: dict[str, Any]
    time: float | None


class JobMetrics:
    """Everything read so far from one job's metrics file. ``version`` grows with every
    change, so a view redraws only what changed."""

    def __init__(self) -> None:
        self.version = 0
        self.trials_version = 0  # grows only with trial lines (and clear)
        self.clear()

    def clear(self) -> None:
        """Forget everything (the file was truncated); the versions keep growing, so a view
        never mistakes the new content for what it drew before."""
        self.runs: list[RunCurves] = [RunCurves()]
        self.trials: dict[int, Trial] = {}
        self.metric: str | None = None
        self.direction = "maximize"
        self.n_trials: int | None = None
        self.is_study = False
        self.lines = 0
        self.bad_lines = 0
        self.version += 1
        self.trials_version += 1
        self.last_time: float | None = None

    @property
    def current(self) -> RunCurves:
        return self.runs[-1]

    def feed(self, lines: list[str]) -> None:
        for line in lines:
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except ValueError:
                self.bad_lines += 1  # a line cut by a crash: skip it, keep reading
                continue
            if isinstance(record, dict):
                self.add(record)
        if lines:
            self.version += 1

    def add(self, record: dict[str, Any]) -> None:
        self.lines += 1
        kind = record.get("kind")
        if isinstance(record.get("time"), int | float):
            self.last_time = float(record["time"])
        if kind == "trial_start":
            self.is_study = True
            trial = record.get("trial")
            if self.current.trial is None and not self.current.step:
                self.runs.pop()  # the empty run a job starts with
            self.runs.append(RunCurves(trial=trial, params=dict(record.get("params") or {})))
        elif kind == "trial":
            self._add_trial(record)
        elif kind in ("step", "epoch"):
            self.current.add(record)

    def _add_trial(self, record: dict[str, Any]) -> None:
        self.is_study = True
        number = record.get("number")
        if not isinstance(number, int):
            return
        self.trials_version += 1
        self.metric = record.get("metric") or self.metric
        self.direction = record.get("direction") or self.direction
        self.n_trials = record.get("n_trials") or self.n_trials
        self.trials[number] = Trial(
            number,
            _number(record.get("value")),
            str(record.get("state") or "complete"),
            dict(record.get("params") or {}),
            record.get("time"),
        )

    # --- study views ---------------------------------------------------------------------
    def trial_points(self, state: str) -> tuple[np.ndarray, np.ndarray]:
        """Trial numbers and values of the trials in ``state`` that have a value."""
        chosen = [t for t in sorted(self.trials.values(), key=lambda t: t.number)]
        chosen = [t for t in chosen if t.state == state and t.value is not None]
        return (
            np.array([t.number for t in chosen], dtype=float),
            np.array([t.value for t in chosen], dtype=float),
        )

    def failed_trials(self) -> list[int]:
        return sorted(t.number for t in self.trials.values() if t.state == "fail")

    def best_so_far(self) -> tuple[np.ndarray, np.ndarray]:
        """A step line through the best value of the completed trials up to each trial
        number, drawn to the last finished trial."""
        numbers, values = self.trial_points("complete")
        if not len(numbers):
            return np.empty(0), np.empty(0)
        better = np.maximum if self.direction == "maximize" else np.minimum
        best = better.accumulate(values)
        end = float(max(self.trials))
        xs = np.repeat(numbers, 2)[1:]
        ys = np.repeat(best, 2)[:-1]
        return np.append(xs, max(end, numbers[-1])), np.append(ys, best[-1])

    def best_trial(self) -> Trial | None:
        done = [t for t in self.trials.values() if t.state == "complete" and t.value is not None]
        if not done:
            return None
        pick = max if self.direction == "maximize" else min
        return pick(done, key=lambda t: t.value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None

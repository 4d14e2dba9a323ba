"""What the Live panel makes of metrics.jsonl lines (no Qt)."""

import json

import numpy as np
import pytest

from cockpit.panels.live.metrics import JobMetrics, Series


def lines(*records):
    return [json.dumps(r) for r in records]


def epoch(step, n, split, loss, acc, lr=0.01):
    return {
        "kind": "epoch",
        "step": step,
        "epoch": n,
        "split": split,
        "loss": loss,
        "acc": acc,
        "lr": lr,
    }


def test_series_grows_past_its_buffer_and_rewinds_on_repeated_steps():
    series = Series()
    for i in range(1000):
        series.append(i, i * 2.0)
    assert series.size == 1000 and series.y[-1] == 1998.0
    view = series.x
    series.append(500, -1.0)  # a resumed training repeats steps from its checkpoint
    assert series.size == 501 and series.y[-1] == -1.0
    assert view[600] == 600  # an earlier view is never written into
    assert list(series.x[-3:]) == [498, 499, 500]


def test_training_lines_become_curves_and_best_weights_become_results():
    metrics = JobMetrics()
    recorded = lines(
        {"kind": "step", "step": 10, "epoch": 0, "split": "train", "loss": 1.0, "lr": 0.01},
        epoch(20, 0, "valid", 0.9, 0.5),
        epoch(20, 0, "train", 0.95, 0.45),
        {"kind": "step", "step": 30, "epoch": 1, "split": "train", "loss": float("nan")},
        epoch(40, 1, "valid", 0.7, 0.6),
        epoch(40, 1, "train", 0.75, 0.55),
        epoch(0, 0, "valid", 0.7, 0.6, lr=None),  # evaluation of the best weights
        epoch(0, 0, "test", 0.72, 0.58, lr=None),
    )
    metrics.feed([*recorded, '{"kind": "step", "step": 50, "lo'])  # the last one cut by a crash
    run = metrics.current
    assert list(run.curves["train_step"].x) == [10]  # NaN left out
    assert list(run.curves["valid_loss"].x) == [20, 40]
    assert list(run.curves["valid_acc"].x) == [1, 2]  # epochs counted from 1
    assert run.results == {"valid_loss": 0.7, "valid_acc": 0.6, "test_loss": 0.72, "test_acc": 0.58}
    assert run.epoch == 2 and metrics.bad_lines == 1 and not metrics.is_study


def test_trials_split_the_epoch_lines_and_best_so_far_follows_the_direction():
    metrics = JobMetrics()
    records = []
    for number, value, state in ((0, 0.5, "complete"), (1, 0.8, "pruned"), (2, 0.3, "complete"),
                                 (3, None, "fail"), (4, 0.4, "complete")):  # fmt: skip
        records.append({"kind": "trial_start", "trial": number, "params": {"lr": 0.1 * number}})
        if value is not None:
            records.append(epoch(5, 0, "valid", value, 1 - value))
        records.append({"kind": "trial", "number": number, "value": value, "state": state,
                        "params": {}, "n_trials": 5, "metric": "valid_loss",
                        "direction": "minimize"})  # fmt: skip
    metrics.feed(lines(*records))
    assert metrics.is_study and [run.trial for run in metrics.runs] == [0, 1, 2, 3, 4]
    assert metrics.current.curves["valid_loss"].last() == 0.4
    assert metrics.failed_trials() == [3]
    x, y = metrics.trial_points("pruned")
    assert list(x) == [1] and list(y) == [0.8]
    bx, by = metrics.best_so_far()
    assert list(bx) == [0, 2, 2, 4, 4, 4] and list(by) == [0.5, 0.5, 0.3, 0.3, 0.3, 0.3]
    assert metrics.best_trial().number == 2
    metrics.feed(lines({"kind": "trial", "number": 4, "value": 0.1, "state": "complete",
                        "direction": "minimize"}))  # fmt: skip
    assert metrics.best_so_far()[1][-1] == pytest.approx(0.1)  # a resumed study rewrites trials
    assert np.all(np.diff(metrics.best_so_far()[1]) <= 0)

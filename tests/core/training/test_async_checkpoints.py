"""Checkpoints written by a background thread during a fit: the state of the moment they
were saved, in order, on disk when the fit ends; a failed write still stops the fit."""

from __future__ import annotations

import pytest
import torch

from core.errors import CockpitError
from core.training import checkpoint_io
from core.training.checkpoint_io import CheckpointWriteError, SafeCheckpointIO
from core.training.checkpoints import read_checkpoint


def test_asynchronous_writes_keep_the_state_of_the_moment_and_finish_by_teardown(tmp_path):
    io = SafeCheckpointIO(asynchronous=True)
    weights = torch.zeros(3)
    for epoch in range(3):
        weights += 1  # training goes on changing the tensors after each save
        io.save_checkpoint({"epoch": epoch, "state_dict": {"w": weights}}, tmp_path / "last.ckpt")
    io.teardown()
    saved = read_checkpoint(tmp_path / "last.ckpt")
    assert saved["epoch"] == 2 and saved["state_dict"]["w"].tolist() == [3.0, 3.0, 3.0]
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]


def test_a_failed_asynchronous_write_stops_the_fit(tmp_path, monkeypatch):
    def full_disk(path, data):
        raise CockpitError(f"cannot write {path}: No space left on device")

    io = SafeCheckpointIO(asynchronous=True)
    monkeypatch.setattr(checkpoint_io, "atomic_write_bytes", full_disk)
    io.save_checkpoint({"epoch": 0, "state_dict": {}}, tmp_path / "last.ckpt")
    with pytest.raises(CheckpointWriteError, match="No space left on device.*resume"):
        io.teardown()
    io = SafeCheckpointIO(asynchronous=True)
    io.save_checkpoint({"epoch": 0, "state_dict": {}}, tmp_path / "last.ckpt")
    io._pending[0].exception()  # the write has failed by now
    with pytest.raises(CheckpointWriteError):  # ... and the next save says so
        io.save_checkpoint({"epoch": 1, "state_dict": {}}, tmp_path / "last.ckpt")
    io.teardown()


def _state(epoch: int, weights: torch.Tensor) -> dict:
    return {
        "epoch": epoch,
        "global_step": 10 * (epoch + 1),
        "loops": {"fit_loop": {"epoch_progress": {"current": {"completed": epoch + 1}}}},
        "state_dict": {"w": weights},
    }


@pytest.mark.parametrize("asynchronous", [True, False])
def test_one_training_state_is_serialised_once_and_written_as_two_files(
    tmp_path, monkeypatch, asynchronous
):
    serialised = []
    real_save = torch.save
    monkeypatch.setattr(
        torch, "save", lambda obj, f: serialised.append(obj["epoch"]) or real_save(obj, f)
    )
    io = SafeCheckpointIO(asynchronous=asynchronous, budget=0.05)
    weights = torch.zeros(3)
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    io.save_checkpoint(_state(0, weights), best)
    io.save_checkpoint(_state(0, weights), last)  # same epoch, step and progress
    io.wait()
    assert serialised == [0]
    assert best.read_bytes() == last.read_bytes()
    assert best.stat().st_ino != last.stat().st_ino  # two files: each the other's fallback
    weights += 1
    io.save_checkpoint(_state(1, weights), last)  # an epoch that did not improve
    io.teardown()
    assert serialised == [0, 1]
    assert read_checkpoint(best)["state_dict"]["w"].tolist() == [0.0, 0.0, 0.0]
    assert read_checkpoint(last)["state_dict"]["w"].tolist() == [1.0, 1.0, 1.0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.ckpt", "last.ckpt"]


def test_a_paced_checkpoint_waits_in_memory_and_is_written_when_the_fit_ends(tmp_path):
    io = SafeCheckpointIO(asynchronous=True, budget=0.05)
    weights = torch.zeros(3)
    last, interrupted = tmp_path / "last.ckpt", tmp_path / "interrupted.ckpt"
    io.save_checkpoint(_state(0, weights), last)  # the first is written: its cost is measured
    io.wait()
    assert read_checkpoint(last)["epoch"] == 0
    io._cost[last] = 3600.0  # as if writing it took an hour: the next ones must wait
    for epoch in (1, 2):
        weights += 1  # the copy kept in memory is the state of its moment
        io.save_checkpoint(_state(epoch, weights), last)
    io.wait()
    assert read_checkpoint(last)["epoch"] == 0  # a kill -9 now resumes from epoch 0
    weights += 1
    io.save_checkpoint(_state(2, weights) | {"global_step": 25}, interrupted)  # never paced
    io.teardown()
    saved = read_checkpoint(last)
    assert saved["epoch"] == 2 and saved["state_dict"]["w"].tolist() == [2.0, 2.0, 2.0]
    # written last, but its state is older than the interruption's: resume picks that
    assert last.stat().st_mtime < interrupted.stat().st_mtime


def test_without_a_budget_every_checkpoint_is_written_when_saved(tmp_path):
    io = SafeCheckpointIO(asynchronous=True)
    weights = torch.zeros(3)
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    io.save_checkpoint(_state(0, weights), best)
    io.save_checkpoint(_state(0, weights), last)
    io._cost[last] = 3600.0
    io.save_checkpoint(_state(1, weights), last)
    io.wait()
    assert read_checkpoint(last)["epoch"] == 1
    io.teardown()

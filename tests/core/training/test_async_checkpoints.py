"""Checkpoints written by a background thread during a fit: the state of the moment they
were saved, in order, on disk when the fit ends; a failed write still stops the fit."""

from __future__ import annotations

import time

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


def _expensive(io: SafeCheckpointIO) -> None:
    """As if the last written checkpoints took an hour: the next ones must wait."""
    io.wait()
    io._group = (time.perf_counter(), [3600.0])


def test_paced_checkpoints_wait_in_memory_and_are_written_when_the_fit_ends(tmp_path):
    io = SafeCheckpointIO(asynchronous=True, budget=0.05)
    weights = torch.zeros(3)
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    interrupted = tmp_path / "interrupted.ckpt"
    io.save_checkpoint(_state(0, weights), best)  # the first are written: their cost is measured
    io.save_checkpoint(_state(0, weights), last)
    _expensive(io)
    assert read_checkpoint(last)["epoch"] == 0
    for epoch in (1, 2):
        weights += 1  # the copies kept in memory are the state of their moment
        if epoch == 1:
            io.save_checkpoint(_state(epoch, weights), best)  # epoch 1 improved
        io.save_checkpoint(_state(epoch, weights), last)
    io.wait()
    # a kill -9 now resumes from epoch 0, and both files still agree
    assert read_checkpoint(last)["epoch"] == read_checkpoint(best)["epoch"] == 0
    weights += 1
    io.save_checkpoint(_state(2, weights) | {"global_step": 25}, interrupted)  # never paced
    io.teardown()
    assert read_checkpoint(best)["state_dict"]["w"].tolist() == [1.0, 1.0, 1.0]
    saved = read_checkpoint(last)
    assert saved["epoch"] == 2 and saved["state_dict"]["w"].tolist() == [2.0, 2.0, 2.0]
    # written last, but its state is older than the interruption's: resume picks that
    assert last.stat().st_mtime < interrupted.stat().st_mtime


def test_a_best_kept_back_is_written_before_a_later_last(tmp_path):
    io = SafeCheckpointIO(asynchronous=True, budget=0.05)
    weights = torch.zeros(3)
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    io.save_checkpoint(_state(0, weights), last)
    _expensive(io)
    weights += 1
    io.save_checkpoint(_state(1, weights), best)  # improved, kept back with its last
    io.save_checkpoint(_state(1, weights), last)
    assert not best.exists()
    io._group = None  # the budget allows a write again
    weights += 1
    io.save_checkpoint(_state(2, weights), last)  # did not improve
    io.wait()
    assert read_checkpoint(best)["epoch"] == 1 and read_checkpoint(last)["epoch"] == 2
    io.teardown()
    assert read_checkpoint(last)["epoch"] == 2  # the older last kept back is not written


def test_without_a_budget_every_checkpoint_is_written_when_saved(tmp_path):
    io = SafeCheckpointIO(asynchronous=True)
    weights = torch.zeros(3)
    best, last = tmp_path / "best.ckpt", tmp_path / "last.ckpt"
    io.save_checkpoint(_state(0, weights), best)
    io.save_checkpoint(_state(0, weights), last)
    _expensive(io)
    io.save_checkpoint(_state(1, weights), last)
    io.wait()
    assert read_checkpoint(last)["epoch"] == 1
    io.teardown()


def test_a_large_state_waits_from_the_start_a_small_one_is_written_at_once(tmp_path):
    small, large = tmp_path / "small", tmp_path / "large"
    for folder, weights in ((small, torch.zeros(1000)), (large, torch.zeros(4_000_000))):
        folder.mkdir()
        io = SafeCheckpointIO(asynchronous=True, budget=0.05)
        io.save_checkpoint(_state(0, weights), folder / "last.ckpt")
        io.wait()
        written = (folder / "last.ckpt").exists()
        # 16 MB of tensors cost ~0.13 s to write beside training: 2.6 s must pass first
        assert written == (folder is small)
        io.teardown()
        assert read_checkpoint(folder / "last.ckpt")["epoch"] == 0

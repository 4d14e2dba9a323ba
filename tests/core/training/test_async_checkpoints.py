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

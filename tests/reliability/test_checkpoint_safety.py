"""Checkpoints that never run code, survive a full disk, and a restart in a run of its own.

Real parts throughout: files written by torch and Lightning, the `cockpit` command in a
subprocess, the MLflow store, and a real full disk (a small tmpfs) where mounting is allowed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mlflow.tracking import MlflowClient
from sqlalchemy import delete

from core.db import Model, open_database
from core.errors import CockpitError
from core.history.delete import plan_delete
from core.training.checkpoint_io import SafeCheckpointIO
from core.training.checkpoints import CheckpointManager, UnreadableCheckpoint, read_checkpoint
from core.training.restore import load_trained
from core.training.run import train_experiment
from tests.core.training.conftest import TINY, tiny_params

pytestmark = pytest.mark.filterwarnings("ignore")

REPO_ROOT = Path(__file__).resolve().parents[2]


class _Planted:
    """What an attacker leaves as a checkpoint: unpickling it runs a shell command."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _plant(path: Path, marker: Path, *, legacy: bool = False) -> None:
    if legacy:
        path.write_bytes(pickle.dumps({"state_dict": _Planted(marker)}))
    else:
        torch.save({"epoch": 1, "state_dict": {}, "payload": _Planted(marker)}, path)


def _cockpit(ws, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), *sys.path[1:]])}
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )


def _tiny_sets(*extra: str) -> list[str]:
    return [a for s in [*TINY, *extra] for a in ("--set", s)]


def quiet(_line):
    pass


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("legacy", [False, True], ids=["torch-zip", "plain-pickle"])
def test_a_planted_checkpoint_is_refused_and_never_runs(tmp_path, legacy):
    marker = tmp_path / "ran"
    planted = tmp_path / "last.ckpt"
    _plant(planted, marker, legacy=legacy)
    with pytest.raises(UnreadableCheckpoint, match=r"last\.ckpt is unreadable.*could run code"):
        read_checkpoint(planted)
    with pytest.raises(UnreadableCheckpoint):
        SafeCheckpointIO().load_checkpoint(planted, weights_only=False)  # Lightning's resume
    assert not marker.exists()
    # the planted file is live: an unrestricted load (what the code did before) runs it,
    # a plain pickle before torch finds it is no checkpoint
    with contextlib.suppress(RuntimeError):
        torch.load(planted, weights_only=False)
    assert marker.exists()


def test_a_full_disk_mid_write_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "last.ckpt"
    io = SafeCheckpointIO()
    io.save_checkpoint({"epoch": 0, "state_dict": {"w": torch.ones(3)}}, path)
    before = _sha(path)
    real_fdopen = os.fdopen

    class FillsUp:
        """A file whose disk fills after half of the data: a real partial write."""

        def __init__(self, handle):
            self.handle = handle

        def write(self, data):
            self.handle.write(data[: len(data) // 2])
            self.handle.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def __getattr__(self, name):
            return getattr(self.handle, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.handle.close()

    monkeypatch.setattr(os, "fdopen", lambda fd, mode: FillsUp(real_fdopen(fd, mode)))
    with pytest.raises(CockpitError, match="No space left on device.*saved before are intact"):
        io.save_checkpoint({"epoch": 1, "state_dict": {"w": torch.zeros(1000)}}, path)
    monkeypatch.undo()
    assert _sha(path) == before
    assert read_checkpoint(path)["epoch"] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["last.ckpt"]  # no temporary file left


@pytest.mark.slow
def test_planted_checkpoints_in_an_experiment_are_never_run(shapes_workspace, tmp_path):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    manager = CheckpointManager(ws.experiment_dir(first.experiment_id))
    marker = tmp_path / "ran"

    # a planted last.ckpt: preview and train skip it for the readable best.ckpt, and say so
    _plant(manager.last, marker)
    preview = _cockpit(ws, "config", "preview", "--theme", "shapes", *_tiny_sets())
    assert preview.returncode == 0, preview.stderr
    assert "note: checkpoint last.ckpt is unreadable (it holds objects other" in preview.stdout
    train = _cockpit(ws, "train", "--theme", "shapes", *_tiny_sets())
    assert train.returncode == 0, train.stderr
    assert "checkpoint last.ckpt is unreadable" in train.stdout
    assert "using the newest readable one, best.ckpt" in train.stdout
    assert list(manager.dir.glob("corrupt-*/last.ckpt"))  # set aside, not overwritten
    assert not marker.exists()

    # a planted best.ckpt: restoring the experiment's weights (plots, predictions) refuses it
    _plant(manager.best, marker)
    with pytest.raises(UnreadableCheckpoint, match=r"best\.ckpt is unreadable.*--restart"):
        load_trained(ws, first.experiment_id)
    assert not marker.exists()


@pytest.mark.slow
def test_only_planted_checkpoints_stop_train_in_one_line_and_restart_recovers(
    shapes_workspace, tmp_path
):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    manager = CheckpointManager(ws.experiment_dir(first.experiment_id))
    marker = tmp_path / "ran"
    for path in (manager.last, manager.best):
        _plant(path, marker)
    for command in (["config", "preview"], ["train"]):
        result = _cockpit(ws, *command, "--theme", "shapes", *_tiny_sets())
        assert result.returncode == 2
        [line] = result.stderr.strip().splitlines()
        assert "last.ckpt is unreadable" in line and "--restart" in line
    assert not marker.exists()
    # the advised command works
    restarted = _cockpit(ws, "train", "--theme", "shapes", "--restart", *_tiny_sets())
    assert restarted.returncode == 0, restarted.stderr
    assert read_checkpoint(manager.last)["epoch"] == 1
    assert not marker.exists()


@pytest.mark.slow
def test_restart_logs_into_a_new_run_and_closes_the_old_one(shapes_workspace):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws, "max_epochs=1"), echo=quiet)
    # as a process killed mid-fit leaves it: the run open, no model recorded in the database
    client = MlflowClient(ws.mlflow_tracking_uri)
    client.update_run(first.run_id, status="RUNNING")
    with open_database(ws).session() as session:
        session.execute(delete(Model).where(Model.mlflow_run_id == first.run_id))
    again = train_experiment(
        ws, "shapes", tiny_params(ws, "max_epochs=1"), restart=True, echo=quiet
    )
    assert again.run_id and again.run_id != first.run_id
    assert client.get_run(first.run_id).info.status == "KILLED"  # kept, closed
    assert client.get_run(again.run_id).info.status == "FINISHED"
    for run_id in (first.run_id, again.run_id):
        assert [m.step for m in client.get_metric_history(run_id, "valid_loss")] == [0]
    # deleting the experiment from the history deletes both of its runs
    assert set(plan_delete(ws, first.experiment_id).run_ids) == {first.run_id, again.run_id}


def _mount_tmpfs(folder: Path, size: int) -> None:
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        pytest.skip(f"a small tmpfs is needed for a real full disk: {result.stderr.strip()}")


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="tmpfs is Linux only")
def test_a_full_disk_during_training_keeps_the_checkpoint_and_the_same_command_resumes(
    shapes_workspace,
):
    ws = shapes_workspace
    first = train_experiment(ws, "shapes", tiny_params(ws), echo=quiet)
    folder = ws.experiment_dir(first.experiment_id)
    saved = folder.with_name(folder.name + ".saved")
    folder.rename(saved)
    folder.mkdir()
    used = sum(p.stat().st_size for p in saved.rglob("*") if p.is_file())
    _mount_tmpfs(folder, used + (2 << 20))
    try:
        shutil.copytree(saved, folder, dirs_exist_ok=True)
        manager = CheckpointManager(folder)
        before = _sha(manager.last)
        # fill the disk up to half a checkpoint: the next checkpoint cannot be written
        room = os.statvfs(folder)
        free = room.f_bavail * room.f_frsize
        (folder / "filler").write_bytes(b"\0" * (free - manager.last.stat().st_size // 2))

        command = ["train", "--theme", "shapes", *_tiny_sets("max_epochs=3")]
        full = _cockpit(ws, *command)
        assert full.returncode == 2, full.stdout + full.stderr
        [line] = full.stderr.strip().splitlines()
        assert "last.ckpt: No space left on device" in line
        assert "run the same command to resume" in line
        assert _sha(manager.last) == before
        assert manager.epochs_in_checkpoint(manager.last) == 2
        for path in folder.glob("*.ckpt"):
            read_checkpoint(path)  # no empty or cut-short checkpoint anywhere
        assert not list(folder.glob(".*.tmp"))

        (folder / "filler").unlink()
        resumed = _cockpit(ws, *command)
        assert resumed.returncode == 0, resumed.stdout + resumed.stderr
        assert "adding 1 epoch(s)" in resumed.stdout
        assert manager.epochs_in_checkpoint(manager.last) == 3
    finally:
        subprocess.run(["umount", str(folder)], check=False)

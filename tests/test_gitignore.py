"""Runtime files never show up in `git status`: a workspace that is a git repository (as the
repository root is) trains, queues and runs jobs, and git sees no change. Checked with the
`.gitignore` that `cockpit init` writes and with the repository's own."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "GIT_CONFIG_NOSYSTEM": "1"}
    env.pop("COCKPIT_WORKSPACE", None)
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"{args}: {done.stderr}"
    return done


def git(*args: str, cwd: Path) -> str:
    identity = ["-c", "user.name=t", "-c", "user.email=t@example.com"]
    return run(["git", *identity, *args], cwd).stdout


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_training_and_the_queue_leave_git_status_clean(tmp_path):
    workspace = tmp_path / "ws"
    cockpit = [sys.executable, "-m", "cockpit", "-w", str(workspace)]
    run([*cockpit, "init"], tmp_path)
    git("init", "-q", cwd=workspace)
    git("add", "-A", cwd=workspace)
    git("commit", "-qm", "workspace", cwd=workspace)

    run([*cockpit, "demo", "--per-class", "10", "--epochs", "1"], tmp_path)
    run([*cockpit, "submit", "check", "--no-runner"], tmp_path)
    run([*cockpit, "runner"], tmp_path)
    run([*cockpit, "queue", "list"], tmp_path)
    assert (workspace / "queue" / "runner.lock").exists()
    assert list((workspace / "queue" / "finished").glob("*.json"))
    assert (workspace / "mlflow.db").exists() and (workspace / "database.db").exists()

    assert git("status", "--porcelain", "--untracked-files=all", cwd=workspace) == ""
    # the repository root is a workspace too: its .gitignore must cover the same files
    shutil.copyfile(ROOT / ".gitignore", workspace / ".gitignore")
    changed = git("status", "--porcelain", "--untracked-files=all", cwd=workspace)
    assert changed.splitlines() == [" M .gitignore"], changed

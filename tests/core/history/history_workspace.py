"""One workspace with a real history, built once per test session and shared by the core
and the panel tests: two queued training jobs run by the job process's own function
(``core.jobs.run.run``, what the runner starts), one foreground training (no job), and
one job cancelled before it ran. Tests may add to it (plot jobs, runs they delete
themselves) but never change or delete these four."""

from __future__ import annotations

import contextlib
import io
import os
from dataclasses import dataclass

import pytest

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.jobs.queue import JobQueue
from core.jobs.run import run
from core.jobs.submit import submit_train
from core.processes import this_host
from core.scaffold import init_workspace
from core.workspace import Workspace
from tests.core.training.conftest import TINY


@dataclass(frozen=True)
class History:
    workspace: Workspace
    fast_job: str  # lr 0.01, 2 epochs
    slow_job: str  # lr 0.003, 3 epochs
    foreground: str  # experiment id of the training without a job
    cancelled_job: str


def train_job(workspace: Workspace, *overrides: str) -> str:
    """Queue a training job and run it the way the runner's job process does."""
    queue = JobQueue(workspace)
    submit_train(workspace, "shapes", _params(workspace, *overrides), start=False)
    job = queue.claim_next("cpu", this_host(), os.getpid())
    with contextlib.redirect_stdout(io.StringIO()):
        code = run(job)
    queue.finish(job, "finished" if code == 0 else "failed", code, None)
    return job.id


def _params(workspace: Workspace, *extra: str):
    # every training of the history is a registry version, whatever its accuracy
    return resolve_params(
        workspace, overrides=parse_overrides([*TINY, "registration=always", *extra])
    )


def build_history(root) -> History:
    workspace = init_workspace(root / "ws").workspace
    write_demo_images(root / "shapes", per_class=12, size=16, seed=3)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [root / "shapes"])
    fast = train_job(workspace, "lr=0.01")
    slow = train_job(workspace, "lr=0.003", "max_epochs=3")
    from core.training.run import train_experiment

    foreground = train_experiment(
        workspace, "shapes", _params(workspace, "lr=0.02", "seed=7"), echo=lambda _l: None
    )
    cancelled = submit_train(workspace, "shapes", _params(workspace, "lr=0.05"), start=False)
    JobQueue(workspace).cancel(cancelled.id)
    return History(workspace, fast, slow, foreground.experiment_id, cancelled.id)


_built: dict[str, History] = {}


@pytest.fixture(scope="session")
def history(tmp_path_factory) -> History:
    # a module-level cache: the core and the panel conftest each register this fixture,
    # and pytest would otherwise build it once per registration
    if "history" not in _built:
        _built["history"] = build_history(tmp_path_factory.mktemp("history"))
    return _built["history"]

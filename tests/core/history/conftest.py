"""One workspace with a real history, built once per test module: two queued training
jobs run by the job process's own function (``core.jobs.run.run``, what the runner
starts), one foreground training (no job), and one job cancelled before it ran."""

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
from core.jobs.model import this_host
from core.jobs.queue import JobQueue
from core.jobs.run import run
from core.jobs.submit import submit_train
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


def _params(workspace: Workspace, *extra: str):
    return resolve_params(workspace, overrides=parse_overrides([*TINY, *extra]))


def build_history(root) -> History:
    workspace = init_workspace(root / "ws").workspace
    write_demo_images(root / "shapes", per_class=12, size=16, seed=3)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [root / "shapes"])
    queue = JobQueue(workspace)
    job_ids = []
    for extra in (["lr=0.01"], ["lr=0.003", "max_epochs=3"]):
        submit_train(workspace, "shapes", _params(workspace, *extra), start=False)
        job = queue.claim_next("cpu", this_host(), os.getpid())
        with contextlib.redirect_stdout(io.StringIO()):
            code = run(job)
        queue.finish(job, "finished" if code == 0 else "failed", code, None)
        job_ids.append(job.id)
    from core.training.run import train_experiment

    foreground = train_experiment(
        workspace, "shapes", _params(workspace, "lr=0.02", "seed=7"), echo=lambda _l: None
    )
    cancelled = submit_train(workspace, "shapes", _params(workspace, "lr=0.05"), start=False)
    queue.cancel(cancelled.id)
    return History(workspace, job_ids[0], job_ids[1], foreground.experiment_id, cancelled.id)


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> History:
    return build_history(tmp_path_factory.mktemp("history"))

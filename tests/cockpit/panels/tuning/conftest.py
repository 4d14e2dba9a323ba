"""One real study for every test of the module: a tune job in a child process, stopped
with `cockpit study stop` after five complete or pruned trials."""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass

import pytest
from click.testing import CliRunner

from cockpit.cli.main import cli
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.scaffold import init_workspace
from core.tuning.results import StudySummary, list_studies
from core.workspace import Workspace

STUDY_NAME = "shapes_search"
N_TRIALS = 40
STOP_AFTER = 5
STUDY = f"""
study: {{name: {STUDY_NAME}, direction: minimize, metric: valid_loss, n_trials: {N_TRIALS},
         sampler: random, pruner: median}}
base_params: {{max_epochs: 3, image_size: 16, num_workers: 0, early_stopping_patience: 0}}
search_space:
  lr: {{type: float, low: 1.0e-3, high: 1.0e-1, log: true}}
  batch_size: {{type: int, low: 8, high: 16, step: 4}}
  dropout: {{type: float, low: 0.0, high: 0.5}}
  optimizer: {{type: categorical, choices: [adam, sgd]}}
"""


@dataclass
class StoppedStudy:
    workspace: Workspace
    returncode: int
    output: str
    done_at_stop: int  # complete or pruned trials when the stop was asked for
    stop_message: str
    summary: StudySummary


def _summary(workspace: Workspace) -> StudySummary | None:
    found = [s for s in list_studies(workspace) if s.name == STUDY_NAME]
    return found[0] if found else None


def _done(summary: StudySummary) -> int:
    return summary.counts["complete"] + summary.counts["pruned"]


@pytest.fixture(scope="module")
def stopped_study(tmp_path_factory) -> StoppedStudy:
    root = tmp_path_factory.mktemp("tuning")
    workspace = init_workspace(root / "ws").workspace
    write_demo_images(root / "shapes", per_class=12, size=16, seed=3)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [root / "shapes"])
    workspace.optuna_params_file.write_text(STUDY)
    log = root / "tune.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "cockpit",
                "-w",
                str(workspace.root),
                "tune",
                "--theme",
                "shapes",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.time() + 120
            summary = None
            while time.time() < deadline and process.poll() is None:
                summary = _summary(workspace) if workspace.optuna_db_file.exists() else None
                if summary is not None and _done(summary) >= STOP_AFTER:
                    break
                time.sleep(0.2)
            assert summary is not None and process.poll() is None, log.read_text()
            stop = CliRunner().invoke(cli, ["-w", str(workspace.root), "study", "stop", STUDY_NAME])
            assert stop.exit_code == 0, stop.output
            returncode = process.wait(timeout=120)
        finally:
            if process.poll() is None:
                process.kill()
    return StoppedStudy(
        workspace,
        returncode,
        log.read_text(),
        _done(summary),
        stop.output,
        _summary(workspace),
    )

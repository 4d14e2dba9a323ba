"""A history of a dozen runs and a study, written in seconds without training: the files
the training and the queue write (experiment records, state, confusion matrices, job
files with their per-epoch metric logs, trial files), in the formats they write them.

For the History/Compare/Queue panels, which only read these files."""

from __future__ import annotations

import hashlib
import json
import math
import random
import time

import yaml

from core.config.naming import common_defaults, derived_run_name
from core.fileio import atomic_write_text
from core.jobs.model import Job
from core.jobs.queue import JobQueue
from core.training.confusion import CONFUSION_FILE
from core.workspace import Workspace

#: ten labels, as a real classification theme has them
LABELS = (
    "cat",
    "dog",
    "bird",
    "horse",
    "ship",
    "truck",
    "frog",
    "deer",
    "plane",
    "car",
)
#: (lr, batch_size, optimizer, epochs) of the dozen trainings
GRID = [
    (lr, bs, opt, epochs)
    for lr, bs, opt, epochs in (
        (0.001, 32, "adam", 6),
        (0.01, 32, "adam", 6),
        (0.003, 64, "adam", 6),
        (0.01, 64, "sgd", 8),
        (0.03, 64, "sgd", 8),
        (0.001, 16, "adamw", 5),
        (0.0003, 32, "adamw", 5),
        (0.01, 128, "adam", 7),
        (0.003, 32, "sgd", 7),
        (0.001, 64, "adam", 6),
        (0.02, 32, "sgd", 6),
        (0.005, 16, "adam", 4),
    )
]
STUDY = "lr search"
BASE = {
    "dataset": "images",
    "model": "simple_cnn",
    "adapter": "classification",
    "run_name": "",
    "seed": 42,
    "image_size": 32,
    "weight_decay": 0.0,
    "scheduler": "none",
}


def _experiment_id(params: dict) -> str:
    text = json.dumps(params, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def _curves(rng: random.Random, epochs: int, quality: float) -> list[dict]:
    lines = []
    step = 0
    for epoch in range(epochs):
        step += 10
        progress = 1 - math.exp(-(epoch + 1) / 2.5)
        for split, noise in (("train", 0.0), ("valid", 0.03)):
            acc = min(0.99, 0.1 + quality * progress + rng.uniform(-noise, noise))
            loss = max(0.05, 2.3 * (1 - progress * quality) + rng.uniform(0, noise))
            lines.append(
                {
                    "kind": "epoch",
                    "step": step,
                    "split": split,
                    "epoch": epoch,
                    "loss": loss,
                    "acc": acc,
                }
            )
    return lines


def _confusion(rng: random.Random, accuracy: float, per_class: int = 20) -> list[list[int]]:
    matrix = []
    for row in range(len(LABELS)):
        counts = [0] * len(LABELS)
        for _ in range(per_class):
            counts[row if rng.random() < accuracy else rng.randrange(len(LABELS))] += 1
        matrix.append(counts)
    return matrix


def _experiment(
    workspace: Workspace,
    params: dict,
    theme: str,
    metrics: dict,
    epochs: int,
    confusion: list[list[int]] | None,
    trial: dict | None = None,
) -> str:
    experiment_id = _experiment_id({**params, "theme": theme, "trial": trial})
    folder = workspace.experiment_dir(experiment_id)
    record = {"theme": theme, "params": params}
    atomic_write_text(folder / "record" / "resolved_config.yaml", yaml.safe_dump(record))
    state = {
        "finished": True,
        "final_metrics": metrics,
        "completed_epochs": epochs,
        "max_epochs": epochs,
    }
    atomic_write_text(folder / "state.json", json.dumps(state))
    if confusion is not None:
        document = {"split": "test", "classes": list(LABELS), "matrix": confusion}
        atomic_write_text(folder / CONFUSION_FILE, json.dumps(document))
    if trial is not None:
        atomic_write_text(folder / "trial.json", json.dumps(trial))
    return experiment_id


def write_recorded_runs(workspace: Workspace, theme: str = "animals", seed: int = 5) -> dict:
    """Twelve finished trainings (queued jobs with curves and confusion matrices) and a
    study of five trials under its tune job. Returns {"jobs": [...], "tune_job": id,
    "trials": [experiment ids]}."""
    rng = random.Random(seed)
    queue = JobQueue(workspace)
    queue.ensure_folders()
    workspace.logs_dir.mkdir(parents=True, exist_ok=True)
    defaults = common_defaults()
    now = time.time() - 3600 * 24
    jobs = []
    for index, (lr, bs, opt, epochs) in enumerate(GRID):
        params = {**BASE, "lr": lr, "batch_size": bs, "optimizer": opt, "max_epochs": epochs}
        quality = 0.45 + 0.4 * rng.random()
        curves = _curves(rng, epochs, quality)
        valid = [c for c in curves if c["split"] == "valid"]
        best = max(valid, key=lambda c: c["acc"])
        test_acc = max(0.05, best["acc"] - rng.uniform(0, 0.05))
        metrics = {
            "valid_loss": min(c["loss"] for c in valid),
            "valid_acc": best["acc"],
            "test_loss": best["loss"] + 0.05,
            "test_acc": test_acc,
        }
        experiment_id = _experiment(
            workspace, params, theme, metrics, epochs, _confusion(rng, test_acc)
        )
        started = now + index * 600
        job = Job(
            kind="train",
            state="finished",
            workspace=str(workspace.root),
            theme=theme,
            name=derived_run_name(params, defaults),
            params=params,
            experiment_id=experiment_id,
            created_at=started - 5,
            started_at=started,
            finished_at=started + 60 + 30 * epochs,
            exit_code=0,
            device="cpu",
        )
        queue.write(job)
        log = "".join(json.dumps(line) + "\n" for line in curves)
        atomic_write_text(workspace.logs_dir / f"{job.id}.metrics.jsonl", log)
        jobs.append(job.id)

    study_start = now + len(GRID) * 600
    trials = []
    for number in range(5):
        lr = round(10 ** rng.uniform(-4, -1.5), 5)
        params = {**BASE, "lr": lr, "batch_size": 32, "optimizer": "adam", "max_epochs": 3}
        acc = 0.3 + 0.5 * rng.random()
        metrics = {
            "valid_loss": 2.0 - acc,
            "valid_acc": acc,
            "test_loss": 2.1 - acc,
            "test_acc": acc - 0.02,
        }
        trial = {"study": STUDY, "trial": number, "job_id": None, "state": "complete"}
        trials.append(
            _experiment(workspace, params, theme, metrics, 3, _confusion(rng, acc), trial)
        )
    tune = Job(
        kind="tune",
        state="finished",
        workspace=str(workspace.root),
        theme=theme,
        name=f"tune-{STUDY}",
        params={**BASE, "batch_size": 32, "max_epochs": 3},
        args={"study_name": STUDY, "n_trials": 5},
        created_at=study_start - 5,
        started_at=study_start,
        finished_at=study_start + 900,
        exit_code=0,
        device="cpu",
    )
    queue.write(tune)
    return {"jobs": jobs, "tune_job": tune.id, "trials": trials}

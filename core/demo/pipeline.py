"""``cockpit demo``: the headless end-to-end path on generated shapes — generate, import,
split, train, register, then predict held-out images through the registered model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import Theme, open_database
from core.demo.shapes import DEMO_CLASSES, write_demo_images
from core.workspace import Workspace

DEMO_THEME = "demo-shapes"
# Greyscale: the shapes' random colours are noise to a network this small (measured:
# ~90% test accuracy in greyscale, ~70% in colour, same data and epochs).
DEMO_SETTINGS = (
    "dataset=images",
    "model=simple_cnn",
    "adapter=classification",
    "image_mode=L",
    "image_size=32",
    "batch_size=16",
    "lr=0.005",
    "optimizer=adam",
    "scheduler=none",
    "early_stopping_patience=5",
    "num_workers=0",
    "brightness=none",
    "patch_grid=1",
)


@dataclass(frozen=True)
class DemoResult:
    experiment_id: str
    model_name: str
    model_version: str | None
    test_metrics: dict[str, float]
    holdout_accuracy: float
    holdout_folder: Path


def run_demo(
    workspace: Workspace,
    *,
    per_class: int = 200,
    epochs: int = 30,
    echo: Callable[[str], None] = print,
) -> DemoResult:
    import torch

    from core.training.run import train_experiment

    # One thread: this network is so small that a second intra-op thread only adds
    # synchronisation, and on a busy machine its spin-waits multiply the time (measured on
    # 2 shared cores: 99 s of CPU time with two threads, 22 s with one, same data).
    torch.set_num_threads(1)
    workspace.ensure_dirs()
    root = workspace.root / "output" / "demo"
    echo(
        f"generating {per_class} images per class ({', '.join(DEMO_CLASSES)}) in "
        f"{workspace.relative(root)}"
    )
    write_demo_images(root / "train", per_class=per_class, size=48, seed=1)
    holdout = root / "holdout"
    write_demo_images(holdout, per_class=10, size=48, seed=2)

    db = open_database(workspace)
    with db.session() as session:
        exists = session.scalar(select(Theme.id).where(Theme.name == DEMO_THEME)) is not None
    if not exists:
        create_theme(db, DEMO_THEME, description="generated shapes (cockpit demo)")
    report = import_images(db, workspace, DEMO_THEME, [root / "train"])
    echo(
        f"imported {report.imported} image(s) into theme {DEMO_THEME!r} "
        f"({len(report.duplicates)} already there)"
    )

    params = resolve_params(
        workspace,
        overrides=parse_overrides([*DEMO_SETTINGS, f"max_epochs={epochs}"]),
        read_params_file=False,
    )
    outcome = train_experiment(workspace, DEMO_THEME, params, echo=echo)
    accuracy = _holdout_accuracy(workspace, holdout, outcome.model_version)
    echo(f"held-out accuracy through the registered model: {accuracy:.1%}")
    return DemoResult(
        outcome.experiment_id,
        f"{DEMO_THEME}_model",
        outcome.model_version,
        outcome.metrics,
        accuracy,
        holdout,
    )


def _holdout_accuracy(workspace: Workspace, folder: Path, version: str | None) -> float:
    if version is None:
        return float("nan")
    import mlflow
    import pandas as pd

    mlflow.set_tracking_uri(workspace.mlflow_tracking_uri)
    model = mlflow.pyfunc.load_model(f"models:/{DEMO_THEME}_model/{version}")
    files = sorted(folder.rglob("*.png"))
    predicted = model.predict(pd.DataFrame({"image": [p.read_bytes() for p in files]}))
    truth = [p.parent.name for p in files]
    return sum(a == b for a, b in zip(predicted["label"], truth, strict=True)) / len(files)

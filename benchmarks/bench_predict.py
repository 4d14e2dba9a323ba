"""Served-model prediction on a batch: the registered MLflow pyfunc model vs the same
preprocessing and TorchScript forward written by hand (CPU).

    .venv/bin/python benchmarks/bench_predict.py [BATCH]

A tiny model is trained once (one epoch) and registered as ``models:/shapes_model/1``.
Ours: ``mlflow.pyfunc.load_model(...).predict(batch)`` with a uint8 (N, H, W, C) numpy
batch. Raw: ``correct_brightness`` + the eval ``ImageTransform`` per image, ``torch.stack``,
the same ``model.pt`` through ``torch.jit.load``, forward under ``inference_mode``, softmax.
Each is warmed up once, then timed best-of-5; the probabilities must agree.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import mlflow  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from timing import best_of  # noqa: E402

from core.config import parse_overrides, resolve_params  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.preprocessing import PreprocessConfig, correct_brightness  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.training.run import train_experiment  # noqa: E402
from core.training.transforms import ImageTransform, eval_steps  # noqa: E402

THEME = "shapes"
IMAGE_SIZE = 32  # the model's input size
SOURCE_SIZE = 48  # the images sent for prediction (resized by the preprocessing)
REPEATS = 5


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine has been busy so far (Linux /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def train_demo_model(tmp_path: Path):
    """A workspace with a tiny simple_cnn trained for one epoch on demo shapes and
    registered as ``models:/shapes_model/1`` (shared by the serving benchmarks)."""
    write_demo_images(tmp_path / "train", per_class=20, size=SOURCE_SIZE, seed=0)
    workspace = init_workspace(tmp_path / "ws").workspace
    db = open_database(workspace)
    create_theme(db, THEME)
    import_images(db, workspace, THEME, [tmp_path / "train"])
    params = resolve_params(
        workspace,
        overrides=parse_overrides(
            [
                "max_epochs=1",
                f"image_size={IMAGE_SIZE}",
                "batch_size=32",
                "num_workers=0",
                "early_stopping_patience=0",
            ]
        ),
    )
    outcome = train_experiment(workspace, THEME, params, echo=lambda _line: None)
    assert outcome.model_version == "1", outcome
    return workspace


def registered_experiment(workspace) -> str:
    from mlflow.tracking import MlflowClient

    client = MlflowClient(workspace.mlflow_tracking_uri)
    version = client.get_model_version(f"{THEME}_model", "1")
    return client.get_run(version.run_id).data.tags["experiment_hash"]


def main(batch_size: int) -> None:
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        workspace = train_demo_model(tmp_path)
        outcome_dir = workspace.experiment_dir(registered_experiment(workspace))

        # The batch: demo images (other seed) decoded to HxWxC uint8.
        per_class = -(-batch_size // 3)
        paths = write_demo_images(tmp_path / "batch", per_class=per_class, size=SOURCE_SIZE, seed=7)
        arrays = []
        for path in paths[:batch_size]:
            with Image.open(path) as image:
                arrays.append(np.asarray(image.convert("RGB")))
        batch = np.stack(arrays)

        mlflow.set_tracking_uri(workspace.mlflow_tracking_uri)
        model = mlflow.pyfunc.load_model(f"models:/{THEME}_model/1")

        folder = outcome_dir / "model"
        serving = json.loads((folder / "serving.json").read_text())
        preprocess = PreprocessConfig(**serving["preprocess"])
        assert preprocess.patches_per_image == 1, preprocess
        transform = ImageTransform(
            eval_steps(serving["image_size"], serving["mean"], serving["std"])
        )
        net = torch.jit.load(str(folder / "model.pt"), map_location="cpu")
        net.eval()
        prob_columns = [f"prob_{name}" for name in serving["class_names"]]

        def ours():
            return model.predict(batch)

        def raw() -> np.ndarray:
            tensors = [transform(correct_brightness(a, preprocess)) for a in batch]
            with torch.inference_mode():
                return torch.softmax(net(torch.stack(tensors)), dim=1).numpy()

        busy, own = machine_busy_seconds(), time.process_time()
        ours_s = best_of(ours, REPEATS, warm_up=True)
        raw_s = best_of(raw, REPEATS, warm_up=True)
        busy, own = machine_busy_seconds() - busy, time.process_time() - own
        difference = float(np.abs(ours()[prob_columns].to_numpy() - raw()).max())

    n = len(batch)
    print(
        f"batch: {n} demo images {SOURCE_SIZE}x{SOURCE_SIZE}x3 uint8 -> simple_cnn "
        f"{IMAGE_SIZE}x{IMAGE_SIZE}, CPU, {torch.get_num_threads()} threads, "
        f"torch {torch.__version__}, mlflow {mlflow.__version__}"
    )
    print(f"{'path':<28} {'ms/batch':>9} {'ms/image':>9}  (best of {REPEATS})")
    print(f"{'raw preprocess + jit':<28} {raw_s * 1e3:9.2f} {raw_s * 1e3 / n:9.3f}")
    print(f"{'pyfunc model.predict':<28} {ours_s * 1e3:9.2f} {ours_s * 1e3 / n:9.3f}")
    print(f"ratio pyfunc/raw: {ours_s / raw_s:5.2f}x  (goal <= 1.2x)")
    print(f"max |p_pyfunc - p_raw| = {difference:.2e}  (must be < 1e-5: {difference < 1e-5})")
    print(
        f"CPU check (timed part): machine busy {busy:.2f} CPU-s, this benchmark {own:.2f} CPU-s "
        f"(other processes ~{max(0.0, busy - own):.2f} CPU-s; rerun if that is not ~0)"
    )
    if difference >= 1e-5:
        sys.exit(1)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 256)

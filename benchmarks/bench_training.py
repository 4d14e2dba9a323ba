"""Epoch time of ``cockpit train`` vs a bare PyTorch loop over the same PNG files (CPU).

    .venv/bin/python benchmarks/bench_training.py [--epochs N] [--images FOLDER]
        [--models simple_cnn:32,resnet:64] [--per-class N] [--resnet-per-class N]

For each model (``name:image_size``) the same images (``--images``: an ImageFolder
layout, one folder per class; default: demo shapes written at that size) are imported into
fresh workspaces and trained three ways, interleaved (bare, cache off, cache on, bare, cache
off, cache on), same seed, same threads, batch 32, Adam, no augmentation, num_workers=0:

- bare PyTorch loop: a hand-written ``Dataset`` that opens every PNG with PIL each time,
  converts, resizes (bilinear) and normalises per item; a ``DataLoader``; the model class of
  the definitions; train + validation per epoch. No Lightning, no MLflow, no checkpoints.
- ``cockpit train`` with ``cache_preprocessed=false`` and with ``cache_preprocessed=true``:
  ``train_experiment``, the function the CLI and the job runner call, in a fresh workspace.
  Its epoch time is the gap between consecutive "epoch k/N" lines it echoes (after train,
  validation, checkpoint and journal), i.e. what a user watching the log sees.

The first epoch of every run is warm-up (and, with the cache on, fills it) and is skipped:
epochs 2..N are compared. Cache on must give the same test metrics as cache off (the
cache does not change results); two cache-off runs must give identical metrics.
The last line says how much CPU other processes used meanwhile: on a 2-core machine a
concurrent job slows a 2-thread torch loop several-fold, so rerun if it is not ~0.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, Dataset  # noqa: E402

from core.config import parse_overrides, resolve_params  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.snapshot import load_snapshot  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.training.builder import ExperimentBuilder  # noqa: E402
from core.training.run import train_experiment  # noqa: E402
from core.workspace import Workspace  # noqa: E402

THEME = "bench"
BATCH_SIZE = 32
THREADS = torch.get_num_threads()
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)  # the default augments.yaml


def make_workspace(folder: Path, images: Path) -> Workspace:
    workspace = init_workspace(folder).workspace
    # no augmentation: the bare loop has none either
    workspace.augments_file.write_text(
        f"train: []\nnormalize:\n  mean: {list(MEAN)}\n  std: {list(STD)}\n", encoding="utf-8"
    )
    db = open_database(workspace)
    create_theme(db, THEME)
    import_images(db, workspace, THEME, [images])
    return workspace


def settings(model: str, size: int, epochs: int, cache: bool) -> list[str]:
    return [
        f"max_epochs={epochs}",
        f"image_size={size}",
        f"batch_size={BATCH_SIZE}",
        "num_workers=0",
        "early_stopping_patience=0",
        f"model={model}",
        "optimizer=adam",
        "scheduler=none",
        f"cache_preprocessed={'true' if cache else 'false'}",
    ]


class PngDataset(Dataset):
    """What a hand-written PyTorch script does: decode, resize, normalise every item."""

    def __init__(self, root: Path, items: list, size: int) -> None:
        self.paths = [root / item.image_path for item in items]
        self.targets = [item.class_index for item in items]
        self.size = size
        self.mean = np.array(MEAN, dtype=np.float32) * 255
        self.scale = 1 / (np.array(STD, dtype=np.float32) * 255)

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.paths[index]) as image:
            image = image.convert("RGB")
            if image.size != (self.size, self.size):
                image = image.resize((self.size, self.size), Image.BILINEAR)
            array = (np.asarray(image, dtype=np.float32) - self.mean) * self.scale
        return torch.from_numpy(array.transpose(2, 0, 1).copy()), self.targets[index]


def bare_loop(workspace: Workspace, model: str, size: int, epochs: int) -> list[float]:
    """Seconds per epoch of a hand-written train + validation loop."""
    params = resolve_params(
        workspace, overrides=parse_overrides(settings(model, size, epochs, False))
    )
    values = params.values
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(False)  # plain PyTorch default (Lightning turns it on)
    pl.seed_everything(int(values["seed"]), workers=True, verbose=False)
    # the network only: the definitions' model class, as the bare script would import it
    net = ExperimentBuilder(workspace, params, THEME).build().net
    snapshot = load_snapshot(open_database(workspace), THEME)
    train = PngDataset(workspace.root, snapshot.split("train"), size)
    valid = PngDataset(workspace.root, snapshot.split("valid"), size)
    generator = torch.Generator().manual_seed(int(values["seed"]))
    train_loader = DataLoader(train, batch_size=BATCH_SIZE, shuffle=True, generator=generator)
    valid_loader = DataLoader(valid, batch_size=BATCH_SIZE)
    optimizer = torch.optim.Adam(
        net.parameters(), lr=float(values["lr"]), weight_decay=float(values["weight_decay"])
    )
    criterion = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        train_loss = torch.zeros(())
        for images, targets in train_loader:
            optimizer.zero_grad()
            loss = criterion(net(images), targets)
            loss.backward()
            optimizer.step()
            train_loss += loss.detach() * targets.shape[0]
        net.eval()
        val_loss, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for images, targets in valid_loader:
                logits = net(images)
                val_loss += float(criterion(logits, targets)) * targets.shape[0]
                correct += int((logits.argmax(dim=1) == targets).sum())
                seen += targets.shape[0]
        _ = (float(train_loss), val_loss / seen, correct / seen)
        times.append(time.perf_counter() - start)
    return times


def ours(
    workspace: Workspace, model: str, size: int, epochs: int, cache: bool
) -> tuple[list[float], float, dict[str, float]]:
    """Seconds per epoch (gaps between epoch lines), total seconds, test metrics."""
    params = resolve_params(
        workspace, overrides=parse_overrides(settings(model, size, epochs, cache))
    )
    stamps: list[float] = []

    def echo(line: str) -> None:
        if line.startswith("epoch "):
            stamps.append(time.perf_counter())

    torch.set_num_threads(THREADS)
    start = time.perf_counter()
    outcome = train_experiment(workspace, THEME, params, echo=echo)
    total = time.perf_counter() - start
    assert len(stamps) == epochs, stamps
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    return gaps, total, outcome.metrics


def machine_busy_seconds() -> float:
    """CPU-seconds the whole machine has been busy so far (Linux /proc/stat)."""
    ticks = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def only_test_metrics(metrics: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 6) for k, v in sorted(metrics.items()) if k.startswith("test_")}


def bench_model(
    tmp: Path, model: str, size: int, epochs: int, images: Path | None, per_class: int
) -> bool:
    if images is None:
        images = tmp / f"images-{size}"
        if not images.exists():
            write_demo_images(images, per_class=per_class, size=size, seed=0)
    # one for the bare loop, then one per cockpit run (2 rounds x cache off/on)
    spaces = [make_workspace(tmp / f"{model}-{size}-{i}", images) for i in range(5)]
    busy, own = machine_busy_seconds(), time.process_time()
    bare: list[float] = []
    off: list[float] = []
    on: list[float] = []
    totals: dict[str, list[float]] = {"off": [], "on": []}
    metrics: dict[str, list[dict[str, float]]] = {"off": [], "on": []}
    for round_ in range(2):  # interleaved, so that a slow phase hits every path alike
        bare += bare_loop(spaces[0], model, size, epochs)[1:]
        for cache, times in ((False, off), (True, on)):
            name = "on" if cache else "off"
            gaps, total, tested = ours(spaces[1 + round_ * 2 + cache], model, size, epochs, cache)
            times += gaps
            totals[name].append(total)
            metrics[name].append(only_test_metrics(tested))
    busy, own = machine_busy_seconds() - busy, time.process_time() - own
    # the splits are assigned by the first training of the workspace
    snapshot = load_snapshot(open_database(spaces[0]), THEME)
    counts = {s: len(snapshot.split(s)) for s in ("train", "valid", "test")}
    print(
        f"\n== {model} at {size}x{size}: {counts['train']} train / {counts['valid']} valid / "
        f"{counts['test']} test PNGs, {len(snapshot.class_names)} classes, batch {BATCH_SIZE}, "
        f"{epochs} epochs x 2 runs per path, CPU, {THREADS} threads"
    )
    print(f"{'path (epochs 2..N)':<30} {'mean s':>8} {'median s':>9} {'min s':>7} {'max s':>7}")
    bare_mean = statistics.mean(bare)
    for name, times in (
        ("bare PyTorch loop", bare),
        ("cockpit train, cache off", off),
        ("cockpit train, cache on", on),
    ):
        print(
            f"{name:<30} {statistics.mean(times):8.3f} {statistics.median(times):9.3f} "
            f"{min(times):7.3f} {max(times):7.3f}"
        )
    print(
        f"ratio cockpit/bare (mean epoch): cache off {statistics.mean(off) / bare_mean:5.2f}x "
        f"(goal <= 1.05x), cache on {statistics.mean(on) / bare_mean:5.2f}x (aim < 1.0x)"
    )
    print(
        "cockpit train total wall time (incl. MLflow run, evaluation, export, registration): "
        + ", ".join(f"cache {k} {' / '.join(f'{t:.1f}' for t in v)} s" for k, v in totals.items())
    )
    runs = metrics["off"] + metrics["on"]
    same = bool(runs[0]) and all(m == runs[0] for m in runs)
    print(f"test metrics of the 4 runs identical (cache off x2, cache on x2): {same} {runs[0]}")
    if not same:
        print(f"  differing: {runs}")
    print(
        f"CPU check: machine busy {busy:.1f} CPU-s, this benchmark {own:.1f} CPU-s "
        f"(other processes ~{max(0.0, busy - own):.1f} CPU-s; rerun if that is not ~0)"
    )
    return same


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--images", type=Path, help="ImageFolder of PNGs (default: demo shapes)")
    parser.add_argument("--models", default="simple_cnn:32,resnet:64")
    parser.add_argument("--per-class", type=int, default=533, help="demo images per class")
    parser.add_argument(
        "--resnet-per-class", type=int, default=100, help="demo images per class for resnet"
    )
    args = parser.parse_args()
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    print(f"torch {torch.__version__}, lightning {pl.__version__}, {os.cpu_count()} CPUs")
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for spec in args.models.split(","):
            model, size = spec.split(":")
            per_class = args.resnet_per_class if model == "resnet" else args.per_class
            ok &= bench_model(Path(tmp), model, int(size), args.epochs, args.images, per_class)
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()

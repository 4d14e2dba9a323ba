"""Epoch time of ``train_experiment`` (Lightning + MLflow journal + checkpoints) vs a bare
PyTorch loop over the same data, transforms, network and optimiser (CPU).

    .venv/bin/python benchmarks/bench_training.py [EPOCHS] [PER_CLASS]

The baseline builds its network, datamodule and transforms through the same
``ExperimentBuilder`` as training does, so only the loop around them differs. Our epoch
time is the gap between consecutive "epoch k/N" lines that ``train_experiment`` echoes
(one line per epoch, after validation and the checkpoints), so the MLflow run set-up,
testing and packaging before and after the epochs are not counted; the first epoch of
each run is warm-up and skipped. The total wall time is shown for information. The two
paths run twice, interleaved (bare, ours, bare, ours), with the same seed and threads.
The last line says how much CPU other processes used meanwhile: on this 2-core machine
a concurrent job slows a 2-thread torch loop several-fold, so rerun if it is not ~0.

Determinism: the same configuration is trained again in a second, fresh workspace with
the same images; the test metrics must be identical.
"""

from __future__ import annotations

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

import pytorch_lightning as pl  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from core.config import parse_overrides, resolve_params  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.training.builder import ExperimentBuilder  # noqa: E402
from core.training.run import train_experiment  # noqa: E402
from core.workspace import Workspace  # noqa: E402

THEME = "shapes"
IMAGE_SIZE = 32
BATCH_SIZE = 32
THREADS = torch.get_num_threads()


def make_workspace(folder: Path, images: Path) -> Workspace:
    workspace = init_workspace(folder).workspace
    db = open_database(workspace)
    create_theme(db, THEME)
    import_images(db, workspace, THEME, [images])
    return workspace


def settings(epochs: int) -> list[str]:
    return [
        f"max_epochs={epochs}",
        f"image_size={IMAGE_SIZE}",
        f"batch_size={BATCH_SIZE}",
        "num_workers=0",
        "early_stopping_patience=0",
        "model=simple_cnn",
        "optimizer=adam",
        "scheduler=none",
    ]


def bare_loop(workspace: Workspace, epochs: int) -> tuple[list[float], int]:
    """Seconds per epoch of a hand-written train + validation loop; training samples."""
    params = resolve_params(workspace, overrides=parse_overrides(settings(epochs)))
    values = params.values
    torch.set_num_threads(THREADS)
    torch.use_deterministic_algorithms(False)  # plain PyTorch default (Lightning turns it on)
    pl.seed_everything(int(values["seed"]), workers=True, verbose=False)
    ctx = ExperimentBuilder(workspace, params, THEME).build()
    net = ctx.net
    optimizer = torch.optim.Adam(
        net.parameters(), lr=float(values["lr"]), weight_decay=float(values["weight_decay"])
    )
    criterion = nn.CrossEntropyLoss()
    times = []
    for _ in range(epochs):
        start = time.perf_counter()
        net.train()
        train_loss = torch.zeros(())
        for images, targets in ctx.datamodule.train_dataloader():
            optimizer.zero_grad()
            loss = criterion(net(images), targets)
            loss.backward()
            optimizer.step()
            train_loss += loss.detach() * targets.shape[0]
        net.eval()
        val_loss, correct, seen = 0.0, 0, 0
        with torch.no_grad():
            for images, targets in ctx.datamodule.val_dataloader():
                logits = net(images)
                val_loss += float(criterion(logits, targets)) * targets.shape[0]
                correct += int((logits.argmax(dim=1) == targets).sum())
                seen += targets.shape[0]
        _ = (float(train_loss), val_loss / seen, correct / seen)
        times.append(time.perf_counter() - start)
    return times, len(ctx.datamodule.datasets["train"])


def ours(workspace: Workspace, epochs: int) -> tuple[list[float], float, dict[str, float]]:
    """Seconds per epoch (gaps between epoch lines), total seconds, test metrics."""
    params = resolve_params(workspace, overrides=parse_overrides(settings(epochs)))
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
    return {k: v for k, v in sorted(metrics.items()) if k.startswith("test_")}


def main(epochs: int, per_class: int) -> None:
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        images = tmp_path / "images"
        write_demo_images(images, per_class=per_class, size=IMAGE_SIZE, seed=0)
        first = make_workspace(tmp_path / "ws1", images)
        second = make_workspace(tmp_path / "ws2", images)
        busy, own = machine_busy_seconds(), time.process_time()
        # interleaved, so that a slow phase of the machine hits both paths alike
        bare1, train_items = bare_loop(first, epochs)
        ours1, total1, metrics1 = ours(first, epochs)
        bare2, _ = bare_loop(first, epochs)
        ours2, total2, metrics2 = ours(second, epochs)
        busy, own = machine_busy_seconds() - busy, time.process_time() - own
        assert torch.get_num_threads() == THREADS

    bare = bare1[1:] + bare2[1:]  # the first epoch of each run is warm-up
    bare_mean, ours_mean = statistics.mean(bare), statistics.mean(ours1 + ours2)
    print(
        f"data: {3 * per_class} demo PNGs {IMAGE_SIZE}x{IMAGE_SIZE} ({train_items} train), "
        f"simple_cnn, batch {BATCH_SIZE}, {epochs} epochs, CPU, {THREADS} threads, "
        f"torch {torch.__version__}, lightning {pl.__version__}"
    )
    print(f"{'path (epochs 2..N)':<24} {'mean s':>8} {'median s':>9} {'min s':>7} {'max s':>7}")
    for name, times in (
        ("bare PyTorch loop", bare),
        ("train_experiment", ours1 + ours2),
    ):
        print(
            f"{name:<24} {statistics.mean(times):8.3f} {statistics.median(times):9.3f} "
            f"{min(times):7.3f} {max(times):7.3f}"
        )
    print(f"ratio ours/bare (mean epoch): {ours_mean / bare_mean:5.2f}x  (goal <= 1.10x)")
    print(
        f"train_experiment total wall time: run 1 {total1:.2f} s, run 2 {total2:.2f} s "
        "(incl. MLflow run, evaluation, export, registration)"
    )
    tested1, tested2 = only_test_metrics(metrics1), only_test_metrics(metrics2)
    same = bool(tested1) and tested1 == tested2
    print(f"determinism, 2 fresh workspaces with the same images: run 1 {tested1}")
    print(f"                                                      run 2 {tested2}")
    print(f"test metrics identical: {same}")
    print(
        f"CPU check: machine busy {busy:.1f} CPU-s, this benchmark {own:.1f} CPU-s "
        f"(other processes ~{max(0.0, busy - own):.1f} CPU-s; rerun if that is not ~0)"
    )
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 6,
        int(sys.argv[2]) if len(sys.argv) > 2 else 200,
    )

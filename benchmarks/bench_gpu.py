"""GPU: ResNet-18 images/s of ``cockpit train`` on real PNG files vs the same model on
synthetic batches already on the device, and the GPU's utilisation during the real run.

    .venv/bin/python benchmarks/bench_gpu.py [--size 64] [--per-class 2000] [--epochs 4]
        [--batch-size 256] [--compile]

Real: demo shapes written as PNG files, imported into a fresh workspace and trained by
``train_experiment`` (the function behind ``cockpit train``): image cache on, loader
workers chosen for the machine, precision ``auto`` (bf16 where supported), channels-last.
Images/s = (train + valid images) / time between consecutive epoch lines, epochs 2..N.

Synthetic: the same network class, ``ClassificationModule`` (its uint8 normalisation,
channels-last), optimiser and autocast dtype, trained by a plain loop on uint8 batches
generated on the device once (no loading, no copies, no Lightning): the ceiling. The same
number of training and validation images per "epoch". Goal: real / synthetic >= 0.9.

GPU utilisation: sampled every 0.1 s with nvidia-ml-py (``pynvml``) when installed.
Without CUDA it prints one line and exits 0.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import statistics
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402


def _utilisation_sampler() -> tuple[list[int], threading.Event, threading.Thread] | None:
    try:
        import pynvml
    except ImportError:
        return None
    pynvml.nvmlInit()
    handle = pynvml.nvmlDeviceGetHandleByIndex(torch.cuda.current_device())
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            samples.append(int(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu))

    thread = threading.Thread(target=sample, daemon=True)
    return samples, stop, thread


def real_run(args: argparse.Namespace, tmp: Path) -> tuple[float, list[int] | None, dict]:
    from core.config import parse_overrides, resolve_params
    from core.data.importer import import_images
    from core.data.snapshot import load_snapshot
    from core.data.themes import create_theme
    from core.db import open_database
    from core.demo import write_demo_images
    from core.scaffold import init_workspace
    from core.training.run import train_experiment

    images = tmp / "images"
    write_demo_images(images, per_class=args.per_class, size=args.size, seed=0)
    workspace = init_workspace(tmp / "ws").workspace
    workspace.augments_file.write_text(
        "train: []\nnormalize:\n  mean: [0.485, 0.456, 0.406]\n  std: [0.229, 0.224, 0.225]\n",
        encoding="utf-8",
    )
    db = open_database(workspace)
    create_theme(db, "gpu")
    import_images(db, workspace, "gpu", [images])
    sets = [
        f"max_epochs={args.epochs}",
        f"image_size={args.size}",
        f"batch_size={args.batch_size}",
        "model=resnet",
        "arch=resnet18",
        "early_stopping_patience=0",
        "cache_preprocessed=true",
        f"torch_compile={'true' if args.compile else 'false'}",
    ]
    params = resolve_params(workspace, overrides=parse_overrides(sets))
    stamps: list[float] = []

    def echo(line: str) -> None:
        if line.startswith("epoch "):
            torch.cuda.synchronize()
            stamps.append(time.perf_counter())
            print(line, flush=True)

    sampler = _utilisation_sampler()
    if sampler is not None:
        sampler[2].start()
    train_experiment(workspace, "gpu", params, echo=echo)
    if sampler is not None:
        sampler[1].set()
    snapshot = load_snapshot(open_database(workspace), "gpu")
    counts = {s: len(snapshot.split(s)) for s in ("train", "valid")}
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    per_epoch = counts["train"] + counts["valid"]
    return per_epoch / statistics.mean(gaps), (sampler[0] if sampler else None), counts


def synthetic_run(args: argparse.Namespace, counts: dict, dtype: torch.dtype) -> float:
    from core.preprocessing import normalisation_table
    from core.training.module import ClassificationModule
    from definitions.models.resnet.model import ResNetClassifier

    device = torch.device("cuda")
    net = ResNetClassifier({"arch": "resnet18"}, num_classes=3, in_channels=3, image_size=args.size)
    table = normalisation_table((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    module = ClassificationModule(net, {"torch_compile": args.compile}, ["a", "b", "c"], table)
    module = module.to(device)
    module.net.to(memory_format=torch.channels_last)
    if args.compile:
        object.__setattr__(module, "_compiled", torch.compile(module.net))
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
    criterion = torch.nn.CrossEntropyLoss()
    shape = (args.batch_size, 3, args.size, args.size)
    batch = torch.randint(0, 256, shape, dtype=torch.uint8, device=device)
    targets = torch.randint(0, 3, (args.batch_size,), device=device)
    steps = max(1, counts["train"] // args.batch_size)
    valid_steps = max(1, counts["valid"] // args.batch_size)
    times = []
    for _ in range(args.epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        module.train()
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
                loss = criterion(module(batch), targets)
            loss.backward()
            optimizer.step()
        module.eval()
        with torch.no_grad(), torch.autocast("cuda", dtype=dtype, enabled=dtype != torch.float32):
            for _ in range(valid_steps):
                module(batch).argmax(dim=1)
        torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    images = (steps + valid_steps) * args.batch_size
    return images / statistics.mean(times[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--per-class", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("bench_gpu: no CUDA device on this machine; nothing measured (run it on a GPU)")
        return
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    from core.training.run import choose_precision

    precision = choose_precision("auto")
    dtype = {"bf16-mixed": torch.bfloat16, "16-mixed": torch.float16}.get(precision, torch.float32)
    with tempfile.TemporaryDirectory() as tmp:
        real, utilisation, counts = real_run(args, Path(tmp))
    synthetic = synthetic_run(args, counts, dtype)
    print(
        f"{torch.cuda.get_device_name()}, torch {torch.__version__}, precision {precision}, "
        f"resnet18 {args.size}x{args.size}, batch {args.batch_size}, "
        f"{counts['train']} train + {counts['valid']} valid images per epoch, "
        f"compile {args.compile}"
    )
    print(f"cockpit train, real PNG files : {real:10.0f} images/s (epochs 2..N)")
    print(f"synthetic batches on the GPU  : {synthetic:10.0f} images/s")
    print(f"ratio real / synthetic        : {real / synthetic:10.2f}   (goal >= 0.9)")
    if utilisation:
        print(
            f"GPU utilisation during the real run: mean {statistics.mean(utilisation):.0f}%, "
            f"median {statistics.median(utilisation):.0f}% ({len(utilisation)} samples)"
        )
    else:
        print("GPU utilisation: nvidia-ml-py (pynvml) not installed, not sampled")


if __name__ == "__main__":
    main()

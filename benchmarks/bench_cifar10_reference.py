"""The reference CIFAR-10 result, reproduced through the cockpit when the dataset's binary
version is on disk: the small LeNet-style network, 5 epochs, batch 32, Adam 1e-3.

    .venv/bin/python benchmarks/bench_cifar10_reference.py [FOLDER]

FOLDER (or $CIFAR10_DIR; default ~/data/cifar-10-batches-bin) holds data_batch_1.bin …
test_batch.bin from cifar-10-binary.tar.gz; nothing is downloaded. Without it the script
says so in one line and exits 0.

Side by side, in one run:
- the cockpit: `cockpit import-cifar10` into a fresh workspace (the official split; a tenth
  of the training images kept for validation) and `cockpit train --params
  configs/cifar10_reference.yaml`; its test accuracy and loss from the run's record;
- the bare PyTorch loop of the reference (the same network, the same arrays straight from
  the binary files, all 50,000 training images, normalised to [-1, 1]), 5 epochs;
- the published numbers: test accuracy 62.58 %, test loss 1.0755.
CIFAR10_LIMIT=N imports only N images of each batch file (a quick check of the path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PUBLISHED_ACC, PUBLISHED_LOSS = 0.6258, 1.0755


def _folder() -> Path:
    given = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CIFAR10_DIR")
    return Path(given or Path.home() / "data" / "cifar-10-batches-bin").expanduser()


def cockpit(*args: str, workspace: Path) -> str:
    command = [sys.executable, "-m", "cockpit", "--workspace", str(workspace), *args]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:2])} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def bare_reference(folder: Path, limit: int | None) -> tuple[float, float, float]:
    """The reference's own loop on the same bytes: returns test acc, test loss, seconds."""
    import numpy as np
    import torch
    from torch import nn

    from core.data.cifar import TEST_FILE, TRAIN_FILES, read_batch
    from definitions.models.simple_cnn.model import SimpleCNN

    torch.manual_seed(42)
    batches = [read_batch(folder / name, limit) for name in TRAIN_FILES]
    train_x = np.concatenate([images for _, images in batches])
    train_y = np.concatenate([labels for labels, _ in batches])
    test_y, test_x = read_batch(folder / TEST_FILE, limit)

    def tensors(x: np.ndarray, y: np.ndarray) -> torch.utils.data.TensorDataset:
        images = torch.from_numpy(x).permute(0, 3, 1, 2).float().div(255).sub(0.5).div(0.5)
        return torch.utils.data.TensorDataset(images, torch.from_numpy(y).long())

    train = torch.utils.data.DataLoader(tensors(train_x, train_y), batch_size=32, shuffle=True)
    test = torch.utils.data.DataLoader(tensors(test_x, test_y), batch_size=256)
    net = SimpleCNN({}, num_classes=10, in_channels=3, image_size=32)
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for _epoch in range(5):
        net.train()
        for x, y in train:
            optimiser.zero_grad()
            loss_fn(net(x), y).backward()
            optimiser.step()
    seconds = time.perf_counter() - start
    net.eval()
    correct, total, loss_sum = 0, 0, 0.0
    with torch.no_grad():
        for x, y in test:
            out = net(x)
            loss_sum += float(loss_fn(out, y)) * len(y)
            correct += int((out.argmax(1) == y).sum())
            total += len(y)
    return correct / total, loss_sum / total, seconds


def main() -> None:
    folder = _folder()
    if (folder / "cifar-10-batches-bin").is_dir():
        folder = folder / "cifar-10-batches-bin"
    if not (folder / "data_batch_1.bin").is_file():
        print(
            f"skipped: no CIFAR-10 binary version at {folder} (give FOLDER or set "
            "CIFAR10_DIR to the extracted cifar-10-batches-bin)"
        )
        return
    limit = int(os.environ["CIFAR10_LIMIT"]) if os.environ.get("CIFAR10_LIMIT") else None
    with tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "ws"
        cockpit("init", str(workspace), workspace=workspace)
        start = time.perf_counter()
        extra = ["--limit", str(limit)] if limit else []
        print(cockpit("import-cifar10", str(folder), *extra, workspace=workspace).strip())
        imported = time.perf_counter() - start
        start = time.perf_counter()
        cockpit(
            "train",
            "--theme",
            "cifar10",
            "--params",
            str(ROOT / "configs" / "cifar10_reference.yaml"),
            "--set",
            "registration=never",
            workspace=workspace,
        )
        trained = time.perf_counter() - start
        states = list((workspace / "output" / "experiments").glob("*/state.json"))
        metrics = json.loads(states[0].read_text())["final_metrics"]
    acc, loss, bare_seconds = bare_reference(folder, limit)
    print(f"data: {folder}{f' (first {limit} of each file)' if limit else ''}")
    print(f"import: {imported:.0f} s; cockpit training (5 epochs + test): {trained:.0f} s")
    print(f"{'':18} {'test acc':>9} {'test loss':>10}")
    print(f"{'published':18} {PUBLISHED_ACC:9.4f} {PUBLISHED_LOSS:10.4f}")
    print(f"{'bare loop (all)':18} {acc:9.4f} {loss:10.4f}   ({bare_seconds:.0f} s)")
    print(
        f"{'cockpit (0.9/0.1)':18} {metrics['test_acc']:9.4f} {metrics['test_loss']:10.4f}"
    )
    print(
        f"cockpit - published: {metrics['test_acc'] - PUBLISHED_ACC:+.4f} acc, "
        f"{metrics['test_loss'] - PUBLISHED_LOSS:+.4f} loss"
    )


if __name__ == "__main__":
    main()

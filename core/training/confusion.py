"""The confusion matrix of the best weights, written beside the checkpoints
(``output/experiments/<id>/confusion_matrix.json``) at the end of the evaluation, so the
history can show it without loading a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from core.fileio import atomic_write_text

CONFUSION_FILE = "confusion_matrix.json"


def count_confusion(module: Any, loader: Any, classes: int) -> list[list[int]]:
    """``matrix[true][predicted]`` over every batch of ``loader``."""
    import torch

    matrix = [[0] * classes for _ in range(classes)]
    device = next(module.parameters()).device
    module.eval()
    with torch.inference_mode():
        for images, targets in loader:
            predicted = module(images.to(device)).argmax(dim=1).cpu().tolist()
            for truth, guess in zip(targets.tolist(), predicted, strict=True):
                matrix[truth][guess] += 1
    return matrix


def write_confusion(experiment_dir: Path, split: str, classes: list[str], matrix: list) -> Path:
    path = Path(experiment_dir) / CONFUSION_FILE
    record = {"split": split, "classes": list(classes), "matrix": matrix}
    atomic_write_text(path, json.dumps(record) + "\n")
    return path

"""Tiny generated images for tests and benchmarks."""

from __future__ import annotations

import random
from pathlib import Path

from PIL import Image


def make_image(path: Path, seed: int, size: int = 16, fmt: str = "PNG", mode: str = "RGB") -> Path:
    """A small image whose pixels (hence content hash) are unique per ``seed``."""
    rng = random.Random(seed)
    image = Image.new(mode, (size, size))
    image.putdata(
        [tuple(rng.randrange(256) for _ in range(len(mode))) for _ in range(size * size)]
        if len(mode) > 1
        else [rng.randrange(256) for _ in range(size * size)]
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, fmt)
    return path


def make_imagefolder(root: Path, classes: dict[str, int], start_seed: int = 0) -> list[Path]:
    """root/<class>/<n>.png for each class with the given number of images."""
    paths = []
    seed = start_seed
    for name, count in classes.items():
        for index in range(count):
            paths.append(make_image(root / name / f"{index:04d}.png", seed))
            seed += 1
    return paths

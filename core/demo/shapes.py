"""A small synthetic image dataset to try the cockpit on without downloading anything.

Each image is one filled circle, square or triangle on a noisy background, with random
position, size, rotation and colours, so a classifier has to learn the shape rather than a
colour or a position. Everything is drawn from the given random generator, which makes every
image, and so every PNG file, reproducible from a seed.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from core.errors import CockpitError

__all__ = ["DEMO_CLASSES", "render_shape", "render_shape_with_mask", "write_demo_images"]

DEMO_CLASSES: tuple[str, ...] = ("circle", "square", "triangle")

MIN_SIZE = 8  # below this a shape covers too few pixels to tell the classes apart

# Circle diameter and square side as a fraction of the image side.
_SCALE_RANGE = (0.42, 0.68)
# An equilateral triangle of the same side covers only ~55% of a square's area; this factor
# puts its area in the range of the other two so that area alone does not give the class away.
_TRIANGLE_SIDE_FACTOR = 1.25
# Fill and background differ by at least this much (Euclidean, in 0-255 RGB) so the shape
# stays visible through the noise.
_MIN_COLOUR_DISTANCE = 110.0
_BACKGROUND_NOISE_RANGE = (4.0, 12.0)  # std of the background's own texture
_PIXEL_NOISE_RANGE = (3.0, 10.0)  # std of the sensor-like noise over the whole image


def render_shape(kind: str, rng: np.random.Generator, size: int = 48) -> Image.Image:
    """One ``size`` x ``size`` RGB image of a ``kind`` shape; the same ``rng`` state gives
    the same image."""
    image, _ = render_shape_with_mask(kind, rng, size)
    return image


def render_shape_with_mask(
    kind: str, rng: np.random.Generator, size: int = 48
) -> tuple[Image.Image, np.ndarray]:
    """Like ``render_shape``, plus the boolean (size, size) mask of the pixels the shape
    fills; both come from the same draws, so the image equals ``render_shape``'s."""
    if kind not in DEMO_CLASSES:
        raise ValueError(f"unknown shape kind {kind!r}; use one of {', '.join(DEMO_CLASSES)}")
    if size < MIN_SIZE:
        raise ValueError(f"size must be at least {MIN_SIZE}, not {size}")

    background = rng.uniform(0.0, 255.0, size=3)
    fill = _distinct_colour(rng, background)
    mask = _shape_mask(kind, rng, size)

    background_std = rng.uniform(*_BACKGROUND_NOISE_RANGE)
    pixel_std = rng.uniform(*_PIXEL_NOISE_RANGE)
    pixels = np.empty((size, size, 3), dtype=np.float64)
    pixels[:] = background
    pixels += rng.normal(0.0, background_std, size=(size, size, 3))
    pixels[mask] = fill
    pixels += rng.normal(0.0, pixel_std, size=(size, size, 3))
    rgb = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return Image.fromarray(rgb, mode="RGB"), mask


def write_demo_images(
    root: Path,
    per_class: int = 100,
    size: int = 48,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
) -> list[Path]:
    """Write ``root/<class>/<class>_<index:04d>.png`` for every class in ``DEMO_CLASSES``.

    Rerunning with the same seed writes byte-identical files; ``progress(done, total)`` is
    called after each image. Returns the paths in the order written.
    """
    if isinstance(per_class, bool) or not isinstance(per_class, int) or per_class < 1:
        raise CockpitError(f"per_class must be a whole number of at least 1, not {per_class!r}")
    if isinstance(size, bool) or not isinstance(size, int) or size < MIN_SIZE:
        raise CockpitError(f"size must be a whole number of at least {MIN_SIZE}, not {size!r}")

    root = Path(root)
    total = per_class * len(DEMO_CLASSES)
    written: list[Path] = []
    for class_index, kind in enumerate(DEMO_CLASSES):
        folder = root / kind
        _make_folder(folder)
        for index in range(per_class):
            # One generator per image, keyed by (seed, class, index): image 7 of a class is the
            # same whether 10 or 1000 images per class are asked for.
            rng = np.random.default_rng([seed, class_index, index])
            path = folder / f"{kind}_{index:04d}.png"
            _write_png(path, render_shape(kind, rng, size))
            written.append(path)
            if progress is not None:
                progress(len(written), total)
    return written


_LUMA = np.array([0.299, 0.587, 0.114])  # Pillow's RGB -> L weights
_MIN_LUMA_DISTANCE = 40.0


def _distinct_colour(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    # distinct in colour and in brightness, so the shape survives a greyscale model too
    while True:
        colour = rng.uniform(0.0, 255.0, size=3)
        if (
            np.linalg.norm(colour - background) >= _MIN_COLOUR_DISTANCE
            and abs(float(_LUMA @ (colour - background))) >= _MIN_LUMA_DISTANCE
        ):
            return colour


def _shape_mask(kind: str, rng: np.random.Generator, size: int) -> np.ndarray:
    scale = rng.uniform(*_SCALE_RANGE) * size
    if kind == "circle":
        radius = scale / 2.0
        reach = radius
        angle = 0.0
    elif kind == "square":
        half = scale / 2.0
        reach = half * math.sqrt(2.0)
        angle = rng.uniform(0.0, math.pi / 2.0)  # a square repeats every quarter turn
    else:
        side = scale * _TRIANGLE_SIDE_FACTOR
        reach = side / math.sqrt(3.0)  # circumradius
        angle = rng.uniform(0.0, 2.0 * math.pi / 3.0)  # a triangle repeats every third turn

    # Keep the whole shape inside the image; a shape wider than the image sits centred.
    low, high = reach, size - reach
    if low >= high:
        cx = cy = size / 2.0
    else:
        cx, cy = rng.uniform(low, high, size=2)

    coords = np.arange(size, dtype=np.float64) + 0.5  # pixel centres
    x = coords[np.newaxis, :] - cx
    y = coords[:, np.newaxis] - cy
    if kind == "circle":
        return x * x + y * y <= radius * radius

    cos, sin = math.cos(angle), math.sin(angle)
    u = cos * x + sin * y
    v = -sin * x + cos * y
    if kind == "square":
        return (np.abs(u) <= half) & (np.abs(v) <= half)

    # Inside an equilateral triangle centred on its centroid: on the inner side of all three
    # edges, whose outward normals point at 90, 210 and 330 degrees, each edge at the inradius.
    inradius = reach / 2.0
    inside = np.ones((size, size), dtype=bool)
    for normal in (math.pi / 2.0, math.pi * 7.0 / 6.0, math.pi * 11.0 / 6.0):
        inside &= u * math.cos(normal) + v * math.sin(normal) <= inradius
    return inside


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CockpitError(
            f"cannot create the demo image folder {folder}: {exc.strerror or exc} "
            "(pick another folder or check its permissions)"
        ) from exc


def _write_png(path: Path, image: Image.Image) -> None:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    # Through a temporary file so an interrupted run never leaves a truncated PNG behind that
    # a later import would reject.
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(buffer.getvalue())
            os.replace(tmp_name, path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CockpitError(
            f"cannot write {path}: {exc.strerror or exc} (check free disk space and permissions)"
        ) from exc

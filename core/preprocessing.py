"""Preprocessing applied identically in training and in the served model: brightness
correction (histogram equalisation or gamma), optional patching, and the evaluation
pipeline (resize, normalise, CHW tensor).

This module imports nothing of the project (numpy and Pillow; albumentations when a
pipeline is built): it travels as a file with every logged model (MLflow code paths), so
a served model preprocesses exactly as its training did, where this project is not
installed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image, ImageOps

DECODING = 2  # raised whenever load_image_array makes other arrays of the same file


@dataclass(frozen=True)
class PreprocessConfig:
    brightness: str = "none"  # none | equalize | gamma
    gamma: float = 1.0
    patch_grid: int = 1  # N x N patches per image; 1 = the whole image
    image_mode: str = "RGB"

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PreprocessConfig:
        return cls(
            brightness=params.get("brightness", "none"),
            gamma=float(params.get("gamma", 1.0)),
            patch_grid=int(params.get("patch_grid", 1)),
            image_mode=params.get("image_mode", "RGB"),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def key(self) -> str:
        """Names the cache folder of preprocessed copies made with these settings."""
        settings = {k: v for k, v in self.to_dict().items() if k != "patch_grid"}
        # the decoding rule's version: copies made before wide grey images were scaled
        # (``to_8bit``) are not served again
        text = json.dumps({**settings, "decoding": DECODING}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @property
    def patches_per_image(self) -> int:
        return self.patch_grid * self.patch_grid


def correct_brightness(array: np.ndarray, config: PreprocessConfig) -> np.ndarray:
    """Brightness correction of an HxWxC uint8 image."""
    if config.brightness == "equalize":
        channels = [
            np.asarray(ImageOps.equalize(Image.fromarray(array[..., c])))
            for c in range(array.shape[2])
        ]
        return np.stack(channels, axis=2)
    if config.brightness == "gamma" and config.gamma != 1.0:
        table = (np.linspace(0, 1, 256) ** config.gamma * 255).round().astype(np.uint8)
        return table[array]
    return array


def patch(array: np.ndarray, grid: int, index: int) -> np.ndarray:
    """Patch ``index`` (row-major) of an image cut into ``grid`` x ``grid`` tiles."""
    if grid == 1:
        return array
    height, width = array.shape[:2]
    row, column = divmod(index, grid)
    top, bottom = height * row // grid, height * (row + 1) // grid
    left, right = width * column // grid, width * (column + 1) // grid
    return array[top:bottom, left:right]


# Pillow's convert() clips grey values of more than 8 bits at 255: a 16-bit PNG or TIFF
# (microscopy, medical, scientific cameras) would become a white image. 16-bit grey is
# scaled from its full range, 0..65535, to 0..255 (the same rule for every image, not a
# stretch per image: one intensity gives one value in every image; Qt shows such images
# the same way). 32-bit integer and float grey have no defined range: refused (the
# importer refuses them too).
WIDE_GREY = frozenset({"I;16", "I;16L", "I;16B", "I;16N"})
NO_RANGE = frozenset({"I", "F"})


def to_8bit(image: Image.Image) -> Image.Image:
    """``image`` with 8-bit channels, from which Pillow converts to L or RGB exactly."""
    if image.mode in WIDE_GREY:
        wide = np.asarray(image, dtype=np.uint32)
        return Image.fromarray(((wide * 255 + 32767) // 65535).astype(np.uint8))
    if image.mode in NO_RANGE:
        raise ValueError(
            f"pixel mode {image.mode!r} (32-bit integer or float) has no defined value "
            "range: save the image with 8 or 16 bits per channel"
        )
    return image


def load_image_array(image: Image.Image, mode: str) -> np.ndarray:
    """Decode to an HxWxC uint8 array in ``mode`` (RGB or L)."""
    array = np.asarray(to_8bit(image).convert(mode))
    return array[..., None] if array.ndim == 2 else array


class ImageTransform:
    """A picklable callable (DataLoader workers): HxWxC uint8 array -> CHW tensor (float
    after ``eval_steps``; uint8 after ``uint8_steps``)."""

    def __init__(self, steps: Sequence[Any], seed: int | None = None) -> None:
        import albumentations as A

        self.compose = A.Compose(list(steps), seed=seed)

    def __call__(self, array: np.ndarray) -> Any:
        return self.compose(image=array)["image"]


def uint8_steps(image_size: int) -> list[Any]:
    """Resize to ``image_size`` square, CHW uint8 tensor: ``eval_steps`` without the
    normalisation, which ``normalisation_table`` then applies on the device."""
    import albumentations as A
    from albumentations.pytorch import ToTensorV2

    return [A.Resize(image_size, image_size), ToTensorV2()]


def normalisation_table(mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """``table[c, v]``: the float32 that ``eval_steps``' Normalize makes of the uint8 value
    ``v`` in channel ``c`` (computed by that same transform, so a uint8 batch normalised by
    looking values up in this table equals, bit for bit, the batch ``eval_steps`` makes)."""
    import albumentations as A

    channels = len(mean)
    values = np.repeat(np.arange(256, dtype=np.uint8).reshape(256, 1, 1), channels, axis=2)
    normalise = A.Normalize(mean=tuple(mean), std=tuple(std), max_pixel_value=255.0, p=1.0)
    table = normalise(image=values)["image"].reshape(256, channels)
    return np.ascontiguousarray(table.T, dtype=np.float32)


def eval_steps(image_size: int, mean: Sequence[float], std: Sequence[float]) -> list[Any]:
    """Resize to ``image_size`` square, normalise, CHW float tensor: every split ends so."""
    import albumentations as A
    from albumentations.pytorch import ToTensorV2

    return [
        A.Resize(image_size, image_size),
        A.Normalize(mean=tuple(mean), std=tuple(std), max_pixel_value=255.0),
        ToTensorV2(),
    ]

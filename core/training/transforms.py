"""Albumentations pipelines: augmentation for the train split only; every split ends
with Resize to ``image_size``, then a CHW uint8 tensor. Normalisation happens on the
device (``ClassificationModule`` looks the uint8 values up in ``normalisation_table``), so
batches travel as uint8: a quarter of the bytes of float32."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from core.config.augments import AugmentsConfig, build_train_transforms, try_train_transforms
from core.errors import CockpitError
from core.preprocessing import ImageTransform, eval_steps, uint8_steps

__all__ = [
    "ImageTransform",
    "ResizeIfNeeded",
    "SplitTransform",
    "build_transforms",
    "chw_tensor",
    "eval_steps",
    "normalisation",
]


class SplitTransform:
    """A split's transform in two parts (both picklable, for DataLoader workers):

    - ``prepare`` (deterministic, HxWxC uint8 -> HxWxC uint8): what a cache may keep, so
      ``cache_key`` names it; ``None`` when nothing before the random part is fixed;
    - ``finish`` (per item, may be random): the rest, ending in a CHW uint8 tensor.

    ``transform(array)`` is ``finish(prepare(array))``: the same as one pipeline.
    """

    def __init__(self, image_size: int, augments: list[Any], seed: int | None = None) -> None:
        resize, to_tensor = uint8_steps(image_size)
        self.image_size = image_size
        if augments:  # random steps come first: only the decoded image can be kept
            self.prepare: Callable[[np.ndarray], np.ndarray] | None = None
            self.cache_key = "decoded"
            self.finish = ImageTransform([*augments, resize, to_tensor], seed=seed)
        else:
            # no random step: the two ends are done without a pipeline call per item (a
            # fifth of a small network's epoch): an image already at the size is what
            # albumentations' Resize returns unchanged, and the tensor is ToTensorV2's
            self.prepare = ResizeIfNeeded(image_size, ImageTransform([resize]))
            self.cache_key = f"resized-{image_size}-{type(resize).__name__}"
            self.finish = chw_tensor

    def prepared(self, array: np.ndarray) -> np.ndarray:
        return array if self.prepare is None else self.prepare(array)

    def __call__(self, array: np.ndarray) -> Any:
        return self.finish(self.prepared(array))


class ResizeIfNeeded:
    """``resize`` (an ``ImageTransform`` of albumentations' Resize) for an image of another
    size; an image already ``size`` x ``size`` is returned as it is, as Resize returns it."""

    def __init__(self, size: int, resize: ImageTransform) -> None:
        self.size, self.resize = size, resize

    def __call__(self, array: np.ndarray) -> np.ndarray:
        if array.shape[:2] == (self.size, self.size):
            return array
        return self.resize(array)


def chw_tensor(array: np.ndarray) -> Any:
    """What albumentations' ToTensorV2 makes of an HxW or HxWxC array: a CHW tensor
    sharing the array's memory."""
    import torch

    if array.ndim == 2:
        array = np.expand_dims(array, 2)
    return torch.from_numpy(array.transpose(2, 0, 1))


def normalisation(
    augments: AugmentsConfig, channels: int
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Mean and std per channel; a 3-value setting serves a greyscale model by averaging."""
    mean, std = tuple(augments.normalize.mean), tuple(augments.normalize.std)
    if len(mean) == channels:
        return mean, std
    if channels == 1:
        return (sum(mean) / len(mean),), (sum(std) / len(std),)
    raise CockpitError(
        f"augments.yaml: normalize has {len(mean)} value(s) but the images have {channels} "
        "channels; give 3 values for RGB"
    )


def build_transforms(
    params: Mapping[str, Any], augments: AugmentsConfig, augments_path: Path | str
) -> dict[str, SplitTransform]:
    """Per split, the uint8 pipeline (normalisation: ``normalisation`` on the device)."""
    channels = 1 if params["image_mode"] == "L" else 3
    normalisation(augments, channels)  # a normalisation that does not fit: one line now
    size = int(params["image_size"])
    try_train_transforms(augments, augments_path)  # a transform that cannot run: one line
    train = list(build_train_transforms(augments, augments_path))
    return {
        "train": SplitTransform(size, train, seed=int(params["seed"])),
        "valid": SplitTransform(size, []),
        "test": SplitTransform(size, []),
    }

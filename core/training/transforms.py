"""Albumentations pipelines: augmentation for the train split only; every split ends
with Resize to ``image_size`` and Normalize, then a CHW float tensor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import albumentations as A
import numpy as np
from albumentations.pytorch import ToTensorV2

from core.config.augments import AugmentsConfig, build_train_transforms, try_train_transforms
from core.errors import CockpitError


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


class ImageTransform:
    """A picklable callable (DataLoader workers): HxWxC uint8 array -> CHW float tensor."""

    def __init__(self, steps: Sequence[Any], seed: int | None = None) -> None:
        self.compose = A.Compose(list(steps), seed=seed)

    def __call__(self, array: np.ndarray) -> Any:
        return self.compose(image=array)["image"]


def eval_steps(image_size: int, mean: Sequence[float], std: Sequence[float]) -> list[Any]:
    return [
        A.Resize(image_size, image_size),
        A.Normalize(mean=tuple(mean), std=tuple(std), max_pixel_value=255.0),
        ToTensorV2(),
    ]


def build_transforms(
    params: Mapping[str, Any], augments: AugmentsConfig, augments_path: Path | str
) -> dict[str, ImageTransform]:
    channels = 1 if params["image_mode"] == "L" else 3
    mean, std = normalisation(augments, channels)
    size = int(params["image_size"])
    evaluation = eval_steps(size, mean, std)
    try_train_transforms(augments, augments_path)  # a transform that cannot run: one line
    train = [*build_train_transforms(augments, augments_path), *evaluation]
    return {
        "train": ImageTransform(train, seed=int(params["seed"])),
        "valid": ImageTransform(evaluation),
        "test": ImageTransform(evaluation),
    }

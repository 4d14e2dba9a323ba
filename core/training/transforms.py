"""Albumentations pipelines: augmentation for the train split only; every split ends
with Resize to ``image_size`` and Normalize, then a CHW float tensor."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from core.config.augments import AugmentsConfig, build_train_transforms, try_train_transforms
from core.errors import CockpitError
from core.preprocessing import ImageTransform, eval_steps

__all__ = ["ImageTransform", "build_transforms", "eval_steps", "normalisation"]


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

"""Augmented versions of a theme's real images, made by the pipeline training uses:
decode in ``image_mode``, brightness correction, the first patch, the train transforms of
augments.yaml, Resize to ``image_size`` (Normalize and the tensor conversion are left out:
the result is what the network sees, as a picture).

Imports albumentations (which brings torch along), so a GUI calls it in a background
worker, and only when the user asks for the preview.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image
from sqlalchemy import select

from core.config.augments import AugmentsConfig, build_train_transforms
from core.data.themes import get_theme
from core.db import Label, TrainData, open_database
from core.errors import CockpitError
from core.workspace import Workspace


@dataclass(frozen=True)
class AugmentedImage:
    image_path: str  # relative to the workspace
    label: str
    original: np.ndarray  # HxWxC uint8, preprocessed and resized, not augmented
    variants: list[np.ndarray]  # the same image through the train augmentations


def _pick_images(workspace: Workspace, theme: str, count: int, seed: int) -> list[tuple[str, str]]:
    """(image path, label) of up to ``count`` labeled images, train split first."""
    db = open_database(workspace)
    with db.session() as session:
        theme_row = get_theme(session, theme)
        rows = session.execute(
            select(TrainData.image_path, Label.label_name, TrainData.split)
            .join(Label, TrainData.label_id == Label.id)
            .where(TrainData.theme_id == theme_row.id)
            .order_by(TrainData.id)
        ).all()
    if not rows:
        raise CockpitError(f"theme {theme!r} has no labeled images to preview; label some first")
    train = [r for r in rows if r.split == "train"] or list(rows)
    random.Random(seed).shuffle(train)
    # round robin over the labels, so every class shows up when there are enough slots
    by_label: dict[str, list[Any]] = {}
    for row in train:
        by_label.setdefault(row.label_name, []).append(row)
    ordered = [group[i] for i in range(len(train)) for group in by_label.values() if i < len(group)]
    return [(r.image_path, r.label_name) for r in ordered[:count]]


def augmentation_samples(
    workspace: Workspace,
    theme: str,
    params: Mapping[str, Any],
    augments: AugmentsConfig,
    *,
    images: int = 4,
    variants: int = 4,
    seed: int = 0,
    augments_label: str = "augments.yaml",
) -> list[AugmentedImage]:
    """``variants`` augmented versions of each of ``images`` real images of ``theme``."""
    import albumentations as A

    from core.preprocessing import (
        PreprocessConfig,
        correct_brightness,
        load_image_array,
        patch,
    )

    preprocess = PreprocessConfig.from_params(params)
    size = int(params.get("image_size", 0)) or None
    resize = [A.Resize(size, size)] if size else []
    train = A.Compose([*build_train_transforms(augments, augments_label), *resize], seed=seed)
    plain = A.Compose(resize)
    samples = []
    for image_path, label in _pick_images(workspace, theme, images, seed):
        try:
            with Image.open(workspace.root / image_path) as image:
                array = load_image_array(image, preprocess.image_mode)
        except (OSError, ValueError) as exc:
            raise CockpitError(f"image {image_path} cannot be read: {exc}") from exc
        array = np.ascontiguousarray(
            patch(correct_brightness(array, preprocess), preprocess.patch_grid, 0)
        )
        samples.append(
            AugmentedImage(
                image_path,
                label,
                np.ascontiguousarray(plain(image=array)["image"]),
                [np.ascontiguousarray(train(image=array)["image"]) for _ in range(variants)],
            )
        )
    return samples

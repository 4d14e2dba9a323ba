"""``configs/augments.yaml``: albumentations transforms applied to the train split only.

    train:
      - type: HorizontalFlip
        p: 0.5
      - type: Rotate
        limit: 15
    normalize:
      mean: [0.485, 0.456, 0.406]
      std: [0.229, 0.224, 0.225]

Valid and test images get only Resize (to ``image_size``) and Normalize.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.config.yaml_schema import validate_document
from core.errors import CockpitError
from core.fileio import load_yaml_mapping


class TransformSpec(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    type: str = Field(
        min_length=1, description="albumentations transform class, e.g. HorizontalFlip"
    )

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class NormalizeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    mean: tuple[float, float, float] | tuple[float] = (0.485, 0.456, 0.406)
    std: tuple[float, float, float] | tuple[float] = (0.229, 0.224, 0.225)

    @field_validator("std")
    @classmethod
    def _positive(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(v <= 0 for v in value):
            raise ValueError("every std value must be greater than 0")
        return value


class AugmentsConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    train: list[TransformSpec] = Field(default_factory=list)
    normalize: NormalizeSpec = Field(default_factory=NormalizeSpec)


def load_augments(path: Path) -> AugmentsConfig:
    """Parse and validate the structure of augments.yaml (missing file = no augmentation)."""
    data = load_yaml_mapping(path, "augmentation file", missing_ok=True)
    return validate_document(AugmentsConfig, data, path)


def build_train_transforms(config: AugmentsConfig, path: Path | str) -> list[Any]:
    """Instantiate each train transform; a bad name or argument names its YAML key.

    Imports albumentations, so it is called by training and by ``cockpit config check``,
    not at GUI start-up.
    """
    import albumentations as A

    built = []
    for index, spec in enumerate(config.train):
        key = f"{path}: train[{index}]"
        cls = getattr(A, spec.type, None)
        if not isinstance(cls, type) or not issubclass(cls, A.BasicTransform):
            raise CockpitError(
                f"{key}.type: {spec.type!r} is not an albumentations transform "
                "(names are case-sensitive, e.g. HorizontalFlip, Rotate, RandomBrightnessContrast)"
            )
        try:
            built.append(cls(**spec.arguments))
        except Exception as exc:  # albumentations validates arguments with pydantic
            detail = " ".join(str(exc).split())
            raise CockpitError(f"{key} ({spec.type}): invalid arguments: {detail}") from exc
    return built


def try_train_transforms(config: AugmentsConfig, path: Path | str) -> None:
    """Build each train transform and run it once, always applied, on a tiny RGB image: a
    transform that builds but cannot run (a ``Lambda`` given text instead of a function,
    a wrong argument type) fails here, naming its YAML key, instead of in training.

    A crop larger than the tiny image is not an error: real images may be large enough.
    """
    import albumentations as A
    import numpy as np
    from albumentations.augmentations.crops.transforms import CropSizeError

    build_train_transforms(config, path)  # names and arguments, with their messages
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    for index, spec in enumerate(config.train):
        try:
            transform = getattr(A, spec.type)(**{**spec.arguments, "p": 1.0})
            A.Compose([transform], seed=0)(image=image)
        except CropSizeError:
            continue
        except Exception as exc:
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise CockpitError(
                f"{path}: train[{index}] ({spec.type}): fails on a test image: {detail}; "
                "fix or remove this transform"
            ) from exc

"""Parameters of the ``images`` dataset: a theme's labeled images from the workspace DB."""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, Field


def _ratios_sum_to_one(value: tuple[float, float, float]) -> tuple[float, float, float]:
    if any(r < 0 for r in value) or abs(sum(value) - 1.0) > 1e-6:
        raise ValueError("train, valid and test ratios must be >= 0 and add up to 1")
    if value[0] <= 0:
        raise ValueError("the train ratio must be above 0")
    return value


@dataclass
class ImagesDatasetConfig:
    image_mode: Annotated[
        Literal["RGB", "L"], Field(description="colour (RGB) or greyscale (L) input")
    ] = "RGB"
    split_ratios: Annotated[
        tuple[float, float, float],
        AfterValidator(_ratios_sum_to_one),
        Field(description="train, valid, test ratios (adding up to 1) of images not yet split"),
    ] = (0.7, 0.15, 0.15)
    split_seed: Annotated[int, Field(ge=0, description="seed of the stratified split")] = 42

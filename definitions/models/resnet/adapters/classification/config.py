"""Input shaping of ``resnet`` for image classification."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field


@dataclass
class ResNetClassificationConfig:
    image_size: Annotated[
        int, Field(ge=32, le=2048, description="images are resized to image_size x image_size")
    ] = 224

"""Input shaping of ``simple_cnn`` for image classification."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field


@dataclass
class SimpleCNNClassificationConfig:
    image_size: Annotated[
        int, Field(ge=16, le=1024, description="images are resized to image_size x image_size")
    ] = 32

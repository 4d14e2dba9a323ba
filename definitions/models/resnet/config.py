"""Parameters of ``resnet``: torchvision ResNet-18/50/101, trained from scratch or from
weights already on disk (nothing is downloaded)."""

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import Field


@dataclass
class ResNetConfig:
    arch: Annotated[
        Literal["resnet18", "resnet50", "resnet101"], Field(description="ResNet depth")
    ] = "resnet18"
    weights_path: Annotated[
        str,
        Field(description="local .pth state dict to start from (ImageNet weights); empty = random"),
    ] = ""

"""Parameters of ``simple_cnn``, the small LeNet-style reference network."""

from dataclasses import dataclass
from typing import Annotated

from pydantic import Field


@dataclass
class SimpleCNNConfig:
    dropout: Annotated[
        float, Field(ge=0, lt=1, description="dropout before each hidden fully connected layer")
    ] = 0.0

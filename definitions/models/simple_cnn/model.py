"""``simple_cnn``: Conv(5x5)-Pool-Conv(5x5)-Pool-FC-FC-FC, any input size >= 16."""

from collections.abc import Mapping
from typing import Any

from torch import Tensor, nn


def _feature_size(image_size: int) -> int:
    after_first = (image_size - 4) // 2
    return (after_first - 4) // 2


class SimpleCNN(nn.Module):
    def __init__(
        self, params: Mapping[str, Any], *, num_classes: int, in_channels: int, image_size: int
    ) -> None:
        super().__init__()
        side = _feature_size(image_size)
        if side < 1:
            raise ValueError(f"simple_cnn needs image_size >= 16, got {image_size}")
        dropout = float(params.get("dropout", 0.0))
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 6, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, kernel_size=5),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * side * side, 120),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(84, num_classes),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x))

"""``resnet``: torchvision's ResNet by name, adapted to the theme's classes and channels."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn
from torchvision import models

from core.errors import CockpitError

ARCHITECTURES = {
    "resnet18": models.resnet18,
    "resnet50": models.resnet50,
    "resnet101": models.resnet101,
}


class ResNetClassifier(nn.Module):
    def __init__(
        self, params: Mapping[str, Any], *, num_classes: int, in_channels: int, image_size: int
    ) -> None:
        super().__init__()
        arch = params.get("arch", "resnet18")
        self.net = ARCHITECTURES[arch](weights=None)
        weights_path = str(params.get("weights_path") or "")
        if weights_path:
            self._load_local_weights(Path(weights_path))
        if in_channels != 3:
            self.net.conv1 = nn.Conv2d(
                in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False
            )
        self.net.fc = nn.Linear(self.net.fc.in_features, num_classes)

    def _load_local_weights(self, path: Path) -> None:
        if not path.is_file():
            raise CockpitError(
                f"weights_path: {path} does not exist; give a local .pth file or leave it empty "
                "(weights are never downloaded)"
            )
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CockpitError(f"weights_path: {path} is not a readable state dict: {exc}") from exc
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, unexpected = self.net.load_state_dict(state, strict=False)
        if unexpected or set(missing) - {"fc.weight", "fc.bias"}:
            raise CockpitError(
                f"weights_path: {path} does not fit {type(self.net).__name__}: "
                f"missing {sorted(missing)[:3]}, unexpected {sorted(unexpected)[:3]}"
            )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)

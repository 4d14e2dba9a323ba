"""The adapter between a dataset and a model: it says how the dataset's images
must be shaped for the model and which arguments build the model.

Definitions subclass these in ``definitions/models/<model>/adapters/<name>/adapter.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from core.errors import CockpitError

CHANNELS_BY_MODE = {"RGB": 3, "L": 1}


class BaseAdapter:
    """Receives the flat ``all_params`` like every other component."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = dict(params)

    def model_kwargs(self, num_classes: int) -> dict[str, Any]:
        raise NotImplementedError

    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of one model input."""
        raise NotImplementedError


class ImageClassificationAdapter(BaseAdapter):
    """Square images of ``image_size`` pixels, channels from the dataset's ``image_mode``."""

    #: the smallest input the model's layers can take; subclasses raise it
    min_image_size = 1

    def __init__(self, params: Mapping[str, Any]) -> None:
        super().__init__(params)
        size = int(self.params["image_size"])
        if size < self.min_image_size:
            raise CockpitError(
                f"image_size: {size} is too small for model {self.params.get('model')!r}; "
                f"use at least {self.min_image_size}"
            )

    @property
    def in_channels(self) -> int:
        return CHANNELS_BY_MODE[self.params.get("image_mode", "RGB")]

    def input_shape(self) -> tuple[int, int, int]:
        size = int(self.params["image_size"])
        return (self.in_channels, size, size)

    def model_kwargs(self, num_classes: int) -> dict[str, Any]:
        if num_classes < 2:
            raise CockpitError(
                f"a classifier needs at least 2 labels with images; this theme has {num_classes}"
            )
        return {
            "num_classes": num_classes,
            "in_channels": self.in_channels,
            "image_size": int(self.params["image_size"]),
        }

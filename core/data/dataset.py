"""A torch Dataset over a data snapshot's images (used in training processes only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from core.data.snapshot import SnapshotItem
from core.errors import CockpitError

Transform = Callable[[np.ndarray], Any]  # HxWxC uint8 array -> model input tensor


class SnapshotImageDataset(Dataset):
    """Yields ``(transform(image), class_index)``; images are decoded in ``image_mode``."""

    def __init__(
        self,
        workspace_root: Path,
        items: Sequence[SnapshotItem],
        transform: Transform,
        image_mode: str = "RGB",
    ) -> None:
        self.root = Path(workspace_root)
        self.items = list(items)
        self.transform = transform
        self.image_mode = image_mode

    def __len__(self) -> int:
        return len(self.items)

    def load_array(self, index: int) -> np.ndarray:
        item = self.items[index]
        path = self.root / item.image_path
        try:
            with Image.open(path) as image:
                array = np.asarray(image.convert(self.image_mode))
        except (OSError, ValueError) as exc:
            raise CockpitError(
                f"image {item.image_path} (id {item.train_data_id}) cannot be read: {exc}; "
                "re-import it or delete it from the theme"
            ) from exc
        return array[..., None] if array.ndim == 2 else array

    def __getitem__(self, index: int) -> tuple[Any, int]:
        return self.transform(self.load_array(index)), self.items[index].class_index

"""A torch Dataset over a data snapshot's images (used in training processes only).

Each image is decoded in ``image_mode``, brightness-corrected, optionally cut into
``patch_grid`` x ``patch_grid`` patches (each patch one sample with the image's label), and
passed through the split's transform.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from core.data.snapshot import SnapshotItem
from core.errors import CockpitError
from core.preprocessing import (
    PreprocessConfig,
    correct_brightness,
    load_image_array,
    patch,
)

Transform = Callable[[np.ndarray], Any]  # HxWxC uint8 array -> model input tensor


class SnapshotImageDataset(Dataset):
    """Yields ``(transform(patch), class_index)``."""

    def __init__(
        self,
        workspace_root: Path,
        items: Sequence[SnapshotItem],
        transform: Transform,
        preprocess: PreprocessConfig,
        cache_dir: Path | None = None,
    ) -> None:
        self.root = Path(workspace_root)
        self.items = list(items)
        self.transform = transform
        self.preprocess = preprocess
        self.cache_dir = cache_dir

    def __len__(self) -> int:
        return len(self.items) * self.preprocess.patches_per_image

    def _decode(self, item: SnapshotItem) -> np.ndarray:
        path = self.root / item.image_path
        try:
            with Image.open(path) as image:
                return load_image_array(image, self.preprocess.image_mode)
        except (OSError, ValueError) as exc:
            raise CockpitError(
                f"image {item.image_path} (id {item.train_data_id}) cannot be read: {exc}; "
                "re-import it or delete it from the theme"
            ) from exc

    def load_array(self, item: SnapshotItem) -> np.ndarray:
        """The preprocessed whole image, from the cache when one is kept."""
        cached = self.cache_dir / f"{item.train_data_id}.npy" if self.cache_dir else None
        if cached is not None and cached.exists():
            return np.load(cached)
        array = correct_brightness(self._decode(item), self.preprocess)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            temporary = cached.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(temporary, array)
            os.replace(temporary, cached)  # workers may race: whole files only
        return array

    def __getitem__(self, index: int) -> tuple[Any, int]:
        item_index, patch_index = divmod(index, self.preprocess.patches_per_image)
        item = self.items[item_index]
        array = patch(self.load_array(item), self.preprocess.patch_grid, patch_index)
        return self.transform(np.ascontiguousarray(array)), item.class_index

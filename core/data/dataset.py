"""A torch Dataset over a data snapshot's images (used in training processes only).

Each image is decoded in ``image_mode``, brightness-corrected, optionally cut into
``patch_grid`` x ``patch_grid`` patches (each patch one sample with the image's label), and
passed through the split's transform. With an ``ImageCache`` the deterministic part of
that (decode, brightness, patch, and the transform's ``prepare`` step: the resize when the
split has no random augmentation) is done once per image and kept; only the rest runs per
item. Cached or not, an item is the same tensor.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from torch.utils.data import Dataset

from core.data.image_cache import ImageCache
from core.data.png_decode import decode_plain_png
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
    """Yields ``(transform(patch), class_index)``.

    ``transform`` may split itself (``core.training.transforms.SplitTransform``): its
    ``prepared`` part is what ``cache`` keeps, its ``finish`` part runs per item; any
    other callable runs whole, per item, after a cached decode.
    """

    def __init__(
        self,
        workspace_root: Path,
        items: Sequence[SnapshotItem],
        transform: Transform,
        preprocess: PreprocessConfig,
        cache: ImageCache | None = None,
    ) -> None:
        self.root = Path(workspace_root)
        self.items = list(items)
        self.paths = [self.root / item.image_path for item in self.items]
        self.transform = transform
        self.preprocess = preprocess
        self.cache = cache
        grid = preprocess.patch_grid
        stage = getattr(transform, "cache_key", "decoded")
        self._variants = [
            f"{preprocess.key}-{stage}-patch{grid}x{grid}-{i}"
            for i in range(preprocess.patches_per_image)
        ]

    def __len__(self) -> int:
        return len(self.items) * self.preprocess.patches_per_image

    def _fail(self, item: SnapshotItem, exc: Exception) -> CockpitError:
        return CockpitError(
            f"image {item.image_path} (id {item.train_data_id}) cannot be read: {exc}; "
            "re-import it or delete it from the theme"
        )

    def _decode(self, item: SnapshotItem, path: Path | None = None) -> np.ndarray:
        try:
            data = (path or self.root / item.image_path).read_bytes()
        except OSError as exc:
            raise self._fail(item, exc) from exc
        return self._decode_bytes(item, data)

    def _decode_bytes(self, item: SnapshotItem, data: bytes) -> np.ndarray:
        """What Pillow decodes (``load_image_array``); a plain PNG by a faster decoder
        that gives the same array (``core.data.png_decode``)."""
        mode = self.preprocess.image_mode
        fast = decode_plain_png(data, mode)
        if fast is not None:
            return fast
        try:
            with Image.open(io.BytesIO(data)) as image:
                return load_image_array(image, mode)
        except (OSError, ValueError) as exc:
            raise self._fail(item, exc) from exc

    def load_array(self, item: SnapshotItem) -> np.ndarray:
        """The decoded, brightness-corrected whole image."""
        return correct_brightness(self._decode(item), self.preprocess)

    def _prepared(self, image: np.ndarray, patch_index: int) -> np.ndarray:
        array = np.ascontiguousarray(patch(image, self.preprocess.patch_grid, patch_index))
        prepared = getattr(self.transform, "prepared", None)
        return prepared(array) if prepared is not None else array

    def _finish(self, array: np.ndarray) -> Any:
        finish = getattr(self.transform, "finish", None)
        if finish is None:  # one pipeline: it ran nothing yet
            return self.transform(array)
        return finish(array)

    def __getitem__(self, index: int) -> tuple[Any, int]:
        item_index, patch_index = divmod(index, self.preprocess.patches_per_image)
        item = self.items[item_index]
        if self.cache is None:
            decoded = self._decode(item, self.paths[item_index])
            array = self._prepared(correct_brightness(decoded, self.preprocess), patch_index)
            return self._finish(array), item.class_index

        def build(data: bytes) -> np.ndarray:
            decoded = self._decode_bytes(item, data)
            return self._prepared(correct_brightness(decoded, self.preprocess), patch_index)

        try:
            array = self.cache.get(self.paths[item_index], self._variants[patch_index], build)
        except OSError as exc:
            raise self._fail(item, exc) from exc
        return self._finish(array.copy()), item.class_index  # the cache's copy stays intact

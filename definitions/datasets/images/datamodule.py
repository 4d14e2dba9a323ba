"""The ``images`` dataset: a theme's labeled, split images from the workspace database."""

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from torch.utils.data import DataLoader

from core.data.dataset import SnapshotImageDataset
from core.data.image_cache import ImageCache
from core.data.loading import loader_settings
from core.data.snapshot import DataSnapshot
from core.preprocessing import PreprocessConfig


class ImagesDataModule(pl.LightningDataModule):
    """Train/valid/test loaders over a data snapshot; ``transforms`` come from the adapter
    (augmentation for "train", resize for every split; uint8 batches, normalised on the
    device). With ``cache_preprocessed`` the decoded, resized images are kept in memory
    (``cache_memory_mb``, shared by the splits) and under ``output/cache/images/``."""

    def __init__(
        self,
        params: Mapping[str, Any],
        *,
        workspace_root: Path,
        snapshot: DataSnapshot,
        transforms: Mapping[str, Callable[[Any], Any]],
    ) -> None:
        super().__init__()
        self.params = dict(params)
        self.snapshot = snapshot
        preprocess = PreprocessConfig.from_params(params)
        self.cache = (
            ImageCache(
                Path(workspace_root) / "output" / "cache" / "images",
                int(params.get("cache_memory_mb", 1024)) * 2**20,
            )
            if params.get("cache_preprocessed")
            else None
        )
        self.datasets = {
            split: SnapshotImageDataset(
                workspace_root, snapshot.split(split), transforms[split], preprocess, self.cache
            )
            for split in ("train", "valid", "test")
        }

    @property
    def num_classes(self) -> int:
        return len(self.snapshot.class_names)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        dataset = self.datasets[split]
        on_gpu = torch.cuda.is_available()
        settings = loader_settings(
            int(self.params["num_workers"]),
            len(dataset),
            on_gpu,
            served_from_memory=self._served_from_memory(split),
        )
        generator = torch.Generator().manual_seed(int(self.params["seed"]))
        return DataLoader(
            dataset,
            batch_size=int(self.params["batch_size"]),
            shuffle=shuffle,
            generator=generator if shuffle else None,
            num_workers=settings.num_workers,
            pin_memory=settings.pin_memory,
            persistent_workers=settings.persistent_workers,
            prefetch_factor=settings.prefetch_factor,
        )

    def _served_from_memory(self, split: str) -> bool:
        """Whether the split's items will come ready from the in-memory cache: a cache, no
        random step before the resize, and (a guess from the first image) room for all."""
        dataset = self.datasets[split]
        transform = dataset.transform
        if self.cache is None or getattr(transform, "prepare", None) is None or not dataset.items:
            return False
        size = int(getattr(transform, "image_size", 0))
        channels = 1 if self.params.get("image_mode") == "L" else 3
        total = sum(len(d) for d in self.datasets.values())
        return total * size * size * channels <= self.cache.memory_bytes

    def train_dataloader(self) -> DataLoader:
        return self._loader("train", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("valid", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("test", shuffle=False)

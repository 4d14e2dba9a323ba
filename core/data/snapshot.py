"""The data snapshot an experiment trains on: a theme's labeled, split images, their
stable class indices, and the fingerprint that goes into the experiment id."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from core.data.themes import get_theme
from core.db import Database, Label, TrainData
from core.db.models import SPLITS
from core.errors import CockpitError


@dataclass(frozen=True)
class SnapshotItem:
    train_data_id: int
    image_path: str  # relative to the workspace
    class_index: int
    split: str


@dataclass(frozen=True)
class DataSnapshot:
    theme_id: int
    theme_name: str
    class_names: tuple[str, ...]  # index -> label name, in label creation order
    items: tuple[SnapshotItem, ...]
    content_digest: str

    def split(self, name: str) -> list[SnapshotItem]:
        return [item for item in self.items if item.split == name]

    @property
    def train_data_ids(self) -> list[int]:
        """The images this snapshot trains on: what ModelTrainData records for the model."""
        return [item.train_data_id for item in self.items]

    def fingerprint(self) -> dict[str, Any]:
        """Part of the experiment id: any change of image, label or split changes it."""
        return {
            "theme_id": self.theme_id,
            "classes": list(self.class_names),
            "images": len(self.items),
            "digest": self.content_digest,
        }

    def counts(self) -> dict[str, dict[str, int]]:
        table = {name: dict.fromkeys(SPLITS, 0) for name in self.class_names}
        for item in self.items:
            table[self.class_names[item.class_index]][item.split] += 1
        return table


def load_snapshot(db: Database, theme_name: str) -> DataSnapshot:
    """Labeled images with a split; unlabeled or unsplit ones are not part of training."""
    with db.session() as session:
        theme = get_theme(session, theme_name)
        rows = session.execute(
            select(
                TrainData.id,
                TrainData.image_path,
                TrainData.content_hash,
                TrainData.split,
                Label.id,
                Label.label_name,
            )
            .join(Label, TrainData.label_id == Label.id)
            .where(TrainData.theme_id == theme.id, TrainData.split.is_not(None))
            .order_by(TrainData.id)
        ).all()
        theme_id = theme.id
    used = sorted({(label_id, name) for *_, label_id, name in rows})
    class_names = tuple(name for _, name in used)
    index = {label_id: i for i, (label_id, _) in enumerate(used)}
    digest = hashlib.sha256()
    items = []
    for image_id, path, content_hash, split, label_id, _name in rows:
        items.append(SnapshotItem(image_id, path, index[label_id], split))
        digest.update(f"{image_id}:{content_hash}:{index[label_id]}:{split}\n".encode())
    return DataSnapshot(theme_id, theme_name, class_names, tuple(items), digest.hexdigest())


def require_trainable(snapshot: DataSnapshot) -> None:
    """A clear error when the theme cannot be trained on yet."""
    name = snapshot.theme_name
    if len(snapshot.class_names) < 2:
        raise CockpitError(
            f"theme {name!r} has {len(snapshot.class_names)} label(s) with split images; "
            "label images of at least 2 classes and run `cockpit split`"
        )
    for split in ("train", "valid"):
        if not snapshot.split(split):
            raise CockpitError(
                f"theme {name!r} has no {split} images; run `cockpit split --theme {name}`"
            )

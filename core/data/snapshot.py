"""The data snapshot an experiment trains on: a theme's labeled, split images, their
stable class indices, and the fingerprint that goes into the experiment id."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from core.data.splits import allocate, check_ratios
from core.data.themes import get_theme, label_split_counts
from core.db import Database, Label, TrainData
from core.db.models import SPLITS
from core.errors import CockpitError

DEFAULT_RATIOS = (0.7, 0.15, 0.15)


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


def require_trainable(
    snapshot: DataSnapshot,
    db: Database,
    split_ratios: Sequence[float] = DEFAULT_RATIOS,
) -> None:
    """A clear error when the theme cannot be trained on yet, naming what is short and
    a command that fixes it."""
    if len(snapshot.class_names) >= 2 and all(snapshot.split(s) for s in ("train", "valid")):
        return
    raise CockpitError(_shortfall(snapshot.theme_name, db, check_ratios(split_ratios)))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _shortfall(name: str, db: Database, ratios: Sequence[float]) -> str:
    table = label_split_counts(db, name)
    with db.session() as session:
        theme_id = get_theme(session, name).id
        unlabeled = session.scalar(
            select(func.count()).where(TrainData.theme_id == theme_id, TrainData.label_id.is_(None))
        )
    labeled = {label: sum(row.values()) for label, row in table.items() if sum(row.values())}
    if len(labeled) < 2:
        have = ", ".join(f"{label} {n}" for label, n in labeled.items())
        others = [label for label in table if label not in labeled]
        if others:
            command = f"cockpit label set --theme {name} --label {others[0]} FILE..."
            fix = f"label images of {others[0]!r}: `{command}`"
            if unlabeled:
                fix += (
                    f" (`cockpit label unlabeled --theme {name}` lists the {unlabeled} unlabeled)"
                )
            else:
                fix += f" or `cockpit import --theme {name} --label {others[0]} PATH`"
        else:
            fix = f"add a label with `cockpit label add {name} NAME` and label images of it"
        state = (
            f"has labeled images of 1 class only (images per label: {have})"
            if labeled
            else "has no labeled images"
        )
        return f"theme {name!r} {state}; training needs at least 2 classes: {fix}"
    unsplit = sum(row["none"] for row in table.values())
    if unsplit:
        return (
            f"theme {name!r} has {_plural(unsplit, 'labeled image')} without a split; "
            f"run `cockpit split --theme {name}`"
        )
    missing = next(
        (s for s in ("train", "valid") if not any(r[s] for r in table.values())), "valid"
    )
    index = SPLITS.index(missing)
    shown = ", ".join(f"{r:g}" for r in ratios)
    if ratios[index] == 0:
        return (
            f"theme {name!r} has no {missing} images: split_ratios {shown} sends none there; "
            "set a valid share above 0, e.g. split_ratios: [0.7, 0.15, 0.15]"
        )
    where = "; ".join(
        f"{label} " + ", ".join(f"{n} {s}" for s, n in row.items() if n and s != "none")
        for label, row in table.items()
        if label in labeled
    )
    need, label = min(
        (_more_needed([table[label][s] for s in SPLITS], ratios, index), label) for label in labeled
    )
    full = _images_for_every_split(ratios)
    return (
        f"theme {name!r} has no {missing} images ({where}): at split ratios {shown}, "
        f"{_plural(need, 'more labeled image')} of {label!r} put one in {missing} (a class "
        f"needs about {full} images to fill train, valid and test); import and label them: "
        f"`cockpit import --theme {name} --label {label} PATH`, or "
        f"`cockpit label set --theme {name} --label {label} FILE...` for imported ones"
    )


def _more_needed(
    existing: list[int], ratios: Sequence[float], index: int, limit: int = 10_000
) -> int:
    """How many new images one class needs before the split assigns one to ``index``."""
    for extra in range(1, limit):
        if allocate(extra, existing, ratios)[index]:
            return extra
    return limit


def _images_for_every_split(ratios: Sequence[float], limit: int = 10_000) -> int:
    """The fewest images of one class that a fresh split spreads over every split with a
    share above 0."""
    for count in range(1, limit):
        got = allocate(count, [0, 0, 0], ratios)
        if all(n or not r for n, r in zip(got, ratios, strict=True)):
            return count
    return limit

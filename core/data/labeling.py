"""Labeling images: one batched UPDATE per action, returning what it replaced so the GUI
can undo it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import select, update

from core.db import Database, Label, TrainData
from core.errors import CockpitError

CHUNK = 500  # SQLite's bound-parameter limit is far above; keeps statements small


def set_labels(
    db: Database,
    theme_id: int,
    image_ids: Sequence[int],
    label_id: int | None,
    labeled_by: str | None = None,
) -> dict[int, int | None]:
    """Give ``image_ids`` the label ``label_id`` (None = unlabel). Returns each image's
    previous label, for undo. Images keep their split."""
    if not image_ids:
        return {}
    with db.session() as session:
        if label_id is not None:
            label = session.get(Label, label_id)
            if label is None or label.theme_id != theme_id:
                raise CockpitError(f"label id {label_id} does not belong to this theme")
        previous = {}
        for start in range(0, len(image_ids), CHUNK):
            chunk = list(image_ids[start : start + CHUNK])
            rows = session.execute(
                select(TrainData.id, TrainData.label_id).where(
                    TrainData.theme_id == theme_id, TrainData.id.in_(chunk)
                )
            ).all()
            previous.update(dict(rows))
            session.execute(
                update(TrainData)
                .where(TrainData.theme_id == theme_id, TrainData.id.in_(chunk))
                .values(label_id=label_id, labeled_by=labeled_by if label_id else None)
            )
    return previous


def restore_labels(db: Database, theme_id: int, previous: Mapping[int, int | None]) -> None:
    """Undo ``set_labels``: put every image's earlier label back (grouped by label)."""
    groups: dict[int | None, list[int]] = defaultdict(list)
    for image_id, label_id in previous.items():
        groups[label_id].append(image_id)
    with db.session() as session:
        for label_id, ids in groups.items():
            for start in range(0, len(ids), CHUNK):
                session.execute(
                    update(TrainData)
                    .where(
                        TrainData.theme_id == theme_id, TrainData.id.in_(ids[start : start + CHUNK])
                    )
                    .values(label_id=label_id)
                )

"""Find a theme's images by label, split and name: the queries behind the labeling grid."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, func, select

from core.db import Database, TrainData

UNLABELED = -1  # label filter value for "no label"


@dataclass(frozen=True)
class ImageFilter:
    theme_id: int
    label_id: int | None = None  # None = any label; UNLABELED = only unlabeled images
    split: str | None = None  # None = any; "none" = images without a split
    name_contains: str = ""


@dataclass(frozen=True)
class ImageRow:
    id: int
    image_path: str
    label_id: int | None
    split: str | None
    original_name: str


def _where(query: Select, spec: ImageFilter) -> Select:
    query = query.where(TrainData.theme_id == spec.theme_id)
    if spec.label_id == UNLABELED:
        query = query.where(TrainData.label_id.is_(None))
    elif spec.label_id is not None:
        query = query.where(TrainData.label_id == spec.label_id)
    if spec.split == "none":
        query = query.where(TrainData.split.is_(None))
    elif spec.split is not None:
        query = query.where(TrainData.split == spec.split)
    if spec.name_contains:
        pattern = spec.name_contains.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(TrainData.original_name.like(f"%{pattern}%", escape="\\"))
    return query


def count_images(db: Database, spec: ImageFilter) -> int:
    with db.session() as session:
        return session.scalar(_where(select(func.count()).select_from(TrainData), spec)) or 0


def list_images(
    db: Database, spec: ImageFilter, offset: int = 0, limit: int = 1000
) -> list[ImageRow]:
    """One page of matching images in import order."""
    query = _where(
        select(
            TrainData.id,
            TrainData.image_path,
            TrainData.label_id,
            TrainData.split,
            TrainData.original_name,
        ),
        spec,
    )
    with db.session() as session:
        result = session.execute(query.order_by(TrainData.id).offset(offset).limit(limit))
        return [ImageRow(*row) for row in result]

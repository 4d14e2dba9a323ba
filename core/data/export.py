"""Export a theme as an ImageFolder tree and as a manifest (path, label, split)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from core.data.themes import get_theme
from core.db import Database, Label, TrainData
from core.errors import CockpitError
from core.fileio import atomic_write_text
from core.names import inside
from core.workspace import Workspace


@dataclass(frozen=True)
class ManifestRow:
    path: str  # relative to the workspace
    label: str | None
    split: str | None
    original_name: str
    width: int
    height: int


def manifest_rows(db: Database, theme_name: str) -> list[ManifestRow]:
    with db.session() as session:
        theme = get_theme(session, theme_name)
        rows = session.execute(
            select(
                TrainData.image_path,
                Label.label_name,
                TrainData.split,
                TrainData.original_name,
                TrainData.width,
                TrainData.height,
            )
            .outerjoin(Label, TrainData.label_id == Label.id)
            .where(TrainData.theme_id == theme.id)
            .order_by(TrainData.id)
        ).all()
    return [ManifestRow(*row) for row in rows]


def write_manifest(db: Database, theme_name: str, destination: Path) -> int:
    """Write a .csv or .json manifest; returns the number of rows."""
    rows = manifest_rows(db, theme_name)
    fields = list(ManifestRow.__dataclass_fields__)
    if destination.suffix == ".json":
        text = json.dumps([row.__dict__ for row in rows], indent=1, ensure_ascii=False) + "\n"
    elif destination.suffix == ".csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(row.__dict__ for row in rows)
        text = buffer.getvalue()
    else:
        raise CockpitError(f"manifest {destination}: use a .csv or .json file name")
    atomic_write_text(destination, text)
    return len(rows)


def export_imagefolder(
    db: Database, workspace: Workspace, theme_name: str, destination: Path, *, by_split: bool
) -> int:
    """Copy labeled images to ``destination/[split/]label/file``; returns images copied."""
    if destination.exists() and any(destination.iterdir()):
        raise CockpitError(f"export folder {destination} is not empty; choose a new folder")
    copied = 0
    for row in manifest_rows(db, theme_name):
        if row.label is None or (by_split and row.split is None):
            continue
        folder = inside(
            destination,
            destination / (row.split or "") / row.label if by_split else destination / row.label,
            f"label {row.label!r} as an export folder",
        )
        folder.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(workspace.root / row.path, folder / Path(row.path).name)
        except OSError as exc:
            raise CockpitError(f"cannot export {row.path}: {exc.strerror or exc}") from exc
        copied += 1
    return copied

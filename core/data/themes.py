"""Themes and their labels: create, rename, delete, with the checks a user needs."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.data.staging import remove_uncommitted
from core.db import Database, Label, Theme, TrainData
from core.errors import CockpitError
from core.names import check_name
from core.workspace import Workspace


def _check_name(kind: str, name: str) -> str:
    # the shared rule applies to new names; themes and labels stored before it keep working
    return check_name(f"{kind} name", name, note=f"(existing {kind}s with other names stay usable)")


def get_theme(session: Session, name: str) -> Theme:
    theme = session.scalar(select(Theme).where(Theme.name == name))
    if theme is None:
        known = session.scalars(select(Theme.name).order_by(Theme.name)).all()
        listed = ", ".join(known) or "none yet (create one with `cockpit theme create`)"
        raise CockpitError(f"theme {name!r} does not exist; themes: {listed}")
    return theme


def get_label(session: Session, theme: Theme, name: str) -> Label:
    label = session.scalar(
        select(Label).where(Label.theme_id == theme.id, Label.label_name == name)
    )
    if label is None:
        known = ", ".join(lb.label_name for lb in theme.labels) or "none"
        raise CockpitError(
            f"label {name!r} does not exist in theme {theme.name!r}; labels: {known}"
        )
    return label


def create_theme(
    db: Database, name: str, labels: Sequence[str] = (), description: str = ""
) -> Theme:
    name = _check_name("theme", name)
    with db.session() as session:
        if session.scalar(select(Theme.id).where(Theme.name == name)) is not None:
            raise CockpitError(f"theme {name!r} already exists; choose another name")
        theme = Theme(name=name, description=description)
        session.add(theme)
        session.flush()
        add_labels_in(session, theme, labels)
    return theme


def rename_theme(db: Database, old: str, new: str) -> None:
    new = _check_name("theme", new)
    with db.session() as session:
        theme = get_theme(session, old)
        if new != old and session.scalar(select(Theme.id).where(Theme.name == new)) is not None:
            raise CockpitError(f"theme {new!r} already exists; choose another name")
        theme.name = new


def delete_theme(db: Database, workspace: Workspace, name: str) -> int:
    """Delete the theme, its labels and image rows; its image files go only after the
    database commit succeeded, and only the files its rows named (a file the database
    does not know stays, with its folder). Returns the number of images removed."""
    with db.session() as session:
        theme = get_theme(session, name)
        theme_id = theme.id
        paths = list(
            session.scalars(select(TrainData.image_path).where(TrainData.theme_id == theme_id))
        )
        session.execute(TrainData.__table__.delete().where(TrainData.theme_id == theme_id))
        session.delete(theme)
    folder = workspace.images_dir / str(theme_id)
    for relative in paths:
        path = workspace.root / relative
        if path.parent == folder:  # rows name images/<theme_id>/<file>; nothing else
            path.unlink(missing_ok=True)
    remove_uncommitted(folder, ())  # files of an interrupted import: no row at all now
    (folder / ".import.lock").unlink(missing_ok=True)
    with suppress(OSError):
        folder.rmdir()  # only when empty
    return len(paths)


def add_labels_in(session: Session, theme: Theme, names: Sequence[str]) -> list[Label]:
    existing = {label.label_name for label in theme.labels}
    created = []
    for raw in names:
        name = _check_name("label", raw)
        if name in existing:
            raise CockpitError(f"label {name!r} already exists in theme {theme.name!r}")
        label = Label(label_name=name)
        theme.labels.append(label)
        existing.add(name)
        created.append(label)
    session.flush()
    return created


def add_labels(db: Database, theme_name: str, names: Sequence[str]) -> list[str]:
    with db.session() as session:
        theme = get_theme(session, theme_name)
        return [label.label_name for label in add_labels_in(session, theme, names)]


def rename_label(db: Database, theme_name: str, old: str, new: str) -> None:
    new = _check_name("label", new)
    with db.session() as session:
        theme = get_theme(session, theme_name)
        label = get_label(session, theme, old)
        if new != old and any(lb.label_name == new for lb in theme.labels):
            raise CockpitError(f"label {new!r} already exists in theme {theme.name!r}")
        label.label_name = new


def delete_label(
    db: Database,
    theme_name: str,
    name: str,
    *,
    reassign_to: str | None = None,
    unlabel: bool = False,
) -> int:
    """Delete a label. A label still used by images is refused unless the caller asks to
    move its images to ``reassign_to`` or to ``unlabel`` them. Returns images changed."""
    with db.session() as session:
        theme = get_theme(session, theme_name)
        label = get_label(session, theme, name)
        used = session.scalar(select(func.count()).where(TrainData.label_id == label.id)) or 0
        if used and reassign_to is None and not unlabel:
            raise CockpitError(
                f"label {name!r} is used by {used} image(s) in theme {theme.name!r}; "
                "reassign them to another label or unlabel them first"
            )
        target_id = None
        if reassign_to is not None:
            target = get_label(session, theme, reassign_to)
            if target.id == label.id:
                raise CockpitError(f"cannot reassign label {name!r} to itself")
            target_id = target.id
        if used:
            session.execute(
                update(TrainData).where(TrainData.label_id == label.id).values(label_id=target_id)
            )
        theme.labels.remove(label)
        return used


@dataclass(frozen=True)
class ThemeSummary:
    id: int
    name: str
    description: str
    images: int
    unlabeled: int
    labels: dict[str, int]  # label name -> images
    splits: dict[str, int]  # train/valid/test/unsplit -> images


def list_themes(db: Database) -> list[ThemeSummary]:
    with db.session() as session:
        themes = session.scalars(select(Theme).order_by(Theme.name)).all()
        per_label = dict(
            session.execute(
                select(TrainData.label_id, func.count()).group_by(TrainData.label_id)
            ).all()
        )
        per_split = session.execute(
            select(TrainData.theme_id, TrainData.split, func.count()).group_by(
                TrainData.theme_id, TrainData.split
            )
        ).all()
        unlabeled = dict(
            session.execute(
                select(TrainData.theme_id, func.count())
                .where(TrainData.label_id.is_(None))
                .group_by(TrainData.theme_id)
            ).all()
        )
        summaries = []
        for theme in themes:
            splits = {s or "unsplit": n for tid, s, n in per_split if tid == theme.id}
            summaries.append(
                ThemeSummary(
                    id=theme.id,
                    name=theme.name,
                    description=theme.description,
                    images=sum(splits.values()),
                    unlabeled=unlabeled.get(theme.id, 0),
                    labels={lb.label_name: per_label.get(lb.id, 0) for lb in theme.labels},
                    splits=splits,
                )
            )
        return summaries


def label_split_counts(db: Database, theme_name: str) -> dict[str, dict[str, int]]:
    """Images per label and split (``"none"`` = not split yet), labels in creation order."""
    with db.session() as session:
        theme = get_theme(session, theme_name)
        rows = session.execute(
            select(TrainData.label_id, TrainData.split, func.count())
            .where(TrainData.theme_id == theme.id, TrainData.label_id.is_not(None))
            .group_by(TrainData.label_id, TrainData.split)
        ).all()
        table = {
            lb.label_name: dict.fromkeys(("train", "valid", "test", "none"), 0)
            for lb in theme.labels
        }
        names = {lb.id: lb.label_name for lb in theme.labels}
        for label_id, split, count in rows:
            table[names[label_id]][split or "none"] = count
        return table

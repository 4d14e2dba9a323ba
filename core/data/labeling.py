"""Labeling images: one batched UPDATE per action, returning what it replaced so the GUI
can undo it."""

from __future__ import annotations

import fnmatch
import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core.data.themes import get_theme
from core.db import Database, Label, TrainData
from core.errors import CockpitError

CHUNK = 500  # SQLite's bound-parameter limit is far above; keeps statements small
_GLOB = frozenset("*?[")


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
        return _update_labels(session, theme_id, image_ids, label_id, labeled_by)


def _update_labels(
    session: Session,
    theme_id: int,
    image_ids: Sequence[int],
    label_id: int | None,
    labeled_by: str | None,
) -> dict[int, int | None]:
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


@dataclass(frozen=True)
class LabelRequest:
    """Give the images that ``ref`` names the label ``label``; ``where`` names the request
    in messages (the argument, or ``labels.csv line 3``)."""

    ref: str  # a file on disk, or the original/stored file name (or glob) of imported images
    label: str
    where: str


@dataclass(frozen=True)
class StoredImage:
    id: int
    image_path: str  # relative to the workspace: images/<theme_id>/<content hash>.<ext>
    original_name: str  # the file name it was imported from
    label: str | None


@dataclass(frozen=True)
class LabelReport:
    theme: str
    per_label: dict[str, int]  # label -> images given it
    relabeled: int  # images that had another label before
    unchanged: int  # images that already had the label


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _theme_images(session: Session, theme_id: int) -> list[tuple[StoredImage, str]]:
    rows = session.execute(
        select(
            TrainData.id,
            TrainData.image_path,
            TrainData.original_name,
            Label.label_name,
            TrainData.content_hash,
        )
        .outerjoin(Label, TrainData.label_id == Label.id)
        .where(TrainData.theme_id == theme_id)
        .order_by(TrainData.id)
    ).all()
    return [
        (StoredImage(i, path, original, label), digest) for i, path, original, label, digest in rows
    ]


def _resolve(
    request: LabelRequest,
    images: list[tuple[StoredImage, str]],
    theme: str,
    base_dir: Path,
) -> list[StoredImage]:
    """The images a request names: a file on disk by its content, else by original name,
    stored name or stored path (globs allowed)."""
    ref = request.ref
    path = Path(ref).expanduser()
    path = path if path.is_absolute() else base_dir / path
    if path.is_file():
        try:
            digest = _file_sha256(path)
        except OSError as exc:
            raise CockpitError(f"{request.where}: cannot read {ref}: {exc.strerror}") from exc
        found = [image for image, content in images if content == digest]
        if not found:
            raise CockpitError(
                f"{request.where}: {ref} is not an image of theme {theme!r} (its content was "
                f"never imported there); import it with "
                f"`cockpit import --theme {theme} --label {request.label} {ref}`"
            )
        return found
    if _GLOB & set(ref):
        found = [
            image
            for image, _ in images
            if any(
                fnmatch.fnmatchcase(name, ref)
                for name in (
                    image.original_name,
                    PurePosixPath(image.image_path).name,
                    image.image_path,
                )
            )
        ]
    else:
        found = [
            image
            for image, _ in images
            if ref in (image.original_name, PurePosixPath(image.image_path).name, image.image_path)
        ]
        if len(found) > 1:
            stored = ", ".join(image.image_path for image in found[:3])
            raise CockpitError(
                f"{request.where}: {ref!r} is the original name of {len(found)} images of theme "
                f"{theme!r} ({stored}{', ...' if len(found) > 3 else ''}); give the stored name "
                "or the file itself"
            )
    if not found:
        raise CockpitError(
            f"{request.where}: no image of theme {theme!r} is the file, or has the original "
            f"or stored name, {ref!r}; `cockpit label unlabeled --theme {theme}` lists the "
            "images still to label"
        )
    return found


def label_images(
    db: Database,
    theme_name: str,
    requests: Sequence[LabelRequest],
    *,
    labeled_by: str | None = None,
    base_dir: Path | None = None,
) -> LabelReport:
    """Label the images the requests name, all in one transaction: an unknown label or
    file, or an image given two different labels, changes nothing. Images keep their split.
    Relative file paths are taken from ``base_dir`` (default: the current folder)."""
    base_dir = base_dir or Path.cwd()
    with db.session() as session:
        theme = get_theme(session, theme_name)
        label_ids = {lb.label_name: lb.id for lb in theme.labels}
        images = _theme_images(session, theme.id)
        chosen: dict[int, tuple[str, str]] = {}  # image id -> (label, where)
        current: dict[int, str | None] = {}
        problems: list[str] = []
        for request in requests:
            if request.label not in label_ids:
                known = ", ".join(label_ids) or "none"
                problems.append(
                    f"{request.where}: label {request.label!r} does not exist in theme "
                    f"{theme_name!r} (labels: {known}); add it with "
                    f"`cockpit label add {theme_name} {request.label}`"
                )
                continue
            try:
                found = _resolve(request, images, theme_name, base_dir)
            except CockpitError as exc:
                problems.append(str(exc))
                continue
            for image in found:
                earlier = chosen.get(image.id)
                if earlier is not None and earlier[0] != request.label:
                    problems.append(
                        f"{request.where}: {image.image_path} ({image.original_name}) is given "
                        f"label {request.label!r} here and {earlier[0]!r} by {earlier[1]}; "
                        "give each image one label"
                    )
                    continue
                chosen[image.id] = (request.label, request.where)
                current[image.id] = image.label
        if problems:
            more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
            raise CockpitError(f"{problems[0]}{more}; no label was changed")
        by_label: dict[str, list[int]] = defaultdict(list)
        for image_id, (name, _where) in chosen.items():
            by_label[name].append(image_id)
        for name, ids in by_label.items():
            _update_labels(session, theme.id, ids, label_ids[name], labeled_by)
    unchanged = sum(1 for i, (name, _) in chosen.items() if current[i] == name)
    relabeled = sum(1 for i, (name, _) in chosen.items() if current[i] not in (None, name))
    return LabelReport(
        theme_name, {name: len(ids) for name, ids in by_label.items()}, relabeled, unchanged
    )


def unlabeled_images(db: Database, theme_name: str) -> list[StoredImage]:
    """The theme's images without a label, in import order."""
    with db.session() as session:
        theme = get_theme(session, theme_name)
        return [image for image, _ in _theme_images(session, theme.id) if image.label is None]


def label_counts(db: Database, theme_id: int) -> dict[int | None, int]:
    """Images of the theme per label id (``None`` = unlabeled); labels without images are
    absent."""
    with db.session() as session:
        rows = session.execute(
            select(TrainData.label_id, func.count())
            .where(TrainData.theme_id == theme_id)
            .group_by(TrainData.label_id)
        ).all()
    return {label_id: count for label_id, count in rows}

"""``cockpit db rebuild``: a new ``database.db`` from the image files of ``images/``.

What the files tell: ``images/<theme_id>/<sha256>.<ext>`` gives each image's theme id,
content hash and (decoded) size. Every training also wrote
``output/experiments/<id>/record/split_manifest.csv`` (image path, label, split) and
``resolved_config.yaml`` (the theme's name): from the newest such record of a theme come
back its name and the labels and splits of the images it trained on, as they were at that
training. What cannot come back: labels given or changed after a theme's last training,
who labelled, original file names, and the database's records of trained models (MLflow
keeps the runs and registered models). A theme never trained comes back named
``recovered-<id>`` (``cockpit theme rename``) with unlabeled, unsplit images.

The new database is written beside the old one and moved into place only when complete;
an unreadable ``database.db`` is kept, renamed, never deleted; a readable one holding a
schema is refused, as it may hold labels.
"""

from __future__ import annotations

import csv
import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from core.data.image_files import SUPPORTED_EXTENSIONS, ValidImage, inspect_image
from core.db import Database, Label, Theme, TrainData
from core.db.engine import forget_database
from core.db.models import SPLITS
from core.errors import CockpitError
from core.stores import sqlite_problem, sqlite_tables
from core.workspace import Workspace

_MANIFEST_PATH = re.compile(r"^images/(\d+)/([0-9a-f]{64}\.[a-z]+)$")
_VALID_NAME = re.compile(r"^[^\x00-\x1f/\\]{1,200}$")  # the rule of theme and label names
_STORED_NAME = re.compile(r"^([0-9a-f]{64})(\.[a-z]+)$")
RECOVERED_PREFIX = "recovered-"


@dataclass
class RebuildReport:
    themes: dict[int, int] = field(default_factory=dict)  # theme id -> images registered
    names: dict[int, str] = field(default_factory=dict)  # theme id -> name given
    labeled: int = 0  # images whose label (and split) came back from a training record
    records_read: int = 0  # experiment records that gave names, labels or splits
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # left in place, with why
    kept_aside: list[Path] = field(default_factory=list)  # old store files, renamed

    @property
    def images(self) -> int:
        return sum(self.themes.values())


def _set_aside(path: Path, stamp: str, report: RebuildReport) -> None:
    for suffix in ("", "-wal", "-shm"):
        old = path.with_name(path.name + suffix)
        if old.exists():
            new = old.with_name(f"{path.name}.unreadable-{stamp}{suffix}")
            os.replace(old, new)
            report.kept_aside.append(new)


def _check_replaceable(path: Path) -> bool:
    """True when ``path`` holds something to set aside (unreadable); raise when it holds a
    readable database that may have labels; False when it is missing or empty."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size == 0:
        return False
    if sqlite_problem(path) is not None:
        return True
    if sqlite_tables(path):
        raise CockpitError(
            f"{path} is a readable database; `cockpit db rebuild` only replaces a missing, "
            "empty or unreadable one, as rebuilding loses labels: move it aside first if "
            "you really mean to rebuild"
        )
    return False


@dataclass
class _Recorded:
    names: dict[int, tuple[float, str]] = field(default_factory=dict)  # id -> (when, name)
    labels: dict[str, tuple[float, str, str | None]] = field(default_factory=dict)
    read: int = 0


def _training_records(workspace: Workspace) -> _Recorded:
    """Theme names and image labels/splits from every experiment's record; the newest
    record wins. An unreadable record is skipped: it only means less comes back."""
    found = _Recorded()
    for folder in sorted(workspace.experiments_dir.glob("*/record")):
        manifest = folder / "split_manifest.csv"
        try:
            when = manifest.stat().st_mtime
            with open(manifest, encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        try:
            config = yaml.safe_load((folder / "resolved_config.yaml").read_text("utf-8"))
            theme = config.get("theme") if isinstance(config, dict) else None
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            theme = None
        used = False
        for row in rows:
            match = _MANIFEST_PATH.match(str(row.get("image_path") or ""))
            if match is None:
                continue
            used = True
            theme_id, path = int(match[1]), match[0]
            if isinstance(theme, str) and theme and found.names.get(theme_id, (-1.0,))[0] <= when:
                found.names[theme_id] = (when, theme)
            label = row.get("label") or None
            split = row.get("split") if row.get("split") in SPLITS else None
            if label and found.labels.get(path, (-1.0,))[0] <= when:
                found.labels[path] = (when, label, split)
        found.read += used
    return found


def _theme_names(ids: list[int], recorded: _Recorded) -> dict[int, str]:
    """The recorded name of each theme; ``recovered-<id>`` when there is none, it is not a
    valid name, or a theme with a newer record claims the same name."""
    claims: dict[str, tuple[float, int]] = {}  # name -> newest (when, id) claiming it
    for theme_id in ids:
        if theme_id in recorded.names:
            when, name = recorded.names[theme_id]
            name = name.strip()
            if _VALID_NAME.match(name) and not name.startswith(RECOVERED_PREFIX):
                claims[name] = max(claims.get(name, (-1.0, -1)), (when, theme_id))
    names = {theme_id: f"{RECOVERED_PREFIX}{theme_id}" for theme_id in ids}
    for name, (_, theme_id) in claims.items():
        names[theme_id] = name
    return names


def rebuild_database(workspace: Workspace) -> RebuildReport:
    """Register every content-named image file of ``images/<theme_id>/`` in a new database."""
    if not workspace.database_is_sqlite:
        raise CockpitError(
            f"`cockpit db rebuild` writes a SQLite database.db, but this workspace's database "
            f"is {workspace.stores.rows()[0][1]}: restore that server's database from its "
            "backup, or unset COCKPIT_DATABASE_URL / stores.database to rebuild database.db"
        )
    target = workspace.database_file
    report = RebuildReport()
    unreadable = _check_replaceable(target)
    found: dict[int, list[ValidImage]] = {}
    folders = (
        sorted(
            (p for p in workspace.images_dir.iterdir() if p.is_dir()),
            key=lambda p: (not p.name.isdigit(), int(p.name) if p.name.isdigit() else 0, p.name),
        )
        if workspace.images_dir.is_dir()
        else []
    )
    for folder in folders:
        if not folder.name.isdigit() or int(folder.name) < 1:
            report.skipped.append((folder, "not a theme folder (images/<theme id>)"))
            continue
        images = []
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            match = _STORED_NAME.match(path.name)
            if not path.is_file() or match is None or match[2] not in SUPPORTED_EXTENSIONS:
                report.skipped.append((path, "not named <sha256>.<ext> by an import"))
                continue
            result = inspect_image(path)
            if not isinstance(result, ValidImage):
                report.skipped.append((path, result.reason))
            elif result.sha256 != match[1] or result.extension != match[2]:
                report.skipped.append((path, "content does not match its name (damaged)"))
            else:
                images.append(result)
        if images:
            found[int(folder.name)] = images

    recorded = _training_records(workspace)
    report.records_read = recorded.read
    report.names = _theme_names(list(found), recorded)

    building = target.with_name(target.name + ".rebuilding")
    for suffix in ("", "-wal", "-shm", "-journal"):  # a previous rebuild's leftovers
        building.with_name(building.name + suffix).unlink(missing_ok=True)
    database = Database(building)
    try:
        database.upgrade()
        with database.session() as session:
            for theme_id, images in found.items():
                theme = Theme(
                    id=theme_id,
                    name=report.names[theme_id],
                    description=f"re-registered from images/{theme_id} by cockpit db rebuild",
                )
                session.add(theme)
                session.flush()
                rows = []
                for image in images:
                    relative = f"images/{theme_id}/{image.source.name}"
                    _, label_name, split = recorded.labels.get(relative, (0.0, None, None))
                    label = None
                    if label_name and _VALID_NAME.match(label_name):
                        label = next(
                            (lb for lb in theme.labels if lb.label_name == label_name), None
                        ) or Label(label_name=label_name)
                        if label not in theme.labels:
                            theme.labels.append(label)
                        report.labeled += 1
                    rows.append(
                        TrainData(
                            image_path=relative,
                            theme_id=theme_id,
                            label=label,
                            split=split if label is not None else None,
                            content_hash=image.sha256,
                            original_name=image.source.name,
                            width=image.width,
                            height=image.height,
                        )
                    )
                session.add_all(rows)
                report.themes[theme_id] = len(images)
    finally:
        database.dispose()
    connection = sqlite3.connect(building)  # one self-contained file, no -wal beside it
    try:
        connection.execute("PRAGMA journal_mode=DELETE")
    finally:
        connection.close()
    forget_database(target)
    if unreadable:
        _set_aside(target, time.strftime("%Y%m%d-%H%M%S"), report)
    else:  # a stale log of a deleted database must not be replayed into the new one
        for suffix in ("-wal", "-shm"):
            stale = target.with_name(target.name + suffix)
            if stale.exists():
                kept = stale.with_name(
                    f"{target.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"
                )
                os.replace(stale, kept)
                report.kept_aside.append(kept)
    os.replace(building, target)
    return report

"""``cockpit db rebuild``: a new ``database.db`` from the image files of ``images/``.

What the files can tell: ``images/<theme_id>/<sha256>.<ext>`` gives each image's theme id,
content hash and (decoded) size. What they cannot: theme names, labels, splits, who
labelled, original file names and trained-model records live only in the database. So
themes come back named ``recovered-<id>`` (rename them with ``cockpit theme rename``) with
unlabeled, unsplit images; the images themselves are all there again.

The new database is written beside the old one and moved into place only when complete;
an unreadable ``database.db`` is kept, renamed, never deleted; a readable one holding a
schema is refused, as it may hold labels.
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.data.image_files import SUPPORTED_EXTENSIONS, ValidImage, inspect_image
from core.db import Database, Theme, TrainData
from core.db.engine import forget_database
from core.errors import CockpitError
from core.stores import sqlite_problem, sqlite_tables
from core.workspace import Workspace

_STORED_NAME = re.compile(r"^([0-9a-f]{64})(\.[a-z]+)$")
RECOVERED_PREFIX = "recovered-"


@dataclass
class RebuildReport:
    themes: dict[int, int] = field(default_factory=dict)  # theme id -> images registered
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


def rebuild_database(workspace: Workspace) -> RebuildReport:
    """Register every content-named image file of ``images/<theme_id>/`` in a new database."""
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
            elif result.sha256 != match[1]:
                report.skipped.append((path, "content does not match its name (damaged)"))
            else:
                images.append(result)
        if images:
            found[int(folder.name)] = images

    building = target.with_name(target.name + ".rebuilding")
    for suffix in ("", "-wal", "-shm", "-journal"):  # a previous rebuild's leftovers
        building.with_name(building.name + suffix).unlink(missing_ok=True)
    database = Database(building)
    try:
        database.upgrade()
        with database.session() as session:
            for theme_id, images in found.items():
                session.add(
                    Theme(
                        id=theme_id,
                        name=f"{RECOVERED_PREFIX}{theme_id}",
                        description=f"re-registered from images/{theme_id} by cockpit db rebuild",
                    )
                )
                session.flush()
                session.add_all(
                    TrainData(
                        image_path=f"images/{theme_id}/{image.source.name}",
                        theme_id=theme_id,
                        content_hash=image.sha256,
                        original_name=image.source.name,
                        width=image.width,
                        height=image.height,
                    )
                    for image in images
                )
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

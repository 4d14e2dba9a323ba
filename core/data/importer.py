"""``cockpit import``: copy images into ``images/<theme_id>/`` under content-hash names.

Each file is decoded before it is accepted (``inspect_image``); bad files are skipped with
a reason, exact duplicates are reported, and rows are committed in batches. Every file an
import creates is first written to the theme's import journal (``.import-journal``); a
killed import leaves files without rows, and the next import of the theme removes exactly
the journaled files that still have no row. A file the journal does not name is never
removed, whatever the database says: only deleting its row (or its theme) removes it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy import select

from core.data.image_files import Rejected, ValidImage, discover, inspect_image
from core.data.staging import (
    ImportJournal,
    journal_path,
    journaled_names,
    remove_uncommitted,
)
from core.data.themes import _check_name, add_labels_in, get_theme
from core.db import Database, Theme, TrainData
from core.errors import CockpitError
from core.workspace import Workspace

ProgressCallback = Callable[[int, int, Path], None]  # done, total, current file
BATCH_SIZE = 256


@dataclass
class ImportReport:
    theme: str
    imported: int = 0
    duplicates: list[tuple[Path, str]] = field(default_factory=list)
    rejected: list[tuple[Path, str]] = field(default_factory=list)
    labels_created: list[str] = field(default_factory=list)
    orphans_removed: int = 0
    # images given a split by the split folder they lay in (train/cat/a.png): split -> count
    splits_from_folders: dict[str, int] = field(default_factory=dict)

    @property
    def examined(self) -> int:
        return self.imported + len(self.duplicates) + len(self.rejected)

    def splits_line(self) -> str | None:
        """"splits from the split folders: train 5, valid 2", or None without any."""
        counts = self.splits_from_folders
        if not counts:
            return None
        shown = ", ".join(f"{s} {counts[s]}" for s in ("train", "valid", "test") if s in counts)
        return f"splits from the split folders: {shown}"


def theme_image_dir(workspace: Workspace, theme_id: int) -> Path:
    return workspace.images_dir / str(theme_id)


def _recover_interrupted(db: Database, folder: Path, theme_id: int) -> int:
    """Remove the files an interrupted import created but never committed a row for
    (see ``core.data.staging``). Returns files removed."""
    if not journaled_names(folder):
        return remove_uncommitted(folder, ())
    with db.session() as session:
        committed = {
            Path(p).name
            for p in session.scalars(
                select(TrainData.image_path).where(TrainData.theme_id == theme_id)
            )
        }
    return remove_uncommitted(folder, committed)


def _file_sha256(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _inspect_all(paths: Sequence[Path], workers: int) -> Iterator[ValidImage | Rejected]:
    # Pillow decodes with the GIL released: a few threads overlap I/O and decoding.
    if workers <= 1:
        yield from map(inspect_image, paths)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(inspect_image, paths)


def _copy_hashing(source: Path, destination: Path) -> str:
    """Copy ``source`` and return the SHA-256 of the bytes copied: the file may have
    changed since it was inspected, and the name must match what is stored."""
    digest = hashlib.sha256()
    with open(source, "rb") as src, open(destination, "wb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
    return digest.hexdigest()


def _sync_files(paths: Sequence[Path]) -> None:
    """Make the copies durable before their rows are committed."""
    if hasattr(os, "sync"):
        os.sync()
        return
    for path in paths:
        with open(path, "rb+") as handle:
            os.fsync(handle.fileno())


@contextmanager
def _exclusive_import(folder: Path, theme_name: str) -> Iterator[None]:
    """One import per theme at a time: orphan clean-up must not race another import."""
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(folder / ".import.lock"))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise CockpitError(
            f"another import into theme {theme_name!r} is running; wait for it to finish"
        ) from None
    try:
        yield
    finally:
        lock.release()


def import_images(
    db: Database,
    workspace: Workspace,
    theme_name: str,
    paths: Sequence[Path | str],
    *,
    label: str | None = None,
    imagefolder: bool | None = None,
    labeled_by: str | None = None,
    progress: ProgressCallback | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> ImportReport:
    """Import files and folders (recursively; ImageFolder layouts give labels) into a theme.

    ``label`` labels every imported image. A label the theme lacks is created together
    with the first image that uses it, so an import that imports nothing creates nothing.
    Safe to rerun after a crash or kill: already imported content is reported as duplicate.
    """
    if label is not None:
        label = _check_name("label", label)
    with db.session() as session:
        theme_id = get_theme(session, theme_name).id
    folder = theme_image_dir(workspace, theme_id)
    workers = workers or min(4, os.cpu_count() or 1)
    with _exclusive_import(folder, theme_name):
        report = ImportReport(theme=theme_name)
        report.orphans_removed = _recover_interrupted(db, folder, theme_id)
        candidates, skipped = discover(paths, imagefolder=imagefolder)
        report.rejected.extend((r.source, r.reason) for r in skipped)
        # class folder names become label names: checked before any file is copied
        label_names = {c.label: _check_name("label", c.label) for c in candidates if c.label}
        label_names[None] = label

        with db.session() as session:
            theme = get_theme(session, theme_name)
            label_ids = {lb.label_name: lb.id for lb in theme.labels}
            known = dict(
                session.execute(
                    select(TrainData.content_hash, TrainData.image_path).where(
                        TrainData.theme_id == theme_id
                    )
                ).all()
            )

        total = len(candidates)
        pending_rows: list[tuple[TrainData, str | None]] = []  # row, label name
        pending_files: list[Path] = []  # files this import created, rows not committed
        seen_in_this_import: dict[str, Path] = {}
        journal = ImportJournal(folder)

        def commit_batch() -> None:
            if not pending_rows:
                return
            _sync_files(pending_files)
            with db.session() as session:
                wanted = {name for _, name in pending_rows if name and name not in label_ids}
                if wanted:
                    theme = session.get(Theme, theme_id) or get_theme(session, theme_name)
                    existing = {lb.label_name: lb.id for lb in theme.labels}
                    missing = sorted(wanted - existing.keys())
                    add_labels_in(session, theme, missing)
                    created = {lb.label_name: lb.id for lb in theme.labels}
                else:
                    missing, created = [], {}
                for row, name in pending_rows:
                    if name:
                        row.label_id = label_ids.get(name) or created[name]
                session.add_all([row for row, _ in pending_rows])
            label_ids.update(created)
            report.labels_created.extend(missing)
            journal.committed()
            report.imported += len(pending_rows)
            pending_rows.clear()
            pending_files.clear()

        try:
            results = _inspect_all([c.source for c in candidates], workers)
            for done, (candidate, result) in enumerate(zip(candidates, results, strict=True), 1):
                if progress is not None:
                    progress(done, total, candidate.source)
                if isinstance(result, Rejected):
                    report.rejected.append((result.source, result.reason))
                    continue
                if result.sha256 in seen_in_this_import:
                    first = seen_in_this_import[result.sha256]
                    report.duplicates.append((candidate.source, f"same content as {first}"))
                    continue
                if result.sha256 in known:
                    report.duplicates.append(
                        (candidate.source, f"already in the theme as {known[result.sha256]}")
                    )
                    continue
                seen_in_this_import[result.sha256] = candidate.source
                relative = f"images/{theme_id}/{result.sha256}{result.extension}"
                target = workspace.root / relative
                # A file already there (same name = same content) was not made by this
                # import: it is used as it is and never journaled, so never removed.
                created = not target.exists()
                if not created and _file_sha256(target) == result.sha256:
                    pass
                else:
                    temporary = target.with_name(f".import-{target.name}.tmp")
                    try:
                        if created:
                            journal.add(target.name)
                        copied_hash = _copy_hashing(candidate.source, temporary)
                        if copied_hash != result.sha256:
                            temporary.unlink(missing_ok=True)
                            report.rejected.append(
                                (candidate.source, "file changed while importing")
                            )
                            del seen_in_this_import[result.sha256]
                            continue
                        os.replace(temporary, target)
                    except OSError as exc:
                        temporary.unlink(missing_ok=True)
                        raise CockpitError(
                            f"cannot copy {candidate.source} into {folder}: "
                            f"{exc.strerror or exc}; {report.imported} image(s) were "
                            "imported, rerun the import to continue"
                        ) from exc
                    if created:
                        pending_files.append(target)
                image_label = label_names[candidate.label]
                pending_rows.append(
                    (
                        TrainData(
                            image_path=relative,
                            theme_id=theme_id,
                            label_id=None,
                            labeled_by=labeled_by if image_label else None,
                            content_hash=result.sha256,
                            split=candidate.split,
                            original_name=candidate.source.name[:500],
                            width=result.width,
                            height=result.height,
                        ),
                        image_label,
                    )
                )
                known[result.sha256] = relative
                if candidate.split:
                    counts = report.splits_from_folders
                    counts[candidate.split] = counts.get(candidate.split, 0) + 1
                if len(pending_rows) >= batch_size:
                    commit_batch()
            commit_batch()
        except BaseException:
            # rows of the unfinished batch were never committed: drop the files this
            # import created for them (a file a committed row refers to is kept)
            journal.close()
            with suppress(Exception):  # database unreachable: the next import cleans up
                _recover_interrupted(db, folder, theme_id)
            raise
        journal.close()
        journal_path(folder).unlink(missing_ok=True)
        return report

"""Import CIFAR-10 from its binary distribution (``cifar-10-batches-bin``) already on disk.

The documented layout (https://www.cs.toronto.edu/~kriz/cifar.html, "binary version"):
each of ``data_batch_1.bin`` … ``data_batch_5.bin`` and ``test_batch.bin`` is a sequence of
3,073-byte records: one byte, the label 0-9, then 3,072 bytes of pixels, the 1,024 red values
of the 32x32 image row by row, then the green and the blue ones. ``batches.meta.txt`` names
the labels, one a line. The bytes are parsed with numpy: nothing is unpickled, nothing runs.

The official split is kept: the training batches are the theme's train split (less a
reproducible ``valid_fraction`` drawn from it for validation, which training needs), the
test batch its test split. Every image goes through the normal import (decoded, content-
named, journaled), so an interrupted import is resumed by running it again.
"""

from __future__ import annotations

import hashlib
import io
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sqlalchemy import select

from core.data.importer import import_images
from core.data.themes import add_labels, create_theme, get_theme
from core.db import Database, TrainData
from core.errors import CockpitError
from core.workspace import Workspace

RECORD_BYTES = 1 + 32 * 32 * 3
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
META_FILE = "batches.meta.txt"
LABELS = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)
SPLIT_SEED = 0

Progress = Callable[[str, int, int], None]  # stage, done, total


@dataclass
class CifarReport:
    theme: str
    folder: Path
    records: dict[str, int] = field(default_factory=dict)  # split -> records read
    imported: int = 0
    duplicates: int = 0  # identical images (the dataset has a few; the first one is kept)
    splits: dict[str, int] = field(default_factory=dict)  # split -> images given it
    kept_splits: int = 0  # images that already had another split (left as they were)

    def lines(self) -> list[str]:
        read = ", ".join(f"{n:,} {s}" for s, n in self.records.items())
        given = ", ".join(f"{n:,} {s}" for s, n in self.splits.items())
        out = [
            f"read {read} records from {self.folder}",
            f"imported {self.imported:,} image(s) into {self.theme!r}; "
            f"{self.duplicates:,} duplicate(s) skipped",
            f"split: {given}",
        ]
        if self.kept_splits:
            out.append(f"{self.kept_splits:,} image(s) already had a split and kept it")
        return out


def find_batches(folder: Path) -> tuple[list[Path], Path]:
    """The training batch files and the test batch file of ``folder`` (or of its
    ``cifar-10-batches-bin`` sub-folder); one line naming what is missing otherwise."""
    folder = Path(folder)
    if (folder / "cifar-10-batches-bin").is_dir():
        folder = folder / "cifar-10-batches-bin"
    if not folder.is_dir():
        raise CockpitError(
            f"{folder}: no such folder; give the folder of CIFAR-10's binary version "
            "(cifar-10-batches-bin, with data_batch_1.bin … test_batch.bin)"
        )
    missing = [n for n in (*TRAIN_FILES, TEST_FILE) if not (folder / n).is_file()]
    if missing:
        raise CockpitError(
            f"{folder}: missing {', '.join(missing)}; CIFAR-10's binary version "
            "(cifar-10-binary.tar.gz, extracted) has data_batch_1.bin … data_batch_5.bin "
            "and test_batch.bin"
        )
    return [folder / n for n in TRAIN_FILES], folder / TEST_FILE


def label_names(folder: Path) -> tuple[str, ...]:
    """The names in ``batches.meta.txt`` (the official ones when the file is absent)."""
    meta = folder / META_FILE
    if not meta.is_file():
        return LABELS
    names = tuple(line.strip() for line in meta.read_text(encoding="utf-8").splitlines())
    names = tuple(n for n in names if n)
    if len(names) != 10:
        raise CockpitError(
            f"{meta}: {len(names)} label names; the file names the 10 classes, one a line "
            "(remove it to use the official names)"
        )
    return names


def read_batch(path: Path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``(n,)`` and images ``(n, 32, 32, 3)`` uint8 of one binary batch file."""
    data = np.fromfile(path, dtype=np.uint8)
    if data.size == 0 or data.size % RECORD_BYTES:
        raise CockpitError(
            f"{path}: {data.size:,} bytes is not a whole number of {RECORD_BYTES:,}-byte "
            "records; is it a CIFAR-10 binary batch file (not the Python/pickle version)?"
        )
    records = data.reshape(-1, RECORD_BYTES)
    if limit is not None:
        records = records[:limit]
    labels = records[:, 0]
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise CockpitError(
            f"{path}: record {bad} has label {int(labels[bad])}; CIFAR-10 labels are 0-9 "
            "(is this CIFAR-100's binary version?)"
        )
    images = records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    return labels.copy(), np.ascontiguousarray(images)


def _png(image: np.ndarray) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(image, mode="RGB").save(buffer, format="PNG")
    return buffer.getvalue()


def _records(
    paths: list[Path], limit: int | None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for path in paths:
        yield read_batch(path, limit)


def import_cifar10(
    db: Database,
    workspace: Workspace,
    theme_name: str,
    folder: Path,
    *,
    valid_fraction: float = 0.1,
    limit: int | None = None,
    progress: Progress | None = None,
) -> CifarReport:
    """Import the binary distribution in ``folder`` into ``theme_name`` (created with the
    ten labels in CIFAR-10's order when missing). ``limit``: the first N records of each
    file only (a quick try). Rerunning it after an interruption finishes the import."""
    if not 0 <= valid_fraction < 1:
        raise CockpitError(
            f"--valid-fraction: {valid_fraction} is outside [0, 1); 0.1 keeps a tenth of "
            "the training images for validation"
        )
    train_files, test_file = find_batches(folder)
    names = label_names(train_files[0].parent)
    # every file is read (and checked) before anything is written
    train = list(_records(train_files, limit))
    test = read_batch(test_file, limit)
    if not _theme_exists(db, theme_name):
        create_theme(db, theme_name, labels=list(names))
    else:
        add_labels(db, theme_name, [n for n in names if n not in _labels(db, theme_name)])
    report = CifarReport(theme=theme_name, folder=train_files[0].parent)
    rng = np.random.default_rng(SPLIT_SEED)
    wanted: dict[str, str] = {}  # content hash -> split
    total = sum(len(labels) for labels, _ in train) + len(test[0])
    done = 0
    with tempfile.TemporaryDirectory(prefix=".cifar10-import-", dir=workspace.root) as tmp:
        staging = Path(tmp)
        for split_name, batches in (("train", train), ("test", [test])):
            root = staging / split_name
            for label in names:
                (root / label).mkdir(parents=True, exist_ok=True)
            count = 0
            for batch_index, (labels, images) in enumerate(batches):
                valid = (
                    rng.random(len(labels)) < valid_fraction
                    if split_name == "train"
                    else np.zeros(len(labels), dtype=bool)
                )
                for i, (label, image) in enumerate(zip(labels, images, strict=True)):
                    data = _png(image)
                    digest = hashlib.sha256(data).hexdigest()
                    split = "valid" if valid[i] else split_name
                    wanted.setdefault(digest, split)  # a duplicate keeps its first split
                    name = f"{split_name}_{batch_index}_{i:05d}.png"
                    (root / names[int(label)] / name).write_bytes(data)
                    count += 1
                    done += 1
                    if progress is not None and done % 500 == 0:
                        progress("converting", done, total)
            report.records[split_name] = count
        if progress is not None:
            progress("converting", total, total)

        def importing(done_files: int, total_files: int, _current: Path) -> None:
            if progress is not None:
                progress("importing", done_files, total_files)

        for split_name in ("train", "test"):
            result = import_images(
                db,
                workspace,
                theme_name,
                [staging / split_name],
                imagefolder=True,
                labeled_by="cifar10",
                progress=importing,
            )
            report.imported += result.imported
            report.duplicates += len(result.duplicates)
    report.splits, report.kept_splits = _assign(db, theme_name, wanted)
    return report


def _theme_exists(db: Database, name: str) -> bool:
    with db.session() as session:
        try:
            get_theme(session, name)
        except CockpitError:
            return False
        return True


def _labels(db: Database, theme_name: str) -> set[str]:
    with db.session() as session:
        return {lb.label_name for lb in get_theme(session, theme_name).labels}


def _assign(db: Database, theme_name: str, wanted: dict[str, str]) -> tuple[dict[str, int], int]:
    """Give the official split to the imported images that have none (one transaction);
    images that already have a split keep it."""
    given: dict[str, int] = {"train": 0, "valid": 0, "test": 0}
    kept = 0
    with db.session() as session:
        theme = get_theme(session, theme_name)
        rows = session.execute(
            select(TrainData).where(TrainData.theme_id == theme.id)
        ).scalars()
        for row in rows:
            split = wanted.get(row.content_hash)
            if split is None:
                continue
            if row.split is None:
                row.split = split
                given[split] += 1
            elif row.split != split:
                kept += 1
            else:
                given[split] += 1
    return given, kept

"""The import journal of a theme's image folder: which files an import created whose rows
are not committed yet.

An import names each file here before it creates it, and empties the journal when the
rows of those files are committed. Whatever an interrupted import left behind is then
exactly the journaled files without a row, plus its ``.import-*.tmp`` copies; nothing
else in the folder is ever removed by this module.
"""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path
from typing import TextIO

JOURNAL_NAME = ".import-journal"


def journal_path(folder: Path) -> Path:
    return folder / JOURNAL_NAME


def journaled_names(folder: Path) -> list[str]:
    try:
        text = journal_path(folder).read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    # a name is a bare file name of this folder; anything else is not ours to touch
    return [
        line
        for line in (raw.strip() for raw in text.splitlines())
        if line and "/" not in line and "\\" not in line and not line.startswith(".")
    ]


def remove_uncommitted(folder: Path, committed: Container[str]) -> int:
    """Remove the journaled files whose name is not in ``committed`` (file names that
    committed rows refer to), the import's temporary copies, then the journal.
    Returns how many journaled files were removed."""
    if not folder.is_dir():
        return 0
    for temporary in folder.glob(".import-*.tmp"):
        temporary.unlink(missing_ok=True)
    removed = 0
    for name in journaled_names(folder):
        path = folder / name
        if name not in committed and path.is_file():
            path.unlink(missing_ok=True)
            removed += 1
    journal_path(folder).unlink(missing_ok=True)
    return removed


class ImportJournal:
    """The journal of one running import (the caller holds the theme's import lock)."""

    def __init__(self, folder: Path) -> None:
        self.path = journal_path(folder)
        self._handle: TextIO | None = None

    def add(self, name: str) -> None:
        """Record ``name`` before the file is created: flushed, so a process killed right
        after creating the file has named it (page cache survives ``kill -9``)."""
        if self._handle is None:
            self._handle = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        self._handle.write(name + "\n")
        self._handle.flush()

    def committed(self) -> None:
        """The rows of every journaled file are committed: nothing left to undo."""
        if self._handle is None:
            return
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.flush()

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

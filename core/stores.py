"""Checks on the workspace's SQLite stores before anything opens them for writing.

A store that is not a SQLite database (random bytes, a text file, a truncated copy) must
stop a command with one line naming the file and what to do, and must not be touched: a
library that opens it would otherwise print a long traceback, or create a new store and
silently show nothing. Reading is done read-only through the ``sqlite3`` module, so that
this stays cheap and below every other layer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.errors import CockpitError
from core.workspace import Workspace

__all__ = [
    "check_mlflow_store",
    "sqlite_problem",
    "sqlite_tables",
    "workspace_image_files",
]


def _connect_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=15)


def sqlite_problem(path: Path) -> str | None:
    """Why the existing, non-empty file ``path`` is not a readable SQLite database, or None.

    Opens read-only and reads the schema; a store that is only locked is not a problem.
    """
    try:
        connection = _connect_read_only(path)
        try:
            connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            connection.close()
    except sqlite3.OperationalError:
        return None  # locked or busy: the caller's own open reports what is wrong
    except sqlite3.DatabaseError as exc:  # not a database, malformed, ...
        return str(exc) or type(exc).__name__
    return None


def sqlite_tables(path: Path) -> set[str]:
    """Names of the tables in the readable SQLite file ``path`` (read-only)."""
    connection = _connect_read_only(path)
    try:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}
    finally:
        connection.close()


def workspace_image_files(workspace: Workspace) -> int:
    """How many imported image files ``images/<theme_id>/`` holds (hidden files excluded)."""
    count = 0
    try:
        folders = [p for p in workspace.images_dir.iterdir() if p.is_dir()]
    except OSError:
        return 0
    for folder in folders:
        try:
            count += sum(1 for p in folder.iterdir() if not p.name.startswith(".") and p.is_file())
        except OSError:
            continue
    return count


def check_mlflow_store(workspace: Workspace) -> None:
    """Refuse an ``mlflow.db`` that is not a SQLite database, before MLflow opens it."""
    path = workspace.mlflow_db_file
    try:
        if path.stat().st_size == 0:
            return
    except OSError:
        return  # missing: MLflow creates an empty store, as for a new workspace
    problem = sqlite_problem(path)
    if problem is not None:
        raise CockpitError(
            f"{path} is not a readable MLflow store ({problem}); it was left unchanged: "
            f"restore mlflow.db from a backup, or rename it (e.g. to mlflow.db.broken) to "
            "start a new, empty MLflow store"
        )

"""Checks on the workspace's stores before anything opens them for writing.

A store that is not a SQLite database (random bytes, a text file, a truncated copy) must
stop a command with one line naming the file and what to do, and must not be touched: a
library that opens it would otherwise print a long traceback, or create a new store and
silently show nothing. Reading is done read-only through the ``sqlite3`` module, so that
this stays cheap and below every other layer. A store on a database server (PostgreSQL,
named by the store settings) is probed with a short connection timeout instead, so an
unreachable server gives one line naming its URL (password masked) and what to check.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.errors import CockpitError
from core.settings import is_sqlite_url, store_problem
from core.workspace import Workspace

__all__ = [
    "check_mlflow_store",
    "check_server_store",
    "probe_server",
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


def _is_database_url(url: str) -> bool:
    scheme = url.split("://", 1)[0].split("+", 1)[0].lower()
    return scheme in ("postgresql", "postgres", "mysql", "mssql")


def probe_server(url: str, timeout: float = 5) -> BaseException | None:
    """Why the database server of ``url`` cannot be reached now, or None when it answers.

    None too for a URL that is no database server's (SQLite files are checked by
    :func:`sqlite_problem`; an MLflow tracking server answers for itself)."""
    if not _is_database_url(url):
        return None
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    connect_args = {"connect_timeout": max(1, round(timeout))} if "postgres" in url else {}
    try:
        engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
    except Exception as exc:  # unknown dialect, missing driver, unreadable URL
        return exc
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return getattr(exc, "orig", None) or exc
    finally:
        engine.dispose()
    return None


def check_server_store(name: str, url: str, timeout: float = 5) -> None:
    """Raise one line naming the masked URL when the server store ``name`` is unreachable."""
    if is_sqlite_url(url):
        return
    problem = probe_server(url, timeout)
    if problem is not None:
        raise store_problem(name, url, problem)


def check_mlflow_store(workspace: Workspace) -> None:
    """Refuse an ``mlflow.db`` that is not a SQLite database, before MLflow opens it;
    for a store on a server, say so in one line when the server cannot be reached."""
    if not workspace.mlflow_is_sqlite:
        check_server_store("mlflow_tracking_uri", workspace.mlflow_tracking_uri)
        return
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

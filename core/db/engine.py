"""Open the workspace database: SQLite with foreign keys and WAL (the default), or a
server database such as PostgreSQL named by the store settings (core/settings.py); the
schema is brought to the newest Alembic revision on open, with a unit-of-work session scope.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import CockpitError
from core.settings import is_sqlite_url, mask_url, sqlite_path, sqlite_url, store_problem
from core.stores import sqlite_problem, sqlite_tables, workspace_image_files
from core.workspace import Workspace

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_opened: dict[Path | str, Database] = {}
_open_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class Database:
    """The workspace database at ``location``: a SQLite file (a Path) or a database URL."""

    def __init__(self, location: Path | str) -> None:
        if isinstance(location, Path):
            self.url = sqlite_url(location)
            self.path: Path | None = location
        else:
            self.url = location
            self.path = sqlite_path(location)
        self.is_sqlite = is_sqlite_url(self.url)
        # what messages name: the file, or the URL with its password masked
        self.label = str(self.path) if self.path is not None else mask_url(self.url)
        if self.is_sqlite:
            self.engine: Engine = create_engine(self.url)
            event.listen(self.engine, "connect", _sqlite_pragmas)
        else:
            try:
                self.engine = create_engine(self.url, pool_pre_ping=True)
            except (ImportError, ArgumentError, ValueError) as exc:
                raise store_problem("database", self.url, exc) from exc
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def _unavailable(self, exc: OperationalError) -> CockpitError:
        if self.is_sqlite:
            return CockpitError(f"cannot open database {self.label}: {exc.orig}")
        return store_problem("database", self.url, exc.orig)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            if not self.is_sqlite and exc.connection_invalidated:
                raise self._unavailable(exc) from exc
            reason = " ".join(str(exc.orig).split())
            raise CockpitError(f"database {self.label}: {reason}; nothing was changed") from exc
        except DatabaseError as exc:
            session.rollback()
            if type(exc) is not DatabaseError:  # IntegrityError & co.: a caller's mistake
                raise
            if not self.is_sqlite:
                reason = " ".join(str(exc.orig).split())
                raise CockpitError(f"database {self.label}: {reason}; nothing was changed") from exc
            raise CockpitError(unreadable_message(self.path, exc.orig)) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def upgrade(self) -> None:
        """Create or upgrade the schema to the newest migration."""
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except CommandError as exc:
            raise CockpitError(
                f"database {self.label} was written by a newer Experiment Cockpit ({exc}); "
                "update the program"
            ) from exc
        except OperationalError as exc:
            raise self._unavailable(exc) from exc
        except DatabaseError as exc:  # not a database, malformed
            if not self.is_sqlite:
                raise store_problem("database", self.url, exc.orig) from exc
            raise CockpitError(unreadable_message(self.path, exc.orig)) from exc

    def dispose(self) -> None:
        self.engine.dispose()


REBUILD_HINT = (
    "run `cockpit db rebuild` to re-register the files of images/ (theme names, labels "
    "and splits come back only as they were at each theme's last training)"
)


def unreadable_message(path: Path, reason: object) -> str:
    return (
        f"{path} is not a readable SQLite database ({reason}); it was left unchanged: "
        f"restore database.db from a backup, or {REBUILD_HINT}"
    )


def check_database_file(workspace: Workspace) -> None:
    """Refuse to open a database that would lose the user's images.

    A missing or empty ``database.db`` next to imported images would become a new, empty
    database whose theme ids name the old image folders; a file that is not a SQLite
    database is refused untouched. A new workspace (no images) passes silently.
    """
    path = workspace.database_file
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = None
    except OSError as exc:
        raise CockpitError(f"cannot read database {path}: {exc.strerror}") from exc
    if size:
        problem = sqlite_problem(path)
        if problem is not None:
            raise CockpitError(unreadable_message(path, problem))
        try:
            fresh = "alembic_version" not in sqlite_tables(path)
        except sqlite3.Error:
            return  # locked: the open itself reports it
        state = "holds no Experiment Cockpit tables"
    else:
        fresh = True
        state = "is missing" if size is None else "is empty (0 bytes)"
    if not fresh:
        return
    images = workspace_image_files(workspace)
    if images:
        raise CockpitError(
            f"{path} {state} but images/ holds {images} imported image file(s): "
            f"restore database.db from a backup, or {REBUILD_HINT}"
        )


def forget_database(path: Path | str) -> None:
    """Close and drop the cached database of ``path`` or URL (it was replaced)."""
    with _open_lock:
        database = _opened.pop(path, None)
    if database is not None:
        database.dispose()


def _lost(path: Path) -> bool:
    try:
        return path.stat().st_size == 0  # a database in use always has its header page
    except OSError:
        return True


def open_database(workspace: Workspace) -> Database:
    """The workspace's database, checked and migrated once per process."""
    if not workspace.database_is_sqlite:
        url = workspace.database_url
        with _open_lock:
            database = _opened.get(url)
            if database is None:
                database = Database(url)
                try:
                    database.upgrade()
                except BaseException:
                    database.dispose()
                    raise
                _opened[url] = database
            return database
    path = workspace.database_file
    with _open_lock:
        database = _opened.get(path)
        if database is None or _lost(path):
            if database is not None:  # deleted or emptied since: check again, as anew
                del _opened[path]
                database.dispose()
            check_database_file(workspace)
            path.parent.mkdir(parents=True, exist_ok=True)
            database = Database(path)
            database.upgrade()
            _opened[path] = database
        return database

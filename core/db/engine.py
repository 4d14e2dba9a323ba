"""Open the workspace database: SQLite with foreign keys and WAL, schema brought to the
newest Alembic revision on open, and a unit-of-work session scope."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from core.errors import CockpitError
from core.workspace import Workspace

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_opened: dict[Path, Database] = {}
_open_lock = threading.Lock()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable at checkpoints
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.engine: Engine = create_engine(f"sqlite:///{path.as_posix()}")
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed when the block ends, rolled back if it raises."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except OperationalError as exc:
            session.rollback()
            raise CockpitError(f"database {self.path}: {exc.orig}; nothing was changed") from exc
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
                f"database {self.path} was written by a newer Experiment Cockpit ({exc}); "
                "update the program"
            ) from exc
        except OperationalError as exc:
            raise CockpitError(f"cannot open database {self.path}: {exc.orig}") from exc

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(workspace: Workspace) -> Database:
    """The workspace's database, migrated once per process."""
    path = workspace.database_file
    with _open_lock:
        database = _opened.get(path)
        if database is None or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            database = Database(path)
            database.upgrade()
            _opened[path] = database
        return database

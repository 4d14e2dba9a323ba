"""``cockpit migrate-stores``: copy a workspace's SQLite stores to a PostgreSQL server.

Each store goes to its own database on the server (they all keep an ``alembic_version``
table): ``<name>`` for the workspace database, ``<name>_mlflow`` for MLflow and
``<name>_optuna`` for Optuna, where ``<name>`` is the database of the ``--to`` URL.
Missing databases are created (the user needs the CREATEDB right; else one line says so).

For each store, its own library builds the schema on the target (Alembic for the
workspace database, MLflow's and Optuna's own migrations), then every row is copied
table by table in foreign-key order through SQLAlchemy reflection - ids kept, so runs,
trials and models keep their numbers - the id sequences are moved past the copied ids,
and the row count of every table is compared. A target that already holds any table is
refused untouched; the SQLite files are never changed, so a failed copy loses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import (
    Boolean,
    DateTime,
    Engine,
    MetaData,
    create_engine,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from core.errors import CockpitError
from core.settings import (
    SETTINGS_FILE_NAME,
    is_sqlite_url,
    mask_url,
    normalize_url,
    sqlite_path,
    store_problem,
)
from core.workspace import Workspace

__all__ = ["StoreCopy", "migrate_stores", "target_urls"]

VERSION_TABLES = {"alembic_version", "version_info"}
CHUNK = 2000
Echo = Callable[[str], None]


@dataclass
class StoreCopy:
    name: str
    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def target_urls(to: str) -> dict[str, str]:
    """The three target URLs (store name -> URL) derived from ``--to``."""
    url = normalize_url(to.strip())
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise CockpitError(f"--to {mask_url(url)}: not a URL ({exc})") from exc
    if not parts.scheme.startswith("postgresql"):
        raise CockpitError(
            f"--to {mask_url(url)}: give a PostgreSQL URL, e.g. "
            "postgresql://USER@HOST:5432/cockpit"
        )
    name = parts.path.strip("/") or "cockpit"

    def with_database(database: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, ""))

    return {
        "database": with_database(name),
        "mlflow_tracking_uri": with_database(f"{name}_mlflow"),
        "optuna_storage": with_database(f"{name}_optuna"),
    }


def _engine(name: str, url: str) -> Engine:
    try:
        return create_engine(url, poolclass=NullPool)
    except Exception as exc:  # missing driver, unknown dialect
        raise store_problem(name, url, exc) from exc


def _ensure_database(name: str, url: str) -> None:
    """Create the database of ``url`` on its server when it does not exist yet."""
    parts = urlsplit(url)
    database = parts.path.strip("/")
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", parts.query, ""))
    engine = _engine(name, admin)
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).scalar()
        if exists:
            return
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            quoted = engine.dialect.identifier_preparer.quote(database)
            connection.execute(text(f"CREATE DATABASE {quoted}"))
    except SQLAlchemyError as exc:
        reason = getattr(exc, "orig", exc)
        if "permission denied" in str(reason).lower():
            raise CockpitError(
                f"cannot create database {database!r} on {mask_url(admin)} ({reason}): "
                "create it empty first (createdb), or grant the user CREATEDB"
            ) from exc
        raise store_problem(name, url, reason) from exc
    finally:
        engine.dispose()


def _refuse_non_empty(name: str, url: str) -> None:
    engine = _engine(name, url)
    try:
        tables = inspect(engine).get_table_names()
    except SQLAlchemyError as exc:
        raise store_problem(name, url, getattr(exc, "orig", exc)) from exc
    finally:
        engine.dispose()
    if tables:
        raise CockpitError(
            f"target {mask_url(url)} is not empty ({len(tables)} table(s), e.g. "
            f"{sorted(tables)[0]}); nothing was copied: name an empty database with --to, "
            "or drop that one first"
        )


def _versions(engine: Engine) -> set[str]:
    names = set(inspect(engine).get_table_names())
    found: set[str] = set()
    with engine.connect() as connection:
        if "alembic_version" in names:
            found |= {f"alembic:{v}" for v in connection.execute(
                text("SELECT version_num FROM alembic_version")).scalars()}
        if "version_info" in names:
            found |= {f"optuna:{v}" for v in connection.execute(
                text("SELECT library_version FROM version_info")).scalars()}
    return found


def _copy_rows(name: str, source: Engine, target: Engine) -> dict[str, int]:
    """Every row of every table but the version tables; counts verified per table."""
    source_meta = MetaData()
    source_meta.reflect(source)
    target_meta = MetaData()
    target_meta.reflect(target)
    missing = set(source_meta.tables) - set(target_meta.tables)
    if missing:
        raise CockpitError(
            f"the {name} store has table(s) {', '.join(sorted(missing))} that a new store of "
            "this program version has not: upgrade the program, then run migrate-stores again"
        )
    counts: dict[str, int] = {}
    with source.connect() as read, target.begin() as write:
        for table in target_meta.sorted_tables:
            if table.name in VERSION_TABLES or table.name not in source_meta.tables:
                continue
            origin = source_meta.tables[table.name]
            columns = [c.name for c in table.columns if c.name in origin.columns]
            booleans = {c.name for c in table.columns if isinstance(c.type, Boolean)}
            # SQLite keeps no time zone: the cockpit writes UTC
            zoned = {
                c.name for c in table.columns
                if isinstance(c.type, DateTime) and c.type.timezone
            }
            write.execute(table.delete())  # rows a library seeded while creating its schema
            copied = 0
            result = read.execution_options(stream_results=True).execute(
                select(*(origin.c[c] for c in columns))
            )
            while batch := result.fetchmany(CHUNK):
                rows = []
                for row in batch:
                    values = dict(zip(columns, row, strict=True))
                    for column in booleans & values.keys():
                        if values[column] is not None:
                            values[column] = bool(values[column])
                    for column in zoned & values.keys():
                        moment = values[column]
                        if isinstance(moment, datetime) and moment.tzinfo is None:
                            values[column] = moment.replace(tzinfo=UTC)
                    rows.append(values)
                write.execute(table.insert(), rows)
                copied += len(rows)
            counts[table.name] = copied
            _advance_sequences(write, table)
        for table_name, copied in counts.items():
            table = target_meta.tables[table_name]
            there = write.execute(select(func.count()).select_from(table)).scalar()
            if there != copied:
                raise CockpitError(
                    f"copy of the {name} store: table {table_name} has {there} row(s) on the "
                    f"target, {copied} were read; nothing was committed"
                )
    return counts


def _advance_sequences(connection, table) -> None:
    """Move each serial/identity sequence of ``table`` past the ids just copied."""
    if connection.dialect.name != "postgresql":
        return
    for column in table.primary_key.columns:
        sequence = connection.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column.name},
        ).scalar()
        if sequence is None:
            continue
        connection.execute(
            text(
                f"SELECT setval(:sequence, COALESCE((SELECT MAX({column.name}) FROM "
                f'"{table.name}"), 0) + 1, false)'
            ),
            {"sequence": sequence},
        )


def _create_workspace_schema(url: str) -> None:
    from core.db.engine import Database

    database = Database(url)
    try:
        database.upgrade()
    finally:
        database.dispose()


def _create_mlflow_schema(url: str) -> None:
    from mlflow.store.db.utils import _initialize_tables

    engine = _engine("mlflow_tracking_uri", url)
    try:
        _initialize_tables(engine)
    finally:
        engine.dispose()


def _create_optuna_schema(url: str) -> None:
    import optuna

    optuna.storages.RDBStorage(url).remove_session()


def _source_engine(name: str, url: str) -> Engine | None:
    path = sqlite_path(url)
    if path is None or not path.exists() or path.stat().st_size == 0:
        return None  # never created: nothing to copy
    return create_engine(
        f"sqlite:///file:{path.resolve().as_posix()}?mode=ro&uri=true", poolclass=NullPool
    )


def migrate_stores(workspace: Workspace, to: str, echo: Echo = print) -> list[StoreCopy]:
    """Copy the SQLite stores of ``workspace`` to the PostgreSQL server of ``to``."""
    settings = workspace.stores
    targets = target_urls(to)
    sources = {name: getattr(settings, name) for name in targets}
    for name, url in sources.items():
        if not is_sqlite_url(url):
            raise CockpitError(
                f"the {name} store is already on a server ({mask_url(url)}); migrate-stores "
                "copies SQLite stores: unset its COCKPIT_* variable or stores entry to copy "
                "the workspace's SQLite file"
            )
    # the workspace database at the newest schema (opening it upgrades it), and checked
    if workspace.database_file.exists():
        from core.db.engine import open_database

        open_database(workspace)
    for name, url in targets.items():
        _ensure_database(name, url)
        _refuse_non_empty(name, url)
    builders = {
        "database": _create_workspace_schema,
        "mlflow_tracking_uri": _create_mlflow_schema,
        "optuna_storage": _create_optuna_schema,
    }
    copies = []
    for name, target_url in targets.items():
        source = _source_engine(name, sources[name])
        copy = StoreCopy(name, sources[name], target_url)
        builders[name](target_url)
        if source is None:
            echo(f"{name}: no SQLite store yet; created an empty one at {mask_url(target_url)}")
            copies.append(copy)
            continue
        target = _engine(name, target_url)
        try:
            if _versions(source) != _versions(target):
                raise CockpitError(
                    f"the {name} store {sqlite_path(sources[name])} has schema "
                    f"{sorted(_versions(source))}, this program writes "
                    f"{sorted(_versions(target))}: open it once with this program "
                    "(e.g. run `cockpit doctor`), then run migrate-stores again"
                )
            copy.counts = _copy_rows(name, source, target)
        except SQLAlchemyError as exc:
            raise store_problem(name, target_url, getattr(exc, "orig", exc)) from exc
        finally:
            source.dispose()
            target.dispose()
        echo(f"{name}: copied {copy.rows} row(s) in {len(copy.counts)} table(s) to "
             f"{mask_url(target_url)}; counts verified")
        copies.append(copy)
    return copies


def write_store_settings(workspace: Workspace, urls: dict[str, str]) -> bool:
    """Name ``urls`` in the workspace's cockpit.yaml (other keys kept), without any
    password: libpq finds it in PGPASSWORD or ~/.pgpass. True when a password was left out.
    """
    import yaml

    from core.fileio import atomic_write_text

    path = workspace.root / SETTINGS_FILE_NAME
    data = {}
    if path.exists():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    stores = dict(data.get("stores") or {})
    dropped = False
    for name, url in urls.items():
        parts = urlsplit(url)
        if parts.password is not None:
            dropped = True
            netloc = (parts.username or "") + "@" + parts.netloc.rsplit("@", 1)[1]
            url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
        stores[name] = url
    data["stores"] = stores
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))
    return dropped

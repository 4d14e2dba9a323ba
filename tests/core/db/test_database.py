import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.exc import IntegrityError

from core.db import Base, Database, Label, Theme, TrainData, open_database
from core.errors import CockpitError


def test_migrated_schema_matches_the_models(workspace):
    db = open_database(workspace)
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"render_as_batch": True})
        assert compare_metadata(context, Base.metadata) == []


def test_sqlite_runs_with_foreign_keys_and_wal(workspace):
    db = open_database(workspace)
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_reopening_an_existing_workspace_keeps_its_data(workspace):
    db = open_database(workspace)
    with db.session() as session:
        session.add(Theme(name="cells", labels=[Label(label_name="a")]))
    db.dispose()
    again = Database(workspace.database_file)
    again.upgrade()  # a second upgrade is a no-op
    with again.session() as session:
        assert session.query(Theme).one().labels[0].label_name == "a"
    version = sqlite3.connect(workspace.database_file).execute(
        "SELECT version_num FROM alembic_version"
    )
    assert version.fetchone() == ("0003",)


def test_a_failed_unit_of_work_changes_nothing(workspace):
    db = open_database(workspace)
    with pytest.raises(IntegrityError), db.session() as session:
        session.add(Theme(name="x"))
        session.flush()
        session.add(TrainData(image_path="p", theme_id=999, content_hash="h", width=1, height=1))
    with db.session() as session:
        assert session.query(Theme).count() == 0


def test_a_database_from_a_newer_program_is_refused(workspace):
    open_database(workspace)
    with sqlite3.connect(workspace.database_file) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(CockpitError, match="newer Experiment Cockpit"):
        Database(workspace.database_file).upgrade()

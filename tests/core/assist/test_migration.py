"""The assist tables arrive by migration on a database written before them."""

from __future__ import annotations

import sqlite3

from alembic import command
from alembic.config import Config

from core.db import Database, Label, Prediction, Theme, TrainData, open_database
from core.db.engine import MIGRATIONS_DIR


def test_a_round_one_database_is_upgraded_and_keeps_its_rows(workspace):
    db = Database(workspace.database_file)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO theme (id, name, description, created_at, updated_at) "
            "VALUES (1, 'cells', '', '2026-11-25', '2026-11-25')"
        )
        connection.exec_driver_sql(
            "INSERT INTO label (id, theme_id, label_name, created_at) VALUES (1, 1, 'a', '2026-11-25')"
        )
        connection.exec_driver_sql(
            "INSERT INTO train_data (id, image_path, theme_id, label_id, split, labeled_by, "
            "content_hash, original_name, width, height, created_at, updated_at) VALUES "
            "(1, 'images/1/x.png', 1, 1, 'train', 'ann', 'h', 'x.png', 4, 4, '2026-11-25', '2026-11-25')"
        )
    db.dispose()
    tables = {
        row[0]
        for row in sqlite3.connect(workspace.database_file).execute(
            "SELECT name FROM sqlite_master WHERE type='table'"
        )
    }
    assert "prediction" not in tables

    upgraded = open_database(workspace)
    with upgraded.session() as session:
        assert session.query(Theme).one().name == "cells"
        image = session.query(TrainData).one()
        assert (image.labeled_by, image.label_id) == ("ann", 1)
        session.add(
            Prediction(
                theme_id=1,
                train_data_id=1,
                model_name="cells_model",
                model_version="1",
                label_id=session.query(Label).one().id,
                probability=0.9,
                top_json="[]",
                least_confidence=0.1,
                margin=0.8,
                entropy=0.3,
            )
        )
    with upgraded.session() as session:
        assert session.query(Prediction).one().probability == 0.9

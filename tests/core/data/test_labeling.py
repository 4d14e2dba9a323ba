import pytest
from sqlalchemy import select

from core.data.importer import import_images
from core.data.labeling import restore_labels, set_labels
from core.data.themes import create_theme
from core.db import TrainData, open_database
from core.errors import CockpitError
from tests.imaging import make_imagefolder


def labels(db):
    with db.session() as session:
        return dict(
            session.execute(select(TrainData.id, TrainData.label_id).order_by(TrainData.id)).all()
        )


def test_label_then_undo_restores_every_image(workspace, tmp_path):
    db = open_database(workspace)
    theme = create_theme(db, "pets", ["cat", "dog"])
    other = create_theme(db, "other", ["x"])
    make_imagefolder(tmp_path / "src", {"cat": 3, "dog": 2})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    before = labels(db)
    dog = next(lb.id for lb in theme.labels if lb.label_name == "dog")
    previous = set_labels(db, theme.id, list(before), dog, labeled_by="ann")
    assert set(labels(db).values()) == {dog}
    restore_labels(db, theme.id, previous)
    assert labels(db) == before
    set_labels(db, theme.id, list(before)[:2], None)
    assert list(labels(db).values())[:2] == [None, None]
    with pytest.raises(CockpitError, match="does not belong"):
        set_labels(db, theme.id, list(before), other.labels[0].id)


def test_label_images_is_one_transaction_when_the_database_fails_midway(workspace, tmp_path):
    import sqlalchemy

    from core.data.labeling import LabelRequest, label_images

    db = open_database(workspace)
    theme = create_theme(db, "pets", ["cat", "dog"])
    make_imagefolder(tmp_path / "src", {"x": 2})
    import_images(db, workspace, "pets", [tmp_path / "src"], imagefolder=False)
    dog = next(lb.id for lb in theme.labels if lb.label_name == "dog")
    with db.engine.begin() as connection:  # a real SQLite failure on the second update
        connection.execute(
            sqlalchemy.text(
                "CREATE TRIGGER fail_dog BEFORE UPDATE OF label_id ON train_data "
                f"WHEN NEW.label_id = {dog} BEGIN SELECT RAISE(ABORT, 'injected'); END"
            )
        )
    requests = [
        LabelRequest("0000.png", "cat", "first"),
        LabelRequest("0001.png", "dog", "second"),
    ]
    with pytest.raises(Exception, match="injected"):
        label_images(db, "pets", requests)
    assert set(labels(db).values()) == {None}  # the cat label of the first was rolled back

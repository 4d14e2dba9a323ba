import pytest

from core.data.themes import (
    add_labels,
    create_theme,
    delete_label,
    delete_theme,
    list_themes,
    rename_label,
    rename_theme,
)
from core.db import TrainData, open_database
from core.errors import CockpitError


@pytest.fixture
def db(workspace):
    return open_database(workspace)


def add_image(db, theme_id, label_id, name="x"):
    with db.session() as session:
        row = TrainData(
            image_path=f"images/{theme_id}/{name}.png",
            theme_id=theme_id,
            label_id=label_id,
            content_hash=name,
            width=16,
            height=16,
        )
        session.add(row)
    return row


def test_create_list_rename(db):
    create_theme(db, "cells", ["a", "b"], "microscopy")
    add_labels(db, "cells", ["c"])
    rename_theme(db, "cells", "blood cells")
    rename_label(db, "blood cells", "c", "platelet")
    [summary] = list_themes(db)
    assert summary.name == "blood cells" and summary.description == "microscopy"
    assert list(summary.labels) == ["a", "b", "platelet"]


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda db: create_theme(db, "cells"), "theme 'cells' already exists"),
        (lambda db: add_labels(db, "cells", ["a"]), "label 'a' already exists"),
        (lambda db: create_theme(db, "x", ["a", "a"]), "label 'a' already exists"),
        (lambda db: create_theme(db, "a/b"), "theme name 'a/b' is not allowed"),
        (lambda db: rename_label(db, "cells", "a", "b"), "label 'b' already exists"),
        (lambda db: add_labels(db, "cels", ["z"]), r"theme 'cels' does not exist; themes: cells"),
        (
            lambda db: delete_label(db, "cells", "zz"),
            r"label 'zz' does not exist in theme 'cells'; labels: a, b",
        ),
    ],
)
def test_clear_errors(db, action, message):
    create_theme(db, "cells", ["a", "b"])
    with pytest.raises(CockpitError, match=message):
        action(db)


def test_deleting_a_label_in_use_is_refused_unless_told_what_to_do(db):
    theme = create_theme(db, "cells", ["a", "b", "c"])
    labels = {lb.label_name: lb.id for lb in theme.labels}
    add_image(db, theme.id, labels["a"], "one")
    add_image(db, theme.id, labels["b"], "two")
    with pytest.raises(CockpitError, match="label 'a' is used by 1 image"):
        delete_label(db, "cells", "a")
    assert delete_label(db, "cells", "a", reassign_to="b") == 1
    assert delete_label(db, "cells", "b", unlabel=True) == 2
    assert delete_label(db, "cells", "c") == 0
    [summary] = list_themes(db)
    assert summary.labels == {} and summary.unlabeled == 2


def test_delete_theme_removes_rows_then_files(db, workspace):
    theme = create_theme(db, "cells", ["a"])
    folder = workspace.images_dir / str(theme.id)
    folder.mkdir(parents=True)
    (folder / "one.png").write_bytes(b"x")
    add_image(db, theme.id, theme.labels[0].id, "one")
    assert delete_theme(db, workspace, "cells") == 1
    assert list_themes(db) == [] and not folder.exists()

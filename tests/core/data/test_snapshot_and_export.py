import csv
import json

import pytest

from core.config import resolve_params
from core.data.export import export_imagefolder, write_manifest
from core.data.importer import import_images
from core.data.snapshot import load_snapshot, require_trainable
from core.data.splits import assign_splits
from core.data.themes import add_labels, create_theme
from core.db import open_database
from core.errors import CockpitError
from tests.imaging import make_image, make_imagefolder


@pytest.fixture
def db(workspace, tmp_path):
    database = open_database(workspace)
    create_theme(database, "pets")
    make_imagefolder(tmp_path / "src", {"cat": 6, "dog": 6})
    import_images(database, workspace, "pets", [tmp_path / "src"])
    import_images(
        database, workspace, "pets", [make_image(tmp_path / "u.png", 999)], imagefolder=False
    )
    return database


def test_snapshot_holds_labeled_split_images_with_stable_classes(db):
    assert len(load_snapshot(db, "pets").items) == 0  # nothing split yet
    assign_splits(db, "pets")
    snapshot = load_snapshot(db, "pets")
    assert snapshot.class_names == ("cat", "dog")
    assert len(snapshot.items) == 12 and len(snapshot.train_data_ids) == 12
    assert sum(snapshot.counts()["cat"].values()) == 6
    require_trainable(snapshot, db)
    # adding a label later does not move existing class indices
    add_labels(db, "pets", ["ant"])
    assert load_snapshot(db, "pets").class_names == ("cat", "dog")


def test_fingerprint_changes_with_labels_and_splits_and_feeds_the_id(db, workspace):
    assign_splits(db, "pets")
    params = resolve_params(workspace)
    first = load_snapshot(db, "pets")
    assert load_snapshot(db, "pets").fingerprint() == first.fingerprint()
    from core.db import TrainData

    with db.session() as session:
        row = session.get(TrainData, first.items[0].train_data_id)
        row.split = "test" if row.split != "test" else "valid"
    moved = load_snapshot(db, "pets")
    assert moved.fingerprint() != first.fingerprint()
    assert params.experiment_id(moved.fingerprint()) != params.experiment_id(first.fingerprint())


def test_untrainable_theme_is_explained(db):
    with pytest.raises(
        CockpitError,
        match=r"has 12 labeled images without a split; run `cockpit split --theme pets`",
    ):
        require_trainable(load_snapshot(db, "pets"), db)
    assign_splits(db, "pets")  # what the message advises
    require_trainable(load_snapshot(db, "pets"), db)


def test_manifest_and_imagefolder_export(db, workspace, tmp_path):
    assign_splits(db, "pets")
    assert write_manifest(db, "pets", tmp_path / "m.csv") == 13
    with open(tmp_path / "m.csv") as handle:
        table = list(csv.DictReader(handle))
    assert {r["label"] for r in table} == {"cat", "dog", ""}
    assert write_manifest(db, "pets", tmp_path / "m.json") == 13
    assert len(json.loads((tmp_path / "m.json").read_text())) == 13
    assert export_imagefolder(db, workspace, "pets", tmp_path / "flat", by_split=False) == 12
    assert len(list((tmp_path / "flat" / "cat").iterdir())) == 6
    assert export_imagefolder(db, workspace, "pets", tmp_path / "by_split", by_split=True) == 12
    assert (tmp_path / "by_split" / "train" / "dog").is_dir()
    with pytest.raises(CockpitError, match="not empty"):
        export_imagefolder(db, workspace, "pets", tmp_path / "flat", by_split=False)
    with pytest.raises(CockpitError, match=r"use a \.csv or \.json"):
        write_manifest(db, "pets", tmp_path / "m.txt")

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from core.data.importer import import_images
from core.data.splits import allocate, assign_splits
from core.data.themes import create_theme
from core.db import TrainData, open_database
from core.errors import CockpitError
from tests.imaging import make_imagefolder


@pytest.fixture
def db(workspace):
    database = open_database(workspace)
    create_theme(database, "pets")
    return database


def assignments(db):
    with db.session() as session:
        return dict(session.execute(select(TrainData.content_hash, TrainData.split)).all())


def test_first_split_is_stratified_and_deterministic(db, workspace, tmp_path):
    make_imagefolder(tmp_path / "src", {"cat": 20, "dog": 40})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    report = assign_splits(db, "pets", (0.5, 0.25, 0.25), seed=7)
    assert report.newly_assigned == 60
    assert report.counts == {
        "cat": {"train": 10, "valid": 5, "test": 5},
        "dog": {"train": 20, "valid": 10, "test": 10},
    }
    first = assignments(db)
    # the same seed on a copy of the data gives the same assignment
    with db.session() as session:
        session.execute(TrainData.__table__.update().values(split=None))
    assign_splits(db, "pets", (0.5, 0.25, 0.25), seed=7)
    assert assignments(db) == first


def test_later_split_keeps_old_assignments_and_balances_new_images(db, workspace, tmp_path):
    make_imagefolder(tmp_path / "one", {"cat": 10})
    import_images(db, workspace, "pets", [tmp_path / "one"])
    assign_splits(db, "pets", (0.7, 0.15, 0.15))
    before = assignments(db)
    make_imagefolder(tmp_path / "two", {"cat": 10}, start_seed=100)
    import_images(db, workspace, "pets", [tmp_path / "two"])
    report = assign_splits(db, "pets", (0.7, 0.15, 0.15))
    after = assignments(db)
    assert report.newly_assigned == 10
    assert all(after[h] == s for h, s in before.items())
    assert report.counts["cat"] == {"train": 14, "valid": 3, "test": 3}
    assert assign_splits(db, "pets").newly_assigned == 0


def test_unlabeled_images_are_not_split(db, workspace, tmp_path):
    make_imagefolder(tmp_path / "src", {"cat": 2})
    import_images(db, workspace, "pets", [tmp_path / "src" / "cat"], imagefolder=False)
    report = assign_splits(db, "pets")
    assert report.newly_assigned == 0 and report.unlabeled_skipped == 2


@pytest.mark.parametrize("ratios", [(0.5, 0.5), (0.5, 0.3, 0.3), (0, 0.5, 0.5), (-0.1, 0.6, 0.5)])
def test_bad_ratios(db, ratios):
    with pytest.raises(CockpitError, match="--ratios"):
        assign_splits(db, "pets", ratios)


@given(
    st.integers(0, 500),
    st.lists(st.integers(0, 200), min_size=3, max_size=3),
    st.sampled_from([(0.7, 0.15, 0.15), (0.8, 0.2, 0.0), (0.6, 0.2, 0.2), (1.0, 0.0, 0.0)]),
)
def test_allocate_hands_out_exactly_the_new_items(new, existing, ratios):
    counts = allocate(new, existing, ratios)
    assert sum(counts) == new and min(counts) >= 0
    for count, ratio in zip(counts, ratios, strict=True):
        if ratio == 0:
            assert count == 0

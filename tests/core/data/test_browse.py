from core.data.browse import UNLABELED, ImageFilter, count_images, list_images
from core.data.importer import import_images
from core.data.splits import assign_splits
from core.data.themes import create_theme
from core.db import open_database
from tests.imaging import make_image, make_imagefolder


def test_filters_by_label_split_and_name(workspace, tmp_path):
    db = open_database(workspace)
    theme = create_theme(db, "pets")
    make_imagefolder(tmp_path / "src", {"cat": 6, "dog": 4})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    import_images(
        db, workspace, "pets", [make_image(tmp_path / "odd_100%.png", 77)], imagefolder=False
    )
    assign_splits(db, "pets", (0.5, 0.5, 0.0))
    with db.session() as session:
        from core.db import Label

        cat = session.query(Label).filter_by(label_name="cat").one().id
    assert count_images(db, ImageFilter(theme.id)) == 11
    assert count_images(db, ImageFilter(theme.id, label_id=cat)) == 6
    assert count_images(db, ImageFilter(theme.id, label_id=UNLABELED)) == 1
    assert count_images(db, ImageFilter(theme.id, split="train")) == 5
    assert count_images(db, ImageFilter(theme.id, split="none")) == 1
    assert count_images(db, ImageFilter(theme.id, label_id=cat, split="valid")) == 3
    assert [
        r.original_name for r in list_images(db, ImageFilter(theme.id, name_contains="100%"))
    ] == ["odd_100%.png"]
    assert count_images(db, ImageFilter(theme.id, name_contains="_")) == 1
    page = list_images(db, ImageFilter(theme.id), offset=2, limit=3)
    assert len(page) == 3 and page[0].id < page[1].id

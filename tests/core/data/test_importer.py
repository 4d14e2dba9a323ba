import os
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import select

from core.data.importer import import_images
from core.data.themes import create_theme, list_themes
from core.db import TrainData, open_database
from core.errors import CockpitError
from tests.imaging import make_image, make_imagefolder


@pytest.fixture
def db(workspace):
    database = open_database(workspace)
    create_theme(database, "pets", ["cat"])
    return database


def stored_files(workspace):
    return sorted(
        p for p in workspace.images_dir.rglob("*") if p.is_file() and not p.name.startswith(".")
    )


def rows(db):
    with db.session() as session:
        return session.scalars(select(TrainData).order_by(TrainData.id)).all()


def test_imagefolder_with_bad_files_and_duplicate(db, workspace, tmp_path):
    source = tmp_path / "src"
    make_imagefolder(source, {"cat": 3, "dog": 2})
    good = (source / "cat" / "0000.png").read_bytes()
    (source / "dog" / "truncated.png").write_bytes(good[: len(good) // 2])
    (source / "dog" / "notes.jpg").write_text("not an image at all")
    (source / "cat" / "copy.png").write_bytes(good)
    progress = []

    report = import_images(
        db, workspace, "pets", [source], progress=lambda d, t, p: progress.append((d, t))
    )

    assert report.imported == 5
    assert report.labels_created == ["dog"]
    assert [(p.name, reason) for p, reason in report.duplicates] == [
        ("copy.png", f"same content as {(source / 'cat' / '0000.png').resolve()}")
    ]
    rejected = {p.name: reason for p, reason in report.rejected}
    assert set(rejected) == {"truncated.png", "notes.jpg"}
    assert progress[-1] == (8, 8)
    [summary] = list_themes(db)
    assert summary.labels == {"cat": 3, "dog": 2}
    # DB and images/ agree: one file per row, named by content hash
    files = stored_files(workspace)
    assert sorted(workspace.root / r.image_path for r in rows(db)) == files
    assert all(
        f.stem == r.content_hash
        for f, r in zip(files, sorted(rows(db), key=lambda r: r.image_path), strict=True)
    )


def test_reimport_reports_duplicates_and_adds_nothing(db, workspace, tmp_path):
    make_imagefolder(tmp_path / "src", {"cat": 4})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    again = import_images(db, workspace, "pets", [tmp_path / "src"])
    assert again.imported == 0 and len(again.duplicates) == 4
    assert "already in the theme as images/" in again.duplicates[0][1]
    assert len(rows(db)) == 4


def test_label_option_and_unlabeled_import(db, workspace, tmp_path):
    a = make_image(tmp_path / "a.png", 1)
    b = make_image(tmp_path / "b.png", 2)
    report = import_images(db, workspace, "pets", [a], label="bird", labeled_by="ann")
    assert report.labels_created == ["bird"]
    import_images(db, workspace, "pets", [b], imagefolder=False)
    first, second = rows(db)
    assert first.label_id is not None and first.labeled_by == "ann"
    assert second.label_id is None and second.labeled_by is None


def test_unknown_theme_and_missing_path(db, workspace, tmp_path):
    with pytest.raises(CockpitError, match="theme 'dogs' does not exist"):
        import_images(db, workspace, "dogs", [tmp_path])
    report = import_images(db, workspace, "pets", [tmp_path / "nope"])
    assert (
        report.rejected == [((tmp_path / "nope").resolve(), "not found")]
        or report.rejected[0][1] == "not found"
    )


def test_killed_import_completes_on_rerun_without_duplicates_or_orphans(db, workspace, tmp_path):
    make_imagefolder(tmp_path / "src", {"cat": 30, "dog": 30})
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from core.workspace import Workspace
        from core.db import open_database
        from core.data.importer import import_images
        ws = Workspace.resolve({str(workspace.root)!r})
        def progress(done, total, path):
            if done == 35:
                os.kill(os.getpid(), signal.SIGKILL)
        import_images(open_database(ws), ws, "pets", [Path({str(tmp_path / "src")!r})],
                      progress=progress, batch_size=10, workers=1)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=120)
    assert done.returncode == -9
    committed = len(rows(db))
    assert 0 < committed < 60  # some batches landed, the rest did not
    report = import_images(db, workspace, "pets", [tmp_path / "src"])
    assert report.imported == 60 - committed
    assert len(report.duplicates) == committed
    all_rows = rows(db)
    assert len(all_rows) == 60 and len({r.content_hash for r in all_rows}) == 60
    assert sorted(workspace.root / r.image_path for r in all_rows) == stored_files(workspace)


def test_a_second_concurrent_import_is_refused(db, workspace, tmp_path):
    from filelock import FileLock

    folder = workspace.images_dir / "1"
    folder.mkdir(parents=True, exist_ok=True)
    with (
        FileLock(str(folder / ".import.lock")),
        pytest.raises(CockpitError, match="another import"),
    ):
        import_images(db, workspace, "pets", [make_image(tmp_path / "a.png", 1)])


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_unwritable_images_folder_is_reported(db, workspace, tmp_path):
    folder = workspace.images_dir / "1"
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o500)
    try:
        with pytest.raises(CockpitError, match="rerun the import"):
            import_images(db, workspace, "pets", [make_image(tmp_path / "a.png", 1)])
    finally:
        folder.chmod(0o700)


def test_a_split_layout_imports_labels_and_splits_from_its_folders(db, workspace, tmp_path):
    """train/<class>, val/<class>, test/<class>: the way most datasets are published."""
    source = tmp_path / "dataset"
    make_imagefolder(source / "train", {"cat": 4, "dog": 3}, start_seed=100)
    make_imagefolder(source / "val", {"cat": 2, "dog": 1}, start_seed=200)
    make_imagefolder(source / "test", {"cat": 1, "dog": 2}, start_seed=300)
    report = import_images(db, workspace, "pets", [source])
    assert report.imported == 13 and report.labels_created == ["dog"]
    assert report.splits_from_folders == {"train": 7, "valid": 3, "test": 3}
    with db.session() as session:
        stored = session.execute(
            select(TrainData.original_name, TrainData.split, TrainData.label_id)
        ).all()
    assert {split for _name, split, _label in stored} == {"train", "valid", "test"}
    assert all(label is not None for _name, _split, label in stored)
    [summary] = list_themes(db)
    assert summary.labels == {"cat": 7, "dog": 6}

    from click.testing import CliRunner

    from cockpit.cli import cli

    again = tmp_path / "more"
    make_imagefolder(again / "training", {"cat": 1}, start_seed=400)
    make_imagefolder(again / "validation", {"cat": 1}, start_seed=500)
    done = CliRunner().invoke(
        cli, ["-w", str(workspace.root), "import", "--theme", "pets", str(again)]
    )
    assert done.exit_code == 0, done.output
    assert "splits from the split folders: train 1, valid 1" in done.output

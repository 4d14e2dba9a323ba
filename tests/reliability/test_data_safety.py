"""Nothing lost in the data paths: the workspace database, imports and corrupt stores.

Each test injects the fault for real (a deleted, emptied or garbage file, a ``kill -9``)
and runs the real ``cockpit`` commands: in-process with the database cache cleared, as a
new process would find it, and a few in a new process to prove the same end to end.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cockpit.cli import cli
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import TrainData, open_database
from core.db.engine import forget_database
from tests.imaging import make_image, make_imagefolder

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


def cockpit(workspace, *args: str, new_process: bool = False) -> Result:
    """Run ``cockpit --workspace WS ARGS``; in this process unless ``new_process``."""
    if new_process:
        env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "400"}
        done = subprocess.run(
            [sys.executable, "-m", "cockpit", "--workspace", str(workspace.root), *args],
            capture_output=True,
            text=True,
            timeout=180,
            env=env,
            cwd=REPO,
        )
        return Result(done.returncode, done.stdout, done.stderr)
    forget_database(workspace.database_file)  # what a new process starts with
    result = CliRunner().invoke(
        cli, ["--workspace", str(workspace.root), *args], catch_exceptions=False
    )
    return Result(result.exit_code, result.stdout, result.stderr)


def error_line(result: Result) -> str:
    """The one line of a refused command (exit 2, no traceback)."""
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones excluded) with the hash of its bytes."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


@pytest.fixture
def imported(workspace, tmp_path):
    """A workspace with theme 'pets' (id 1) and 12 imported, labelled images."""
    db = open_database(workspace)
    create_theme(db, "pets", ["cat", "dog"])
    make_imagefolder(tmp_path / "src", {"cat": 6, "dog": 6})
    report = import_images(db, workspace, "pets", [tmp_path / "src"])
    assert report.imported == 12
    forget_database(workspace.database_file)  # the commands below run in new processes
    files = snapshot(workspace.images_dir)
    assert len(files) == 12
    return files


# --- 1. a lost database must not lose the images ----------------------------------------


@pytest.mark.parametrize("fault", [pytest.param("deleted", marks=pytest.mark.slow), "emptied"])
def test_lost_database_is_refused_and_db_rebuild_brings_the_images_back(
    workspace, tmp_path, imported, fault
):
    db_file = workspace.database_file
    for suffix in ("", "-wal", "-shm"):
        db_file.with_name(db_file.name + suffix).unlink(missing_ok=True)
    if fault == "emptied":
        db_file.write_bytes(b"")
    new_images = tmp_path / "more"
    make_imagefolder(new_images, {"bird": 3}, start_seed=100)

    # the tester's sequence: a new theme (it would get id 1 again), then an import
    for args in (
        ("theme", "create", "birds", "--labels", "bird"),
        ("import", "--theme", "birds", str(new_images)),
    ):
        line = error_line(cockpit(workspace, *args, new_process=fault == "deleted"))
        assert "database.db" in line and "cockpit db rebuild" in line, line
        assert "12 imported image file(s)" in line
        assert snapshot(workspace.images_dir) == imported  # not one image deleted
        assert db_file.exists() == (fault == "emptied")  # no new database was created
        if db_file.exists():
            assert db_file.stat().st_size == 0

    # the advised command works end to end: theme and every image visible again
    rebuilt = cockpit(workspace, "db", "rebuild", new_process=fault == "deleted")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "12 image(s) came back unlabeled" in rebuilt.stdout
    listed = cockpit(workspace, "theme", "list", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [theme] = json.loads(listed.stdout)
    assert (theme["id"], theme["name"], theme["images"]) == (1, "recovered-1", 12)
    with sqlite3.connect(db_file) as connection:
        paths = {p for (p,) in connection.execute("SELECT image_path FROM train_data")}
    assert paths == {f"images/{name}" for name in imported}
    assert snapshot(workspace.images_dir) == imported

    # and the workspace is usable again: rename, re-import (all known), a new theme
    assert cockpit(workspace, "theme", "rename", "recovered-1", "pets").returncode == 0
    again = cockpit(workspace, "import", "--theme", "pets", str(tmp_path / "src"))
    assert again.returncode == 0 and "0 image(s)" in again.stdout and "12 duplicate" in again.stdout
    assert cockpit(workspace, "theme", "create", "birds").returncode == 0
    birds = cockpit(workspace, "import", "--theme", "birds", str(new_images))
    assert birds.returncode == 0, birds.stderr
    with sqlite3.connect(db_file) as connection:
        assert connection.execute("SELECT id FROM theme WHERE name = 'birds'").fetchone() == (2,)
    assert set(imported) <= set(snapshot(workspace.images_dir))


def test_a_fresh_workspace_is_still_created_silently(workspace, tmp_path):
    assert not workspace.database_file.exists()
    result = cockpit(workspace, "theme", "create", "pets", "--labels", "cat", new_process=True)
    assert result.returncode == 0 and result.stderr == ""
    assert workspace.database_file.stat().st_size > 0


def test_db_rebuild_refuses_a_readable_database(workspace, imported):
    before = workspace.database_file.read_bytes()
    line = error_line(cockpit(workspace, "db", "rebuild"))
    assert "readable database" in line and "move it aside" in line
    assert workspace.database_file.read_bytes() == before


# --- 1b. imports remove only what they created -----------------------------------------


def test_import_never_deletes_a_file_it_did_not_create(workspace, tmp_path):
    """A file in images/<id>/ the database does not know (e.g. from an older database)
    survives imports, and survives the clean-up after a killed import."""
    db = open_database(workspace)
    create_theme(db, "pets", ["cat"])
    foreign = make_image(tmp_path / "foreign.png", 999)
    digest = hashlib.sha256(foreign.read_bytes()).hexdigest()
    folder = workspace.images_dir / "1"
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{digest}.png"
    kept.write_bytes(foreign.read_bytes())
    other = folder / "notes.txt"  # anything else a user put there
    other.write_text("mine")

    make_imagefolder(tmp_path / "src", {"cat": 30})
    script = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from core.workspace import Workspace
        from core.db import open_database
        from core.data.importer import import_images
        ws = Workspace.resolve({str(workspace.root)!r})
        def progress(done, total, path):
            if done == 15:
                os.kill(os.getpid(), signal.SIGKILL)
        import_images(open_database(ws), ws, "pets", [Path({str(tmp_path / "src")!r})],
                      progress=progress, batch_size=10, workers=1)
    """)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, timeout=120)
    assert done.returncode == -9, done.stderr
    uncommitted = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    uncommitted -= {kept.name, other.name}
    with db.session() as session:
        rows = {Path(p).name for p in session.scalars(select(TrainData.image_path))}
    assert len(rows) == 10 and uncommitted - rows  # the kill left files without rows

    report = import_images(db, workspace, "pets", [tmp_path / "src"])
    assert report.orphans_removed == len(uncommitted - rows)
    assert kept.read_bytes() == foreign.read_bytes() and other.read_text() == "mine"
    with db.session() as session:
        rows = {Path(p).name for p in session.scalars(select(TrainData.image_path))}
    assert len(rows) == 30
    on_disk = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    assert on_disk == rows | {kept.name, other.name}

    # importing the foreign file's content reuses the file and never removes it
    report = import_images(db, workspace, "pets", [foreign])
    assert report.imported == 1 and kept.read_bytes() == foreign.read_bytes()


# --- 2. corrupt stores -------------------------------------------------------------------


def _garbage(kind: str, good: bytes) -> bytes:
    if kind == "random bytes":
        return os.urandom(6000)
    if kind == "text file":
        return b"this is not a database\n" * 20
    return good[: len(good) // 3]  # truncated


@pytest.mark.parametrize("kind", ["random bytes", "text file", "truncated"])
def test_unreadable_database_gives_one_line_and_stays_untouched(workspace, imported, kind):
    with sqlite3.connect(workspace.database_file) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    bad = _garbage(kind, workspace.database_file.read_bytes())
    workspace.database_file.write_bytes(bad)
    for suffix in ("-wal", "-shm"):
        workspace.database_file.with_name("database.db" + suffix).unlink(missing_ok=True)
    for args in (("theme", "list"), ("import", "--theme", "pets", str(workspace.root))):
        line = error_line(cockpit(workspace, *args, new_process=kind == "truncated"))
        assert "database.db" in line and "not a readable SQLite database" in line, line
        assert "cockpit db rebuild" in line
        assert workspace.database_file.read_bytes() == bad
        assert snapshot(workspace.images_dir) == imported

    # the advised rebuild keeps the unreadable file (renamed) and brings the images back
    rebuilt = cockpit(workspace, "db", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    [aside] = workspace.root.glob("database.db.unreadable-*[0-9]")
    assert aside.read_bytes() == bad
    listed = json.loads(cockpit(workspace, "theme", "list", "--format", "json").stdout)
    assert [(t["name"], t["images"]) for t in listed] == [("recovered-1", 12)]


@pytest.mark.slow
def test_unreadable_mlflow_store_gives_one_line_and_stays_untouched(workspace, tmp_path):
    bad = os.urandom(5000)
    workspace.mlflow_db_file.write_bytes(bad)
    image = make_image(tmp_path / "x.png", 1)
    for args in (
        ("models", "list"),
        ("predict", "--model", "pets_model", str(image)),
        ("history", "list"),
    ):
        line = error_line(cockpit(workspace, *args))
        assert "mlflow.db" in line and "backup" in line, line
        assert workspace.mlflow_db_file.read_bytes() == bad

    # the advised fix: rename it, and the commands work on a new, empty store
    workspace.mlflow_db_file.rename(workspace.root / "mlflow.db.broken")
    assert cockpit(workspace, "history", "list").returncode == 0
    listed = cockpit(workspace, "models", "list")
    assert listed.returncode == 0, listed.stderr
    assert (workspace.root / "mlflow.db.broken").read_bytes() == bad


# --- 3. import exit codes ----------------------------------------------------------------


def _labels(workspace) -> list[str]:
    with sqlite3.connect(workspace.database_file) as connection:
        return [n for (n,) in connection.execute("SELECT label_name FROM label ORDER BY id")]


def test_import_of_nothing_usable_exits_2_and_creates_no_label(workspace, tmp_path):
    assert cockpit(workspace, "theme", "create", "pets", "--labels", "cat").returncode == 0
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "a.txt").write_text("not an image")
    (tmp_path / "bad" / "b.png").write_bytes(b"not a png either")
    (tmp_path / "empty").mkdir()

    line = error_line(cockpit(workspace, "import", "--theme", "pets", str(tmp_path / "nope")))
    assert "nothing imported" in line and "nope" in line and "not found" in line
    line = error_line(
        cockpit(workspace, "import", "--theme", "pets", str(tmp_path / "bad"), "--label", "dog")
    )
    assert "nothing imported" in line and "2 path(s)" in line
    line = error_line(cockpit(workspace, "import", "--theme", "pets", str(tmp_path / "empty")))
    assert "no image files found" in line
    assert _labels(workspace) == ["cat"]  # --label dog created nothing
    assert snapshot(workspace.images_dir) == {}

    # a real import still creates the label; a rerun that finds only duplicates is fine
    good = make_image(tmp_path / "good.png", 5)
    for expected in ("imported 1 image", "imported 0 image(s) into 'pets'; 1 duplicate"):
        result = cockpit(workspace, "import", "--theme", "pets", str(good), "--label", "dog")
        assert result.returncode == 0 and expected in result.stdout, result.stdout
    assert _labels(workspace) == ["cat", "dog"]


def test_theme_delete_removes_only_the_files_of_its_rows(workspace, tmp_path):
    db = open_database(workspace)
    create_theme(db, "pets", ["cat"])
    make_imagefolder(tmp_path / "src", {"cat": 3})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    folder = workspace.images_dir / "1"
    foreign = make_image(folder / f"{'0' * 64}.png", 7)  # not known to the database
    rows_files = {p for p in folder.iterdir() if not p.name.startswith(".")} - {foreign}
    assert len(rows_files) == 3

    result = cockpit(workspace, "theme", "delete", "pets", "--yes")
    assert result.returncode == 0 and "3 image(s)" in result.stdout
    assert not any(p.exists() for p in rows_files)
    assert foreign.is_file()


def _labels_and_splits(workspace) -> dict[str, tuple[str | None, str | None]]:
    with sqlite3.connect(workspace.database_file) as connection:
        rows = connection.execute(
            "SELECT d.image_path, l.label_name, d.split FROM train_data d "
            "LEFT JOIN label l ON l.id = d.label_id"
        )
        return {path: (label, split) for path, label, split in rows}


@pytest.mark.slow
def test_db_rebuild_recovers_names_labels_and_splits_from_training_records(workspace, tmp_path):
    from core.demo import write_demo_images

    write_demo_images(tmp_path / "shapes", per_class=8, size=16, seed=3)
    assert cockpit(workspace, "theme", "create", "shapes").returncode == 0
    assert (
        cockpit(workspace, "import", "--theme", "shapes", str(tmp_path / "shapes")).returncode == 0
    )
    assert cockpit(workspace, "theme", "create", "never-trained").returncode == 0
    make_imagefolder(tmp_path / "other", {"x": 2}, start_seed=500)
    assert (
        cockpit(workspace, "import", "--theme", "never-trained", str(tmp_path / "other")).returncode
        == 0
    )
    # what every training writes before its first epoch (core/training/run.py), done
    # here without the epochs: the experiment's record with its split manifest
    from core.config import parse_overrides, resolve_params
    from core.training.builder import ExperimentBuilder
    from core.training.record import write_record

    forget_database(workspace.database_file)
    tiny = parse_overrides(["image_size=16", "batch_size=8", "num_workers=0"])
    params = resolve_params(workspace, overrides=tiny)
    write_record(ExperimentBuilder(workspace, params, "shapes").build())
    late = make_image(tmp_path / "late.png", 900)  # imported after the training
    assert cockpit(workspace, "import", "--theme", "shapes", str(late)).returncode == 0
    before = _labels_and_splits(workspace)
    assert sum(1 for label, split in before.values() if label and split) == 24

    workspace.database_file.unlink()
    for suffix in ("-wal", "-shm"):
        workspace.database_file.with_name("database.db" + suffix).unlink(missing_ok=True)
    rebuilt = cockpit(workspace, "db", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
    assert "labels and splits of 24 image(s) recovered from 1 training record(s)" in rebuilt.stdout
    assert "3 image(s) came back unlabeled" in rebuilt.stdout

    after = _labels_and_splits(workspace)
    assert set(after) == set(before)
    assert {p: v for p, v in after.items() if v[0]} == {p: v for p, v in before.items() if v[1]}
    listed = json.loads(cockpit(workspace, "theme", "list", "--format", "json").stdout)
    assert sorted((t["id"], t["name"], t["images"]) for t in listed) == [
        (1, "shapes", 25),
        (2, "recovered-2", 2),
    ]

"""CIFAR-10's binary layout parsed from small synthetic files of the same layout."""

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import select

from cockpit.cli.main import cli
from core.data.cifar import LABELS, RECORD_BYTES, import_cifar10, read_batch
from core.data.themes import get_theme, label_split_counts
from core.db import TrainData, open_database
from core.errors import CockpitError


def write_batch(path: Path, labels: list[int], seed: int) -> np.ndarray:
    """Records as the dataset documents them: label byte, 1,024 R, 1,024 G, 1,024 B."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(len(labels), 32, 32, 3), dtype=np.uint8)
    planes = images.transpose(0, 3, 1, 2).reshape(len(labels), -1)  # channel-major rows
    records = np.concatenate([np.array(labels, dtype=np.uint8)[:, None], planes], axis=1)
    path.write_bytes(records.tobytes())
    return images


@pytest.fixture
def cifar_folder(tmp_path):
    folder = tmp_path / "cifar-10-batches-bin"
    folder.mkdir()
    images = {}
    for i in range(1, 6):
        images[f"data_batch_{i}"] = write_batch(
            folder / f"data_batch_{i}.bin", [(i + k) % 10 for k in range(20)], seed=i
        )
    images["test_batch"] = write_batch(folder / "test_batch.bin", list(range(10)) * 2, seed=9)
    (folder / "batches.meta.txt").write_text("\n".join(LABELS) + "\n\n")
    return folder, images


def test_the_binary_layout_is_read_channel_by_channel(cifar_folder):
    folder, images = cifar_folder
    labels, read = read_batch(folder / "data_batch_2.bin")
    assert list(labels[:3]) == [2, 3, 4]
    assert read.shape == (20, 32, 32, 3) and read.dtype == np.uint8
    assert np.array_equal(read, images["data_batch_2"])  # R, G, B planes back to HWC


def test_import_keeps_the_official_split_and_the_pixels(workspace, cifar_folder):
    folder, images = cifar_folder
    db = open_database(workspace)
    report = import_cifar10(db, workspace, "cifar", folder.parent, valid_fraction=0.25)
    assert report.records == {"train": 100, "test": 20}
    assert report.imported == 120 and report.duplicates == 0
    assert report.splits["test"] == 20
    assert report.splits["train"] + report.splits["valid"] == 100
    assert 10 <= report.splits["valid"] <= 45  # a quarter, drawn
    counts = label_split_counts(db, "cifar")
    assert list(counts) == list(LABELS)  # labels in CIFAR-10's index order
    assert sum(row["test"] for row in counts.values()) == 20
    assert all(row["none"] == 0 for row in counts.values())
    # a test image's file holds exactly the record's pixels, under its label
    with db.session() as session:
        theme = get_theme(session, "cifar")
        labels = {lb.id: lb.label_name for lb in theme.labels}
        rows = session.scalars(
            select(TrainData).where(TrainData.theme_id == theme.id, TrainData.split == "test")
        ).all()
        pixels = {
            np.asarray(Image.open(workspace.root / r.image_path).convert("RGB")).tobytes(): (
                labels[r.label_id]
            )
            for r in rows
        }
    first = images["test_batch"][0]
    assert pixels[first.tobytes()] == LABELS[0]
    # rerun (e.g. after an interruption): nothing new, nothing moved
    again = import_cifar10(db, workspace, "cifar", folder, valid_fraction=0.25)
    assert again.imported == 0 and again.duplicates == 120 and again.kept_splits == 0
    assert again.splits == report.splits


def test_bad_files_are_refused_in_one_line(workspace, cifar_folder, tmp_path):
    folder, _ = cifar_folder
    (folder / "data_batch_3.bin").write_bytes(b"\x00" * (RECORD_BYTES + 7))
    with pytest.raises(CockpitError, match="not a whole number of 3,073-byte records"):
        import_cifar10(open_database(workspace), workspace, "cifar", folder)
    (folder / "data_batch_3.bin").write_bytes(bytes([11]) + b"\x00" * (RECORD_BYTES - 1))
    with pytest.raises(CockpitError, match="CIFAR-10 labels are 0-9"):
        import_cifar10(open_database(workspace), workspace, "cifar", folder)
    with open_database(workspace).session() as session:  # nothing was written
        assert session.scalars(select(TrainData)).first() is None
    result = CliRunner().invoke(
        cli, ["-w", str(workspace.root), "import-cifar10", str(tmp_path / "nowhere")]
    )
    assert result.exit_code == 2
    message = result.output.strip().splitlines()
    assert len(message) == 1 and "no such folder" in message[0]
    (folder / "test_batch.bin").unlink()
    result = CliRunner().invoke(cli, ["-w", str(workspace.root), "import-cifar10", str(folder)])
    assert result.exit_code == 2 and "missing test_batch.bin" in result.output


def test_the_command_imports_and_the_reference_configuration_trains(workspace, cifar_folder):
    folder, _ = cifar_folder
    runner = CliRunner()
    result = runner.invoke(
        cli,
        ["-w", str(workspace.root), "import-cifar10", str(folder), "--limit", "6"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "read 30 train, 6 test records" in result.output
    assert "imported 36 image(s) into 'cifar10'" in result.output
    reference = Path(__file__).parents[3] / "configs" / "cifar10_reference.yaml"
    result = runner.invoke(
        cli,
        ["-w", str(workspace.root), "config", "check", "--params", str(reference)],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output

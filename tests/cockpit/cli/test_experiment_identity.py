"""One configuration, one experiment: the id a train job uses, what submit refuses, and
what preview says about changed augmentations (real CLI, SQLite, training, files)."""

import json
import re

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from core.data.themes import label_split_counts
from core.db import open_database
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")

REPLACED = "train:\n  - type: VerticalFlip\n    p: 1\n  - type: InvertImg\n    p: 1\n"
SETS = [arg for item in TINY for arg in ("--set", item)]


def run(ws, *args):
    return CliRunner().invoke(cli, ["-w", str(ws.root), *args], catch_exceptions=False)


def _nothing_queued(ws):
    assert not list(ws.queue_dir.glob("*/*.json"))
    unsplit = sum(row["none"] for row in label_split_counts(open_database(ws), "shapes").values())
    assert unsplit == 36  # the refused job did not split the theme either


@pytest.mark.parametrize(
    ("augments", "expected"),
    [
        ("train:\n  - type: Flip2\n", "train[0].type: 'Flip2' is not an albumentations transform"),
        ("train:\n  - type: Rotate\n    limit: wide\n", "train[0] (Rotate): invalid arguments"),
        ("train: {type: Rotate}\n", "train: "),
    ],
)
def test_submit_refuses_invalid_augments_and_queues_nothing(shapes_workspace, augments, expected):
    ws = shapes_workspace
    ws.augments_file.write_text(augments)
    result = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", *SETS)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: ") and "augments" in line and expected in line
    _nothing_queued(ws)


def test_submit_refuses_a_registry_naming_a_missing_module(shapes_workspace):
    ws = shapes_workspace
    data = json.loads(ws.registry_file.read_text())
    data["models"]["simple_cnn"]["model"] = "definitions.models.simple_cnn.modle:SimpleCNN"
    ws.registry_file.write_text(json.dumps(data))
    result = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", *SETS)
    assert result.exit_code == 2, result.output
    [line] = result.output.strip().splitlines()
    assert "models.simple_cnn.model" in line and "definitions/models/simple_cnn/modle.py" in line
    _nothing_queued(ws)
    # a class the module does not define is refused the same way
    data["models"]["simple_cnn"]["model"] = "definitions.models.simple_cnn.model:SimpleCNM"
    ws.registry_file.write_text(json.dumps(data))
    result = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", *SETS)
    assert result.exit_code == 2 and "has no 'SimpleCNM'" in result.output
    _nothing_queued(ws)


@pytest.mark.slow
def test_hash_with_theme_is_trains_id_and_preview_sees_changed_augments(shapes_workspace):
    ws = shapes_workspace
    refused = run(ws, "config", "hash", "--theme", "shapes", *SETS)
    assert refused.exit_code == 2 and "without a train/valid/test split" in refused.output
    trained = run(ws, "train", "--theme", "shapes", *SETS)
    assert trained.exit_code == 0, trained.output
    train_id = re.search(r"experiment ([0-9a-f]{12}): done", trained.output).group(1)

    hashed = run(ws, "config", "hash", "--theme", "shapes", *SETS)
    assert hashed.exit_code == 0 and hashed.stdout.strip() == train_id
    alone = run(ws, "config", "hash", *SETS)
    assert alone.stdout.strip() != train_id and "leaves out the data snapshot" in alone.stderr

    same = run(ws, "config", "preview", "--theme", "shapes", *SETS)
    assert same.output.startswith("already complete") and "no difference" in same.output

    ws.augments_file.write_text(REPLACED)
    changed = run(ws, "config", "preview", "--theme", "shapes", *SETS)
    assert changed.exit_code == 0, changed.output
    assert changed.output.startswith("new experiment"), changed.output
    assert f"compared with experiment {train_id}: 1 difference(s)" in changed.output
    assert "augmentations:" in changed.output and "VerticalFlip(p=1)" in changed.output
    new_id = run(ws, "config", "hash", "--theme", "shapes", *SETS).stdout.strip()
    assert new_id != train_id
    # more epochs with the new augmentations: a new experiment, not the old one topped up
    longer = run(ws, "config", "preview", "--theme", "shapes", *SETS, "--set", "max_epochs=4")
    assert longer.output.startswith("new experiment")


def test_a_remembered_check_never_lets_changed_augments_through(shapes_workspace):
    ws = shapes_workspace
    ok = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", *SETS)
    assert ok.exit_code == 0, ok.output
    assert len(list((ws.root / "output" / "checked").glob("augments-*.json"))) == 1
    again = run(ws, "submit", "train", "--theme", "shapes", "--no-runner", *SETS, "--set", "lr=0.2")
    assert again.exit_code == 0, again.output  # same augmentations: checked before
    ws.augments_file.write_text(ws.augments_file.read_text().replace("limit: 15", "limit: wide"))
    refused = run(
        ws, "submit", "train", "--theme", "shapes", "--no-runner", *SETS, "--set", "lr=0.3"
    )
    assert refused.exit_code == 2 and "(Rotate): invalid arguments" in refused.output
    assert len(list(ws.queue_state_dir("pending").glob("*.json"))) == 2

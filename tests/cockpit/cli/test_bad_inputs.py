"""Bad input on the command line: one line naming the file or field, exit code 2, and
nothing queued or run."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from core.jobs.queue import JobQueue
from tests.core.training.conftest import TINY

LAMBDA_AUGMENTS = """\
train:
  - type: HorizontalFlip
    p: 0.5
  - type: Lambda
    image: not_a_function
    p: 0.5
"""


def run(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args], catch_exceptions=False)


def error_lines(result):
    return [line for line in result.output.splitlines() if line.startswith("error:")]


def test_predict_with_missing_images_names_them_and_exits_2(workspace, tmp_path):
    present = tmp_path / "present.png"
    present.write_bytes(b"")
    result = run(
        workspace,
        "predict",
        "--model",
        "shapes_model",
        str(tmp_path / "a.png"),
        str(present),
        str(tmp_path / "b.png"),
    )
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        f"error: IMAGE: no such file: {tmp_path / 'a.png'}, {tmp_path / 'b.png'}; check the "
        "path(s) and try again"
    ]
    assert "Traceback" not in result.output


def test_n_trials_below_one_is_refused_and_queues_nothing(workspace):
    commands = (
        ("tune", "--theme", "shapes", "--timeout", "1"),
        ("submit", "tune", "--theme", "shapes", "--no-runner"),
    )
    for value in ("0", "-1"):
        for command in commands:
            result = run(workspace, *command, "--n-trials", value)
            assert result.exit_code == 2, result.output
            assert (
                f"Error: Invalid value for '--n-trials': {value} is not in the range x>=1."
                in result.output
            )
    assert JobQueue(workspace).jobs() == []
    assert not workspace.root.joinpath("optuna.db").exists()


def test_config_check_runs_each_augmentation_once(workspace):
    workspace.augments_file.write_text(LAMBDA_AUGMENTS)
    result = run(workspace, "config", "check")
    assert result.exit_code == 2, result.output
    [line] = error_lines(result)
    assert line.startswith(
        "error: configs/augments.yaml: train[1] (Lambda): fails on a test image: "
    )
    assert line.endswith("; fix or remove this transform")
    assert "Traceback" not in result.output


def test_a_crop_larger_than_the_test_image_is_not_an_error(workspace):
    workspace.augments_file.write_text(
        "train:\n  - type: RandomCrop\n    height: 224\n    width: 224\n"
    )
    result = run(workspace, "config", "check")
    assert result.exit_code == 0, result.output


def test_duplicate_keys_in_any_yaml_file_name_the_key_and_line(workspace):
    params = workspace.params_file.read_text()
    workspace.params_file.write_text(params + "lr: 0.5\n")
    first = next(n for n, line in enumerate(params.splitlines(), 1) if line.startswith("lr:"))
    last = len(params.splitlines()) + 1
    result = run(workspace, "config", "check")
    assert result.exit_code == 2, result.output
    assert error_lines(result) == [
        f"error: {workspace.params_file}: line {last}, column 1: duplicate key 'lr' (first "
        f"given on line {first}); keep one of them"
    ]
    workspace.params_file.write_text(params)

    workspace.augments_file.write_text("train:\n  - type: Rotate\n    limit: 10\n    limit: 20\n")
    result = run(workspace, "config", "check")
    assert result.exit_code == 2
    assert "augments.yaml: line 4, column 5: duplicate key 'limit' (first given on line 3)" in (
        result.output
    )
    workspace.augments_file.write_text("train: []\n")

    tuning = workspace.optuna_params_file.read_text()
    workspace.optuna_params_file.write_text(tuning + "study:\n  n_trials: 3\n")
    result = run(workspace, "config", "check")
    assert result.exit_code == 2
    assert "optuna_params.yaml: line" in result.output and "duplicate key 'study'" in (
        result.output
    )


@pytest.mark.slow
def test_train_with_a_transform_that_cannot_run_fails_before_training(shapes_workspace):
    shapes_workspace.augments_file.write_text(LAMBDA_AUGMENTS)
    result = run(shapes_workspace, "train", "--theme", "shapes", *(f"--set={s}" for s in TINY))
    assert result.exit_code == 2, result.output
    [line] = error_lines(result)
    assert line.startswith("error: configs/augments.yaml: train[1] (Lambda): fails on a test")
    assert "Traceback" not in result.output
    assert not list(shapes_workspace.experiments_dir.glob("*/*.ckpt"))

"""Pre-flight checks before a job is queued, each with its fault made real: a machine
without a GPU asked for GPU precision, a model too big for the memory, a nearly full disk
(a real 16 MiB tmpfs), a broken tracking store; the advice each gives is followed."""

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cockpit.cli.main import cli
from core.config import parse_overrides, resolve_params
from core.data.snapshot import load_snapshot
from core.db import open_database
from core.jobs.preflight import ValidationResult, _declared_ranges, preflight
from core.jobs.queue import JobQueue
from core.scaffold import init_workspace
from core.training.builder import ExperimentBuilder
from core.workspace import Workspace
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(autouse=True)
def no_gpu(monkeypatch):
    """The checks see the GPUs this process may use: none here, on any machine."""
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")


def submit(ws, *args):
    return CliRunner().invoke(
        cli,
        ["-w", str(ws.root), "submit", "train", "--theme", "shapes", "--no-runner", *args],
        catch_exceptions=False,
    )


def tiny(*extra):
    return [part for item in (*TINY, *extra) for part in ("--set", item)]


def pending(ws):
    return JobQueue(ws).pending()


def test_a_healthy_job_is_checked_and_its_environment_recorded(shapes_workspace):
    ws = shapes_workspace
    result = submit(ws, *tiny())
    assert result.exit_code == 0, result.output
    [job] = pending(ws)
    checked = job.preflight
    assert checked["is_valid"] and checked["errors"] == []
    environment = checked["environment"]
    assert environment["torch"] and environment["mlflow"] and environment["optuna"]
    assert environment["gpus"] == "none" and "free_disk" in environment
    assert int(environment["parameters"].replace(",", "")) > 1000
    assert "torch" in _declared_ranges()  # versions are checked against the declared ranges


def test_gpu_precision_on_a_machine_without_a_gpu_is_refused_with_a_fix(shapes_workspace):
    ws = shapes_workspace
    result = submit(ws, *tiny("precision=16-mixed"))
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "precision: 16-mixed needs a GPU" in line and "use precision=auto" in line
    assert pending(ws) == []
    followed = submit(ws, *tiny("precision=auto"))  # the advice, followed
    assert followed.exit_code == 0, followed.output


def test_a_model_too_big_for_the_memory_gets_a_batch_size_that_fits(shapes_workspace):
    ws = shapes_workspace
    huge = tiny("model=resnet", "image_size=512", "batch_size=4096")
    result = submit(ws, *huge)
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert "batch_size: training needs about" in line and "memory available" in line
    fitting = line.split("use batch_size=")[1].split()[0]
    params = resolve_params(
        ws, overrides=parse_overrides([*TINY, "model=resnet", "image_size=512"])
    )
    checked = preflight(ws, "shapes", params, _snapshot(ws, params))
    assert checked.is_valid
    followed = submit(ws, *tiny("model=resnet", "image_size=512", f"batch_size={fitting}"))
    assert followed.exit_code == 0, followed.output
    assert pending(ws)[0].params["batch_size"] == int(fitting)


def _snapshot(ws, params):
    return ExperimentBuilder(ws, params, "shapes").data_snapshot()


def test_strict_turns_warnings_into_errors(workspace, tmp_path):
    from core.data.importer import import_images
    from core.data.themes import create_theme
    from core.demo import write_demo_images

    ws = workspace
    write_demo_images(tmp_path / "few", per_class=6, size=16, seed=3)
    db = open_database(ws)
    create_theme(db, "shapes")
    import_images(db, ws, "shapes", [tmp_path / "few"])
    # 6 images a class: too few train and valid images per class to learn and measure well
    relaxed = submit(ws, *tiny())
    assert relaxed.exit_code == 0, relaxed.output
    assert "warning: data: class" in relaxed.output
    strict = submit(ws, "--strict", *tiny("lr=0.02"))
    assert strict.exit_code == 2 and "data: class" in strict.output
    assert len(pending(ws)) == 1
    result = ValidationResult(warnings=["w"]).strict()
    assert not result.is_valid and result.errors == ["w"] and result.warnings == []


def test_a_broken_tracking_store_is_found_before_the_job_is_queued(shapes_workspace):
    ws = shapes_workspace
    ws.mlflow_db_file.write_bytes(b"this is not a database" * 100)
    result = submit(ws, *tiny())
    assert result.exit_code == 2
    assert "mlflow.db is not a readable MLflow store" in result.output
    assert pending(ws) == []
    assert ws.mlflow_db_file.read_bytes().startswith(b"this is not")  # left as it was


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.decode().strip()})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_nearly_full_disk_refuses_what_would_not_fit(small_disk, tmp_path):
    from core.data.importer import import_images
    from core.data.themes import create_theme
    from core.demo import write_demo_images

    ws = Workspace(small_disk / "ws")
    init_workspace(ws.root)
    write_demo_images(tmp_path / "shapes", per_class=12, size=16, seed=3)
    db = open_database(ws)
    create_theme(db, "shapes")
    import_images(db, ws, "shapes", [tmp_path / "shapes"])
    # ResNet-18's checkpoints and exported copies need ~400 MiB; the disk has 16 MiB
    result = submit(ws, *tiny("model=resnet", "image_size=32"))
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert line.startswith("error: disk: ") and "free some space" in line
    # the small network fits
    assert submit(ws, *tiny()).exit_code == 0
    assert load_snapshot(db, "shapes").class_names


def test_a_study_is_checked_for_all_its_trials(shapes_workspace):
    ws = shapes_workspace
    study = Path(ws.optuna_params_file)
    text = study.read_text()
    study.write_text(text)
    result = CliRunner().invoke(
        cli,
        [
            "-w", str(ws.root), "submit", "tune", "--theme", "shapes", "--no-runner",
            "--workers", "3", "--params", str(_params_file(ws)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    assert "warning: jobs: 3 jobs share the study but the runner runs" in result.output
    job = pending(ws)[0]
    assert job.preflight["environment"]["torch"]


def _params_file(ws):
    path = ws.root / "tiny.yaml"
    path.write_text("\n".join(item.replace("=", ": ") for item in TINY) + "\n")
    return path

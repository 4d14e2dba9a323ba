"""The CLI answers before it imports what the answer does not need, and speaks in its own
words: real `python -m cockpit` subprocesses writing into pipes, a real tiny training."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.output import fit_line, progress_line
from tests.core.training.conftest import TINY

ROOT = Path(__file__).resolve().parents[3]
SETS = [arg for item in TINY for arg in ("--set", item)]
HEAVY = ("torch", "lightning", "pytorch_lightning", "torchvision", "optuna", "sklearn")
# the command, then the top-level names of every module it imported, on stderr
PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('IMPORTED ' + ' '.join(sorted("
    "{m.split('.')[0] for m in sys.modules})), file=sys.stderr))\n"
    "sys.argv = ['cockpit', *sys.argv[1:]]\n"
    "from cockpit.cli import main\n"
    "main()\n"
)


def cockpit(workspace, *args: str, probe: bool = False) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for name in ("COCKPIT_WORKSPACE", "COCKPIT_VERBOSE", "MLFLOW_CONFIGURE_LOGGING"):
        env.pop(name, None)
    start = [sys.executable, "-c", PROBE] if probe else [sys.executable, "-m", "cockpit"]
    return subprocess.run(
        [*start, "-w", str(workspace.root), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def imported(result: subprocess.CompletedProcess) -> set[str]:
    [line] = [x for x in result.stderr.splitlines() if x.startswith("IMPORTED ")]
    return set(line.split()[1:])


def test_training_in_a_pipe_prints_plain_one_based_lines_and_no_library_chatter(
    shapes_workspace,
):
    ws = shapes_workspace
    result = cockpit(ws, "train", "--theme", "shapes", *SETS)
    assert result.returncode == 0, result.stderr
    out = result.stdout + result.stderr
    assert "\r" not in out and "\x1b" not in out
    epochs = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("epoch ")]
    assert epochs == ["1/2", "2/2"]
    for noise in ("INFO", "Epoch 0", "GPU available", "Warning", "Successfully registered"):
        assert noise not in out
    assert "registered model: shapes_model version 1" in result.stdout

    # with -v the same library lines are there, marked as debug lines on stderr
    again = cockpit(ws, "-v", "train", "--theme", "shapes", *SETS, "--restart")
    assert again.returncode == 0, again.stderr
    debug = [line for line in again.stderr.splitlines() if line.startswith("debug: ")]
    assert any("alembic" in line or "mlflow" in line for line in debug), again.stderr
    assert "debug:" not in again.stdout and "\r" not in again.stdout

    # "already complete" answers without Lightning or MLflow (the registry's verdict read
    # from the store's tags, the epochs from the state file stamped with its checkpoint)
    complete = cockpit(ws, "train", "--theme", "shapes", *SETS, probe=True)
    assert complete.returncode == 0, complete.stderr
    assert "already complete" in complete.stdout
    # the --restart run above did not beat version 1: its recorded verdict, read back
    assert "model registry: not registered: test_acc" in complete.stdout
    assert not imported(complete) & {"torch", "lightning", "pytorch_lightning", "mlflow", "optuna"}

    listed = cockpit(ws, "models", "list", probe=True)
    assert listed.returncode == 0 and "shapes_model" in listed.stdout, listed.stderr
    # read from the SQLite store's tables: not even MLflow is imported
    assert not imported(listed) & {*HEAVY, "mlflow"}


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("queue", "list"), 0),
        (("config", "check"), 0),
        (("train", "--theme", "nosuch"), 2),
        (("submit", "train", "--theme", "nosuch", "--no-runner"), 2),
        (("theme", "list"), 0),
    ],
    ids=lambda a: " ".join(a) if isinstance(a, tuple) else str(a),
)
def test_answers_and_validation_errors_come_before_heavy_imports(shapes_workspace, args, code):
    result = cockpit(shapes_workspace, *args, probe=True)
    assert result.returncode == code, result.stderr
    if code == 2:
        assert "theme 'nosuch' does not exist" in result.stderr
    assert not imported(result) & {*HEAVY, "mlflow"}


def test_the_progress_line_fits_narrow_terminals():
    line = progress_line(3, 10, 5, 20, {"train_loss": 0.51234, "train_acc": 0.75}, 200)
    assert line == "epoch 3/10 [#####...............] 5/20  train_acc 0.7500  train_loss 0.5123"
    narrow = progress_line(3, 10, 5, 20, {"train_loss": 0.5}, 30)
    assert len(narrow) == 30 and narrow.startswith("epoch 3/10 [") and narrow.endswith("…")
    assert fit_line("short", 30) == "short"


def test_library_warnings_go_to_the_debug_log_and_the_projects_own_are_shown(capfd):
    import logging
    import warnings

    from core.output import configure_output

    class ExperimentalWarning(UserWarning):  # a library's own class (as in optuna)
        pass

    ExperimentalWarning.__module__ = "optuna.exceptions"
    saved = (warnings.showwarning, logging.getLogger().handlers[:], logging.getLogger().level)
    try:
        for verbose in (False, True):
            configure_output(verbose)
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = sys.modules["core.output"]._show_warning
                warnings.warn("argument is experimental", ExperimentalWarning, stacklevel=1)
                warnings.warn("torch.jit.script is deprecated", FutureWarning, stacklevel=1)
                warnings.warn("the theme has 2 images", UserWarning, stacklevel=1)
            logging.getLogger("mlflow.store.db.utils").info("Creating initial tables")
            err = capfd.readouterr().err
            assert "warning: the theme has 2 images" in err
            if verbose:
                assert "debug: py.warnings: INFO: ExperimentalWarning: argument is" in err
                assert "debug: mlflow.store.db.utils: INFO: Creating initial tables" in err
            else:
                assert "experimental" not in err and "deprecated" not in err
                assert "Creating initial tables" not in err
    finally:
        os.environ.pop("COCKPIT_VERBOSE", None)
        warnings.showwarning = saved[0]
        logging.getLogger().handlers[:] = saved[1]
        logging.getLogger().setLevel(saved[2])


def test_mlflow_sends_no_telemetry_from_the_engine():
    # a clean environment: no opt-out of the user's, and nothing that makes MLflow think
    # it runs under a test or CI (it then disables telemetry by itself)
    quiet = ("MLFLOW_DISABLE_TELEMETRY", "DO_NOT_TRACK", "CI", "PYTEST_CURRENT_TEST")
    env = {k: v for k, v in os.environ.items() if k not in quiet and not k.startswith("GITHUB")}
    env["PYTHONPATH"] = str(ROOT)
    probe = (
        "import os, core.training.tracking, mlflow.telemetry.utils as u; "
        "print(os.environ.get('MLFLOW_DISABLE_TELEMETRY'), u.is_telemetry_disabled())"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip() == "true True", result.stderr

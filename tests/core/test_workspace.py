from pathlib import Path

import pytest

from core.errors import CockpitError
from core.workspace import QUEUE_STATES, WORKSPACE_ENV, Workspace


def test_resolve_prefers_explicit_then_env_then_cwd(tmp_path, monkeypatch):
    explicit, env, cwd = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv(WORKSPACE_ENV, str(env))
    assert Workspace.resolve(explicit).root == explicit.resolve()
    assert Workspace.resolve().root == env.resolve()
    monkeypatch.delenv(WORKSPACE_ENV)
    assert Workspace.resolve().root == cwd.resolve()


def test_a_file_is_not_a_workspace(tmp_path):
    file = tmp_path / "f.txt"
    file.write_text("x")
    with pytest.raises(CockpitError, match="is a file"):
        Workspace.resolve(file)


def test_ensure_dirs_creates_runtime_folders_on_demand(tmp_path):
    ws = Workspace.resolve(tmp_path / "new").ensure_dirs()
    for state in QUEUE_STATES:
        assert ws.queue_state_dir(state).is_dir()
    assert ws.logs_dir.is_dir() and ws.experiments_dir.is_dir() and ws.images_dir.is_dir()
    assert ws.mlflow_tracking_uri == f"sqlite:///{(tmp_path / 'new' / 'mlflow.db').as_posix()}"
    assert not list(ws.queue_dir.rglob("*.py")), "queue/ must never hold Python files"


def test_relative_paths_are_shown_inside_the_workspace(tmp_path):
    ws = Workspace.resolve(tmp_path)
    assert ws.relative(ws.params_file) == "configs/params.yaml"
    assert ws.relative(Path("/elsewhere/x")) == "/elsewhere/x"


def test_an_experiment_id_never_names_a_folder_outside_the_experiments(tmp_path):
    ws = Workspace.resolve(tmp_path)
    assert ws.experiment_dir("0123abcd") == ws.experiments_dir / "0123abcd"
    for hostile in ("../../configs", "/etc", "a/../../x"):
        with pytest.raises(CockpitError, match="experiment id: .* would lie outside"):
            ws.experiment_dir(hostile)

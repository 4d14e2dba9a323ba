"""The store settings: cockpit.yaml, overridden by COCKPIT_* variables, default SQLite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import ENV_VARS, load_store_settings, mask_url

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _no_store_variables(monkeypatch):
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)


def test_defaults_are_the_sqlite_files_of_the_workspace(workspace):
    settings = workspace.stores
    assert settings.database == f"sqlite:///{workspace.root.as_posix()}/database.db"
    assert workspace.mlflow_tracking_uri == f"sqlite:///{workspace.root.as_posix()}/mlflow.db"
    assert workspace.optuna_storage_url == f"sqlite:///{workspace.root.as_posix()}/optuna.db"
    assert workspace.mlflow_artifact_location == (workspace.root / "mlartifacts").as_uri()
    assert settings.ray_address == ""
    assert {source for *_, source, _ in settings.rows()} == {"default"}


def test_the_file_names_the_stores_and_a_variable_overrides_it(workspace, monkeypatch):
    (workspace.root / "cockpit.yaml").write_text(
        "stores:\n"
        "  database: postgresql://lab:pw@db.lab:5432/cockpit\n"
        "  optuna_storage: sqlite:///studies/optuna.db\n"
        "  mlflow_artifacts: shared/artifacts\n",
        encoding="utf-8",
    )
    settings = load_store_settings(workspace.root)
    # a driverless PostgreSQL URL gets the psycopg driver of the cluster extra
    assert settings.database == "postgresql+psycopg://lab:pw@db.lab:5432/cockpit"
    assert settings.source("database") == "cockpit.yaml"
    # relative paths are relative to the workspace
    assert workspace.optuna_db_file == workspace.root / "studies" / "optuna.db"
    assert workspace.mlflow_artifacts_dir == workspace.root / "shared" / "artifacts"
    assert not workspace.database_is_sqlite
    monkeypatch.setenv("COCKPIT_DATABASE_URL", "sqlite:///other.db")
    assert workspace.database_file == workspace.root / "other.db"
    assert workspace.stores.source("database") == "COCKPIT_DATABASE_URL"


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("postgresql+psycopg://lab:s3cr:et@db:5432/x", "postgresql+psycopg://lab:***@db:5432/x"),
        ("postgresql://lab@db/x", "postgresql://lab@db/x"),
        ("https://u:p@mlflow.lab/", "https://u:***@mlflow.lab/"),
        ("sqlite:////tmp/a.db", "sqlite:////tmp/a.db"),
    ],
)
def test_passwords_are_masked(url, masked):
    assert mask_url(url) == masked


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stores: [a\n", "cockpit.yaml (line 2) is not valid YAML"),
        ("stores:\n  databse: sqlite:///x.db\n", "unknown store setting stores.databse"),
        ("stores:\n  database: 5\n", "stores.database must be a text URL"),
    ],
)
def test_a_bad_settings_file_is_one_line_and_exit_2(workspace, text, message):
    (workspace.root / "cockpit.yaml").write_text(text, encoding="utf-8")
    result = _cockpit(workspace, "stores", "show")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr


def _cockpit(workspace, *args, env=None):
    import os

    environment = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "cockpit", "--workspace", str(workspace.root), *args],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
    )


def test_an_unreachable_server_is_one_line_with_the_password_masked(workspace):
    url = "postgresql://lab:topsecret@127.0.0.1:9/cockpit"  # port 9 (discard): refused
    result = _cockpit(workspace, "theme", "list", env={"COCKPIT_DATABASE_URL": url})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "topsecret" not in result.stderr
    assert "lab:***@127.0.0.1:9/cockpit" in lines[0]
    assert "COCKPIT_DATABASE_URL" in lines[0]
    shown = _cockpit(workspace, "stores", "show", env={"COCKPIT_DATABASE_URL": url})
    assert shown.returncode == 0 and "topsecret" not in shown.stdout
    assert "lab:***@127.0.0.1:9" in shown.stdout

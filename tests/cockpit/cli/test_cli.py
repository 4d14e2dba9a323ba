import json
import subprocess
import sys

from click.testing import CliRunner

from cockpit.cli import cli


def run(*args, env=None):
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def test_init_then_hash_is_stable_and_follows_edits(tmp_path):
    ws = tmp_path / "ws"
    assert run("init", str(ws)).exit_code == 0
    first = run("--workspace", str(ws), "config", "hash")
    assert first.exit_code == 0
    experiment = first.stdout.strip()
    assert "leaves out the data snapshot" in first.stderr
    assert len(experiment) == 12 and int(experiment, 16) >= 0
    assert run("--workspace", str(ws), "config", "hash").stdout.strip() == experiment
    # the workspace option is also accepted after the command, and via the environment
    assert run("config", "hash", "--workspace", str(ws)).stdout.strip() == experiment
    assert run("config", "hash", env={"COCKPIT_WORKSPACE": str(ws)}).stdout.strip() == experiment

    params = ws / "configs" / "params.yaml"
    params.write_text(params.read_text().replace("lr: 0.001", "lr: 0.002"))
    assert run("-w", str(ws), "config", "hash").stdout.strip() != experiment
    params.write_text(params.read_text().replace("lr: 0.002", "lr: 1.0e-3"))
    assert run("-w", str(ws), "config", "hash").stdout.strip() == experiment
    params.write_text(params.read_text().replace("max_epochs: 10", "max_epochs: 50"))
    assert run("-w", str(ws), "config", "hash").stdout.strip() == experiment


def test_typo_in_params_gives_one_line_and_exit_2(workspace):
    workspace.params_file.write_text(workspace.params_file.read_text() + "batch_sise: 16\n")
    result = run("-w", str(workspace.root), "config", "hash")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: configs/params.yaml: unknown key 'batch_sise'")
    assert "Traceback" not in result.output


def test_config_show_lists_values_sources_and_id(workspace):
    result = run("-w", str(workspace.root), "config", "show", "--set", "lr=0.05")
    assert result.exit_code == 0
    assert "--set lr=0.05" in result.output and "experiment id:" in result.output
    as_json = json.loads(
        run("-w", str(workspace.root), "config", "show", "--format", "json").output
    )
    assert as_json["model"] == "simple_cnn" and as_json["split_ratios"] == [0.7, 0.15, 0.15]


def test_config_show_says_where_the_stores_are_with_the_password_masked(workspace, monkeypatch):
    from core.settings import ENV_VARS

    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("COCKPIT_DATABASE_URL", "postgresql://lab:s3cret@db.lab:5432/cockpit")
    monkeypatch.setenv("COLUMNS", "200")
    result = run("-w", str(workspace.root), "config", "show")
    assert result.exit_code == 0, result.output
    stores = result.output.split("stores (cockpit.yaml, COCKPIT_* variables)")[1]
    assert "postgresql+psycopg://lab:***@db.lab:5432/cockpit" in stores
    assert "COCKPIT_DATABASE_URL" in stores and "s3cret" not in result.output
    assert "ray_data" in stores and "shared" in stores


def test_config_check_reports_each_file(workspace):
    result = run("-w", str(workspace.root), "config", "check")
    assert result.exit_code == 0, result.output
    assert result.output.count("ok ") == 3
    workspace.augments_file.write_text("train:\n  - type: Flip2\n")
    result = run("-w", str(workspace.root), "config", "check")
    assert result.exit_code == 2
    assert "'Flip2' is not an albumentations transform" in result.output


def test_registry_check_flags_unregistered_and_broken(workspace):
    ok = run("-w", str(workspace.root), "registry", "check", "--shallow")
    assert ok.exit_code == 0 and "simple_cnn" in ok.output
    (workspace.definitions_dir / "datasets" / "cells").mkdir()
    (workspace.definitions_dir / "datasets" / "cells" / "config.py").write_text("")
    data = json.loads(workspace.registry_file.read_text())
    data["models"]["resnet"]["model"] = "definitions.models.resnet.model:Missing"
    workspace.registry_file.write_text(json.dumps(data))
    result = run("-w", str(workspace.root), "registry", "check")
    assert result.exit_code == 2
    assert "unregistered" in result.output and "cells" in result.output
    assert "has no 'Missing'" in result.output


def test_python_dash_m_cockpit_is_the_same_cli(workspace):
    done = subprocess.run(
        [sys.executable, "-m", "cockpit", "--workspace", str(workspace.root), "config", "hash"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == run("-w", str(workspace.root), "config", "hash").stdout.strip()


def test_data_commands_end_to_end(workspace, tmp_path):
    from tests.imaging import make_imagefolder

    ws = str(workspace.root)
    assert run("-w", ws, "theme", "create", "pets", "--labels", "cat,dog").exit_code == 0
    duplicate = run("-w", ws, "theme", "create", "pets")
    assert duplicate.exit_code == 2 and "already exists" in duplicate.output
    make_imagefolder(tmp_path / "src", {"cat": 5, "dog": 5})
    (tmp_path / "src" / "cat" / "fake.jpg").write_text("hello")
    result = run("-w", ws, "import", "--theme", "pets", str(tmp_path / "src"))
    assert result.exit_code == 0, result.output
    assert "imported 10 image(s) into 'pets'; 0 duplicate(s), 1 skipped" in result.output
    assert "fake.jpg" in result.output
    result = run("-w", ws, "split", "--theme", "pets", "--ratios", "0.6,0.2,0.2")
    assert result.exit_code == 0 and "assigned 10 image(s)" in result.output
    assert "cat" in result.output and "total" in result.output
    listed = json.loads(run("-w", ws, "theme", "list", "--format", "json").output)
    assert listed[0]["labels"] == {"cat": 5, "dog": 5}
    refused = run("-w", ws, "label", "delete", "pets", "cat")
    assert refused.exit_code == 2 and "used by 5 image(s)" in refused.output
    assert (
        run("-w", ws, "theme", "export", "pets", "--manifest", str(tmp_path / "m.csv")).exit_code
        == 0
    )
    assert run("-w", ws, "theme", "delete", "pets", "--yes").exit_code == 0
    assert run("-w", ws, "split", "--theme", "pets").exit_code == 2


def test_queue_commands_end_to_end(workspace):
    ws = str(workspace.root)
    first = run("-w", ws, "submit", "check", "--no-runner")
    second = run("-w", ws, "submit", "check", "--no-runner", "--set", "lr=0.5")
    assert first.exit_code == 0 and second.exit_code == 0
    second_id = second.output.split()[1].rstrip(":")
    assert run("-w", ws, "queue", "next", second_id).exit_code == 0
    listed = json.loads(
        run("-w", ws, "queue", "list", "--state", "pending", "--format", "json").output
    )
    assert listed[0]["id"] == second_id
    assert run("-w", ws, "queue", "cancel", second_id).exit_code == 0
    table = run("-w", ws, "queue", "list").output
    assert "runner: not running" in table and "cancelled" in table
    assert run("-w", ws, "runner").exit_code == 0
    states = {
        j["id"]: j["state"]
        for j in json.loads(run("-w", ws, "queue", "list", "--format", "json").output)
    }
    assert sorted(states.values()) == ["cancelled", "finished"]
    bad = run("-w", ws, "queue", "move", "nope", "1")
    assert bad.exit_code == 2 and "no job 'nope'" in bad.output

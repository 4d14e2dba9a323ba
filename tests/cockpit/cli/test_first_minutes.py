"""What a new user meets first: the workspace refusal, help on every option, one name per
concept. Real subprocesses of `python -m cockpit`, real folders."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from cockpit.cli import cli

ROOT = Path(__file__).resolve().parents[3]


def cockpit(*args: str, cwd: Path, env: dict[str, str] | None = None):
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    environment.pop("COCKPIT_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


@pytest.mark.parametrize(
    "args",
    [("theme", "list"), ("queue", "list"), ("config", "show"), ("runner", "status"), ("gui",)],
    ids=lambda a: " ".join(a),
)
def test_a_folder_that_is_not_a_workspace_is_refused_and_left_untouched(tmp_path, args):
    folder = tmp_path / "somewhere"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine\n")
    result = cockpit(*args, cwd=folder, env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"{folder} is not a workspace" in lines[0]
    assert "cockpit init" in lines[0] and "--workspace" in lines[0]
    assert tree(folder) == ["notes.txt"]


def test_the_advised_init_command_runs_as_printed_in_a_shell(tmp_path):
    folder = tmp_path / "it's here"
    refused = cockpit("--workspace", str(folder), "theme", "list", cwd=tmp_path)
    assert refused.returncode == 2 and not folder.exists()
    advised = refused.stderr.split("`")[1]
    shell = subprocess.run(
        ["bash", "-c", f'cockpit() {{ "{sys.executable}" -m cockpit "$@"; }}; {advised}'],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shell.returncode == 0, shell.stderr
    assert cockpit("-w", str(folder), "theme", "list", cwd=tmp_path).returncode == 0


def test_a_workspace_with_only_a_database_is_accepted(tmp_path, workspace):
    assert (
        cockpit("theme", "create", "cells", "--labels", "a,b", cwd=workspace.root).returncode == 0
    )
    workspace.registry_file.unlink()
    result = cockpit("theme", "list", cwd=workspace.root)
    assert result.returncode == 0, result.stderr
    assert "cells" in result.stdout


def test_the_repository_root_is_a_workspace():
    from core.workspace import Workspace

    assert Workspace(ROOT).is_workspace()


def _commands(command: click.Command, path: tuple[str, ...] = ("cockpit",)):
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def test_every_option_has_help_and_every_argument_is_in_its_docstring():
    missing = []
    for path, command in _commands(cli):
        for param in command.params:
            if isinstance(param, click.Option) and not param.hidden and not param.help:
                missing.append(f"{' '.join(path)} {param.opts[0]}")
            if isinstance(param, click.Argument):
                name = (param.metavar or param.name or "").upper()
                if name not in (command.help or ""):
                    missing.append(f"{' '.join(path)} argument {name}")
    assert not missing, missing


def test_help_text_has_no_internal_words():
    for path, command in _commands(cli):
        with click.Context(command, info_name=" ".join(path)) as ctx:
            text = command.get_help(ctx)
        assert "seed 00" not in text, path


def test_the_study_file_option_has_one_name_and_the_old_one_still_works(tmp_path, workspace):
    for path, command in _commands(cli):
        if path in {("cockpit", "tune"), ("cockpit", "submit", "tune")}:
            names = {
                opt for p in command.params if not getattr(p, "hidden", False) for opt in p.opts
            }
            assert "--optuna-params" in names and "--config" not in names
    missing = workspace.root / "nowhere.yaml"
    for option in ("--optuna-params", "--config"):
        result = cockpit("tune", "--theme", "x", option, str(missing), cwd=workspace.root)
        assert result.returncode == 2
        assert "nowhere.yaml" in result.stderr, result.stderr
    old = cockpit("tune", "--theme", "x", "--config", str(missing), cwd=workspace.root)
    assert "--config is deprecated; use --optuna-params" in old.stderr


@pytest.mark.slow
def test_demo_makes_a_missing_folder_a_workspace_and_registers_a_model(tmp_path):
    target = tmp_path / "new" / "demo"
    result = cockpit(
        "demo", str(target), "--per-class", "10", cwd=tmp_path, env={"COCKPIT_DEMO_EPOCHS": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert (target / "configs" / "registry.json").is_file()
    assert (target / ".gitignore").is_file()
    assert "registered demo-shapes_model version 1" in result.stdout
    listed = cockpit("theme", "list", cwd=target)
    assert listed.returncode == 0 and "demo-shapes" in listed.stdout

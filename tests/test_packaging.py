"""Installed like an application: a wheel of the project gives the `cockpit` command, and
`cockpit init` writes the example workspace, without the repository."""

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from core.scaffold import TEMPLATE_GLOBS, template_files

REPO = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def test_setup_copies_what_init_copies():
    import ast

    tree = ast.parse((REPO / "setup.py").read_text())
    [value] = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and node.targets[0].id == "TEMPLATE_GLOBS"
    ]
    assert ast.literal_eval(value) == TEMPLATE_GLOBS


def test_a_wheel_installed_without_the_repository_initialises_workspaces(tmp_path):
    # built from a copy of what the project's build reads, so no build/ appears in the checkout
    source = tmp_path / "source"
    for name in ("pyproject.toml", "setup.py", "README.md"):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO / name, source / name)
    for name in ("core", "cockpit", "configs", "definitions"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("experiment_cockpit-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"core/_template/" + p.relative_to(REPO).as_posix() for p in template_files(REPO)}
    assert expected <= names
    assert "cockpit/resources/experiment-cockpit.svg" in names

    site = tmp_path / "site"
    installed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(site),
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {**os.environ, "PYTHONPATH": str(site)}
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    done = subprocess.run(
        [str(site / "bin" / "cockpit"), "init", str(tmp_path / "ws")],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    where = subprocess.run(
        [sys.executable, "-c", "import core; print(core.__file__)"],
        cwd=outside,
        env=env,
        capture_output=True,
        text=True,
    )
    assert where.stdout.strip().startswith(str(site))  # the wheel's code, not the checkout's
    for path in template_files(REPO):
        relative = path.relative_to(REPO)
        assert (tmp_path / "ws" / relative).read_bytes() == path.read_bytes(), relative

"""Shared fixtures: a real workspace made by `cockpit init`, offscreen Qt."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# QSettings (window geometry, recent workspaces) of test runs stay out of the user's files
os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="cockpit-test-config-")

REPO_ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"


@pytest.fixture
def workspace(tmp_path: Path):
    """A fresh workspace scaffolded exactly as `cockpit init` does it."""
    from core.scaffold import init_workspace

    return init_workspace(tmp_path / "ws").workspace


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_gpu = torch.cuda.is_available()
    except Exception:
        has_gpu = False
    if has_gpu:
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)

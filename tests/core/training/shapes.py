"""A tiny trainable theme: three learnable classes of 16x16 shapes (a plain module, so
that conftests and tests share one definition of the fixture: a conftest imported by
name would be loaded a second time under another module name)."""

from __future__ import annotations

import pytest

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images

TINY = [
    "max_epochs=2",
    "image_size=16",
    "batch_size=8",
    "num_workers=0",
    "lr=0.01",
    "early_stopping_patience=0",
]


@pytest.fixture
def shapes_workspace(workspace, tmp_path):
    """A workspace with theme 'shapes': 3 classes x 12 images, not split yet."""
    write_demo_images(tmp_path / "shapes", per_class=12, size=16, seed=3)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [tmp_path / "shapes"])
    return workspace


def tiny_params(workspace, *extra):
    return resolve_params(workspace, overrides=parse_overrides([*TINY, *extra]))

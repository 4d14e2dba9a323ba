"""A workspace with one tiny finished training registered as ``shapes_model`` v1, for the
Models and History panels' "Reproduce" (its own: a reproduction adds a run)."""

from __future__ import annotations

import pytest

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from tests.core.training.conftest import TINY


@pytest.fixture
def one_version(workspace, tmp_path):
    from core.training.run import train_experiment

    write_demo_images(tmp_path / "shapes", per_class=8, size=16, seed=4)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [tmp_path / "shapes"])
    params = resolve_params(workspace, overrides=parse_overrides([*TINY, "registration=always"]))
    outcome = train_experiment(workspace, "shapes", params, echo=lambda _line: None)
    assert outcome.model_version == "1"
    return workspace, outcome

"""One tiny theme with a registered model, shared by the assist tests (core, CLI, panel):
3 classes x 8 labeled images (16x16) and 6 unlabeled ones, ``shapes_model`` version 1."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.scaffold import init_workspace
from core.workspace import Workspace
from tests.core.training.shapes import TINY


@dataclass
class Assisted:
    workspace: Workspace
    root: Path

    def params(self, *extra: str):
        return resolve_params(self.workspace, overrides=parse_overrides([*TINY, *extra]))


_built: dict[str, Assisted] = {}


@pytest.fixture(scope="session")
def assisted(tmp_path_factory) -> Assisted:
    # a module-level cache: this conftest and the CLI tests' each register the fixture,
    # and pytest would otherwise build it once per registration
    if "assisted" not in _built:
        _built["assisted"] = build_assisted(tmp_path_factory.mktemp("assist"))
    return _built["assisted"]


def build_assisted(root: Path) -> Assisted:
    from core.training.run import train_experiment

    workspace = init_workspace(root / "ws").workspace
    write_demo_images(root / "labeled", per_class=8, size=16, seed=5)
    write_demo_images(root / "new", per_class=2, size=16, seed=11)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [root / "labeled"])
    params = resolve_params(
        workspace, overrides=parse_overrides([*TINY, "max_epochs=3", "registration=always"])
    )
    outcome = train_experiment(workspace, "shapes", params, echo=lambda _line: None)
    assert outcome.model_version == "1", outcome
    new = [p for p in sorted((root / "new").rglob("*.png"))]
    import_images(db, workspace, "shapes", new)  # no --label: unlabeled
    return Assisted(workspace, root)

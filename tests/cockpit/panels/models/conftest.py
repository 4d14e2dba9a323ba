"""One tiny registered model, ``shapes_model`` with versions 1 and 2 (v2: another learning rate, 1 epoch),
for every test of the Models panel and its core modules: trained once per session."""

from __future__ import annotations

import pytest

from core.config import parse_overrides, resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.scaffold import init_workspace
from tests.core.training.conftest import TINY


@pytest.fixture(scope="session")
def registered(tmp_path_factory):
    """(workspace, folder of held-out images by class) with shapes_model v1 and v2."""
    from core.training.run import train_experiment

    root = tmp_path_factory.mktemp("models")
    workspace = init_workspace(root / "ws").workspace
    write_demo_images(root / "shapes", per_class=10, size=16, seed=5)
    write_demo_images(root / "holdout", per_class=2, size=16, seed=9)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [root / "shapes"])
    for version, changed in (("1", ()), ("2", ("lr=0.02", "max_epochs=1"))):
        # registration=always: version 2 exists whether or not it beats version 1
        params = resolve_params(
            workspace, overrides=parse_overrides([*TINY, *changed, "registration=always"])
        )
        outcome = train_experiment(workspace, "shapes", params, echo=lambda _line: None)
        assert outcome.model_version == version, outcome
    return workspace, root / "holdout"

"""The registry from the command line (same core functions as the panel): list, aliases,
predict, and the user-fixable errors."""

from __future__ import annotations

import contextlib
import json
import sqlite3

import pytest
from click.testing import CliRunner

from cockpit.cli import cli
from core.errors import CockpitError
from core.models.catalog import get_model, list_models, resolve_version, set_alias

pytestmark = pytest.mark.filterwarnings("ignore")


def invoke(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args])


def test_catalog_lists_versions_with_source_run_metrics(registered):
    workspace, _ = registered
    [model] = list_models(workspace)
    assert (model.name, model.theme) == ("shapes_model", "shapes")
    # best first by the ranking metric, which is marked
    assert model.metric == "test_acc"
    ranked = sorted(model.versions, key=lambda v: (-v.metrics["test_acc"], -int(v.version)))
    assert [v.version for v in model.versions] == [v.version for v in ranked]
    assert model.best_version == ranked[0].version
    assert resolve_version(workspace, "shapes_model").version == "2"  # latest = newest
    listed = invoke(workspace, "models", "list")
    best_line = next(line for line in listed.output.splitlines() if "best test_acc" in line)
    assert best_line.strip().startswith(f"v{model.best_version}")
    for version in model.versions:
        assert version.status == "READY"
        assert {"test_acc", "valid_loss", "valid_acc"} <= set(version.metrics)
        assert version.experiment_id is not None and len(version.run_id) == 32
    assert model.versions[0].run_id != model.versions[1].run_id


def test_aliases_from_the_cli(registered):
    workspace, _ = registered
    done = invoke(workspace, "models", "alias", "shapes_model", "1", "challenger")
    assert done.exit_code == 0, done.output
    assert get_model(workspace, "shapes_model").aliases["challenger"] == "1"
    assert resolve_version(workspace, "shapes_model@challenger").version == "1"
    listed = invoke(workspace, "models", "list")
    assert "@challenger=v1" in listed.output and "test_acc" in listed.output
    as_json = json.loads(invoke(workspace, "models", "list", "--json").output)
    by_version = {v["version"]: v["aliases"] for v in as_json[0]["versions"]}
    assert "challenger" in by_version["1"] and "challenger" not in by_version["2"]
    done = invoke(workspace, "models", "unalias", "shapes_model", "challenger")
    assert done.exit_code == 0, done.output
    assert "challenger" not in get_model(workspace, "shapes_model").aliases


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("models", "alias", "shapes_model", "7", "champion"), "has no version 7; versions: 1, 2"),
        (("models", "alias", "shapes_model", "1", "latest"), "reserved by MLflow"),
        (("models", "alias", "shapes_model", "1", "best model"), "use letters, digits"),
        (("models", "alias", "cells_model", "1", "x"), "no registered model 'cells_model'"),
        (("models", "unalias", "shapes_model", "gone"), "has no alias 'gone'"),
        (("predict", "--model", "shapes_model@gone", "x.png"), "has no alias 'gone'"),
    ],
)
def test_fixable_errors_are_one_line(registered, args, message):
    workspace, holdout = registered
    # predict checks its image files first: give it a real one, so the model's error shows
    image = str(next(holdout.rglob("*.png")))
    done = invoke(workspace, *(image if a == "x.png" else a for a in args))
    assert done.exit_code == 2
    assert message in done.output


def test_predict_from_the_cli_with_an_alias(registered):
    workspace, holdout = registered
    set_alias(workspace, "shapes_model", "1", "demo")
    images = sorted(holdout.rglob("*.png"))[:2]
    done = invoke(
        workspace,
        "predict",
        "--model",
        "shapes_model@demo",
        "--top-k",
        "2",
        "--json",
        *map(str, images),
    )
    assert done.exit_code == 0, done.output
    report = json.loads(done.output.strip().splitlines()[-1])
    assert [len(p["top"]) for p in report["predictions"]] == [2, 2]
    with pytest.raises(CockpitError, match="give at least one image"):
        from core.models.predict import predict_images

        predict_images(workspace, "shapes_model", [])


def test_predict_names_each_file_it_cannot_predict_predicts_the_others_and_exits_2(
    registered, tmp_path
):
    """A file that is no image and a float TIFF (no defined value range) each get one line
    saying what is wrong; the good image is still predicted; exit status 2."""
    import numpy as np
    from PIL import Image

    workspace, holdout = registered
    good = next(holdout.rglob("*.png"))
    floating = tmp_path / "depth.tif"
    Image.fromarray(np.random.default_rng(0).random((20, 20), dtype=np.float32)).save(floating)
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    done = invoke(
        workspace, "predict", "--model", "shapes_model", str(floating), str(good), str(text)
    )
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    lines = done.output.splitlines()
    [float_line] = [line for line in lines if line.startswith(f"{floating}: error: ")]
    assert "'F'" in float_line and "save the image with 8 or 16 bits" in float_line
    assert any(line.startswith(f"{text}: error: not a readable image") for line in lines)
    assert any(line.startswith(f"{good}: ") and "error" not in line for line in lines)
    as_json = invoke(
        workspace, "predict", "--model", "shapes_model", "--json", str(floating), str(good)
    )
    assert as_json.exit_code == 2
    report = json.loads(as_json.output.strip().splitlines()[-1])
    assert [p["error"] is None for p in report["predictions"]] == [False, True]


def test_the_registry_read_without_mlflow_matches_the_client(registered):
    """``models list`` reads a SQLite store's tables directly (no ``import mlflow``); it
    must say exactly what MLflow's client says: aliases, a deleted version and a prompt
    (which MLflow's listing leaves out) included."""
    from core.models.catalog import _read_sqlite_registry, registry_client

    workspace, _ = registered
    client = registry_client(workspace)
    set_alias(workspace, "shapes_model", "2", "champion")
    source = client.get_model_version("shapes_model", "1")
    client.create_registered_model("other_model", description="copied")
    for _ in range(2):
        client.create_model_version("other_model", source.source, run_id=source.run_id)
    client.delete_model_version("other_model", "1")
    # a prompt (MLflow's registry keeps prompts as models with this tag; its model listing
    # leaves them out): the tag written as MLflow's prompt registry writes it
    client.create_registered_model("notes")
    with contextlib.closing(sqlite3.connect(workspace.mlflow_db_file)) as store, store:
        store.execute(
            "INSERT INTO registered_model_tags (key, value, name) VALUES (?, 'true', 'notes')",
            ("mlflow.prompt.is_prompt",),
        )
    try:
        direct = _read_sqlite_registry(workspace)
        assert direct is not None, "the direct read failed: the store's schema changed?"
        assert direct == list_models(workspace, through_client=True)
        assert list_models(workspace) == direct
        assert [m.name for m in direct] == ["other_model", "shapes_model"]
        [other, shapes] = direct
        assert [v.version for v in other.versions] == ["2"] and other.description == "copied"
        assert shapes.aliases["champion"] == "2"
    finally:
        with contextlib.closing(sqlite3.connect(workspace.mlflow_db_file)) as store, store:
            store.execute("DELETE FROM registered_model_tags WHERE name = 'notes'")
        for name in ("other_model", "notes"):
            client.delete_registered_model(name)
        client.delete_registered_model_alias("shapes_model", "champion")

"""``cockpit reproduce``: a registered model retrained from its record gives the same metrics
on CPU, as its own unregistered run, without touching the original experiment."""

from __future__ import annotations

import hashlib
import subprocess

import pytest
from click.testing import CliRunner
from mlflow.tracking import MlflowClient
from sqlalchemy import select

from cockpit.cli.main import cli
from core.data.labeling import restore_labels, set_labels
from core.db import Label, open_database
from core.training.restore import restore_experiment
from core.training.run import train_experiment
from tests.core.training.conftest import tiny_params


def _tree_digest(folder):
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _cockpit(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args], catch_exceptions=False)


@pytest.mark.slow
def test_reproduce_gives_identical_metrics_and_refuses_changed_inputs(shapes_workspace):
    ws = shapes_workspace
    outcome = train_experiment(
        ws, "shapes", tiny_params(ws, "registration=always"), echo=lambda _: None
    )
    assert outcome.model_version == "1"
    original_dir = ws.experiment_dir(outcome.experiment_id)
    before = _tree_digest(original_dir)

    result = _cockpit(ws, "reproduce", "shapes_model/1")
    assert result.exit_code == 0, result.output
    assert "metrics identical" in result.output
    assert "test_acc: original" in result.output and "diff 0.00e+00" in result.output

    client = MlflowClient(tracking_uri=f"sqlite:///{ws.mlflow_db_file}")
    runs = client.search_runs(
        [client.get_run(outcome.run_id).info.experiment_id],
        filter_string=f"tags.reproduction_of = '{outcome.run_id}'",
    )
    assert len(runs) == 1 and runs[0].info.status == "FINISHED"
    assert runs[0].info.run_id != outcome.run_id
    reproduced = runs[0].data.metrics
    original = client.get_run(outcome.run_id).data.metrics
    assert reproduced["test_acc"] == original["test_acc"]
    assert reproduced["best_valid_loss"] == original["best_valid_loss"]
    # nothing registered; the original experiment untouched; a second one gets a new folder
    assert [str(v.version) for v in client.search_model_versions("name='shapes_model'")] == ["1"]
    assert _tree_digest(original_dir) == before
    assert (ws.root / "output" / "reproductions" / f"{outcome.experiment_id}-1").is_dir()

    # --strict with a changed definition source: exit 2 naming it
    params, _, snapshot = restore_experiment(ws, outcome.experiment_id)
    model_file = ws.root / "definitions" / "models" / params.choice.model / "model.py"
    model_file.write_text(model_file.read_text() + "\n# edited\n")
    strict = _cockpit(ws, "reproduce", "--strict", "--run", outcome.run_id)
    assert strict.exit_code == 2, strict.output
    assert "definition source" in strict.output and "model" in strict.output
    assert not (ws.root / "output" / "reproductions" / f"{outcome.experiment_id}-2").exists()

    # a snapshot image relabeled since: exit 2 naming the image, nothing trained
    item = snapshot.items[0]
    db = open_database(ws)
    with db.session() as session:
        other = session.scalars(
            select(Label).where(
                Label.theme_id == snapshot.theme_id,
                Label.label_name != snapshot.class_names[item.class_index],
            )
        ).first()
        other_id = other.id
    previous = set_labels(db, snapshot.theme_id, [item.train_data_id], other_id)
    relabeled = _cockpit(ws, "reproduce", "shapes_model")
    assert relabeled.exit_code == 2, relabeled.output
    assert item.image_path in relabeled.output
    assert not (ws.root / "output" / "reproductions" / f"{outcome.experiment_id}-2").exists()
    assert _tree_digest(original_dir) == before

    # the advice works: with the label set back it reproduces (the edited source only warns)
    restore_labels(db, snapshot.theme_id, previous)
    again = _cockpit(ws, "reproduce", "shapes_model")
    assert again.exit_code == 0, again.output
    assert "warning: definition source" in again.output
    assert "metrics identical" in again.output
    assert (ws.root / "output" / "reproductions" / f"{outcome.experiment_id}-2").is_dir()
    assert _tree_digest(original_dir) == before


@pytest.mark.slow
def test_strict_names_the_recorded_commit_and_its_checkout_reproduces(shapes_workspace):
    ws = shapes_workspace

    def git(*args):
        done = subprocess.run(
            [
                "git",
                "-C",
                str(ws.root),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.org",
                *args,
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        return done.stdout.strip()

    git("init", "-q")
    git("add", "configs", "definitions")
    git("commit", "-qm", "recorded")
    recorded = git("rev-parse", "HEAD")
    outcome = train_experiment(ws, "shapes", tiny_params(ws), echo=lambda _: None)
    (ws.root / "notes.txt").write_text("later work\n")
    git("add", "notes.txt")
    git("commit", "-qm", "later")

    refused = _cockpit(ws, "reproduce", "--strict", "--run", outcome.run_id)
    assert refused.exit_code == 2, refused.output
    assert f"git checkout {recorded}" in refused.output
    assert not (ws.root / "output" / "reproductions").exists()

    git("checkout", "-q", recorded)
    done = _cockpit(ws, "reproduce", "--strict", "--run", outcome.run_id)
    assert done.exit_code == 0, done.output
    assert "warning" not in done.output
    assert "metrics identical" in done.output


def test_bad_arguments_name_the_fix(workspace):
    neither = _cockpit(workspace, "reproduce")
    assert neither.exit_code == 2
    assert "name MODEL[/VERSION|@ALIAS] or --run RUN_ID" in neither.output
    both = _cockpit(workspace, "reproduce", "shapes_model", "--run", "abc")
    assert both.exit_code == 2
    unknown = _cockpit(workspace, "reproduce", "--run", "0123456789abcdef")
    assert unknown.exit_code == 2
    assert "0123456789abcdef" in unknown.output
    assert not (workspace.root / "output" / "reproductions").exists()

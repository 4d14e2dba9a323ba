"""Names a user types (themes, labels, studies, run names) are used in paths, in MLflow
filter strings and in the GUI. A quote must not break the record, a name must not write
outside the workspace, and names stored before the rule stay usable.

Everything runs through the real command line (click), a real SQLite database, the real
MLflow store and real training."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml
from click.testing import CliRunner

from cockpit.cli import cli
from core.demo import write_demo_images
from core.names import NAME_RULE
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")

HOSTILE = ["../escape", "..", ".", "<b>x</b>", 'say "hi"', "a\\b", ".hidden", "x" * 65]


def cockpit(workspace, *args):
    return CliRunner().invoke(cli, ["-w", str(workspace.root), *args], catch_exceptions=False)


def refused(result, field: str) -> str:
    """The command failed as a user error: exit 2, one line naming ``field``."""
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert field in lines[0], lines[0]
    return lines[0]


def files_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def theme_names(workspace):
    result = cockpit(workspace, "theme", "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return [theme["name"] for theme in json.loads(result.output)]


def test_hostile_theme_and_label_names_are_refused_and_nothing_is_written(workspace, tmp_path):
    absolute = str(tmp_path / "abs")
    assert cockpit(workspace, "theme", "create", "cells", "--labels", "a,b").exit_code == 0
    before = files_under(tmp_path)
    for name in [*HOSTILE, absolute]:
        line = refused(cockpit(workspace, "theme", "create", name), "theme name")
        assert NAME_RULE in line
        refused(cockpit(workspace, "theme", "rename", "cells", name), "theme name")
        refused(cockpit(workspace, "label", "add", "cells", name), "label name")
        refused(cockpit(workspace, "label", "rename", "cells", "a", name), "label name")
        refused(cockpit(workspace, "theme", "create", "ok", "--labels", name), "label name")
    assert theme_names(workspace) == ["cells"]
    assert files_under(tmp_path) == before
    with sqlite3.connect(workspace.database_file) as db:
        assert sorted(r[0] for r in db.execute("SELECT label_name FROM label")) == ["a", "b"]


def test_an_image_folder_named_like_a_path_is_refused_as_a_label(workspace, tmp_path):
    assert cockpit(workspace, "theme", "create", "cells").exit_code == 0
    write_demo_images(tmp_path / "in", per_class=2, size=16, seed=1)
    (tmp_path / "in" / "circle").rename(tmp_path / "in" / "<circle>")
    result = cockpit(workspace, "import", "--theme", "cells", str(tmp_path / "in"))
    refused(result, "label name '<circle>'")
    with sqlite3.connect(workspace.database_file) as db:
        assert db.execute("SELECT count(*) FROM train_data").fetchone() == (0,)


@pytest.mark.parametrize("name", ["../escape", "/abs/escape", "..", "a\\b"])
def test_a_study_name_never_becomes_a_path_outside_the_workspace(workspace, tmp_path, name):
    assert cockpit(workspace, "theme", "create", "cells").exit_code == 0
    config = yaml.safe_load(workspace.optuna_params_file.read_text())
    config["study"]["name"] = name
    hostile = tmp_path / "hostile_optuna.yaml"
    hostile.write_text(yaml.safe_dump(config))
    before = files_under(tmp_path)
    line = refused(
        cockpit(workspace, "submit", "tune", "--theme", "cells", "--optuna-params", str(hostile)),
        "study.name",
    )
    assert str(hostile) in line
    refused(cockpit(workspace, "tune", "--theme", "cells", "--study-name", name), "study name")
    assert files_under(tmp_path) == [*before]
    assert not any(workspace.queue_state_dir("pending").iterdir())


def test_a_run_name_like_a_path_is_refused_at_submit_and_in_the_foreground(workspace):
    assert cockpit(workspace, "theme", "create", "cells").exit_code == 0
    for command in (["submit", "train"], ["train"]):
        result = cockpit(workspace, *command, "--theme", "cells", "--set", "run_name=../x")
        refused(result, "params run_name '../x'")
    assert not any(workspace.queue_state_dir("pending").iterdir())


def _legacy_theme(workspace, tmp_path, theme: str, label: str) -> None:
    """A theme and label stored before the name rule: made under good names, then renamed
    in the database the way an older version could store them."""
    write_demo_images(tmp_path / "legacy", per_class=3, size=16, seed=2)
    assert cockpit(workspace, "theme", "create", "legacy").exit_code == 0
    result = cockpit(workspace, "import", "--theme", "legacy", str(tmp_path / "legacy"))
    assert result.exit_code == 0, result.output
    with sqlite3.connect(workspace.database_file) as db:
        db.execute("UPDATE theme SET name = ? WHERE name = 'legacy'", (theme,))
        db.execute("UPDATE label SET label_name = ? WHERE label_name = 'circle'", (label,))


def test_names_stored_before_the_rule_stay_usable_and_never_escape_an_export(workspace, tmp_path):
    theme = '<b>x</b> said "it\'s"'
    _legacy_theme(workspace, tmp_path, theme, "..")
    assert theme in theme_names(workspace)
    assert cockpit(workspace, "label", "add", theme, "new").exit_code == 0
    out = tmp_path / "export" / "tree"
    before = files_under(tmp_path)
    line = refused(cockpit(workspace, "theme", "export", theme, "--to", str(out)), "label '..'")
    assert "would lie outside" in line
    new_files = set(files_under(tmp_path)) - set(before)
    assert all(path.startswith("export/tree") for path in new_files), new_files
    # the way out: rename the label under the rule, and the export works
    assert cockpit(workspace, "label", "rename", theme, "..", "circle").exit_code == 0
    result = cockpit(workspace, "theme", "export", theme, "--to", str(tmp_path / "ok"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "ok").iterdir()) == ["circle", "square", "triangle"]


def _train_register_list_export_delete(workspace, tmp_path, theme: str) -> None:
    from core.training.tracking import tracking_client

    sets = [arg for item in TINY for arg in ("--set", item)]
    result = cockpit(workspace, "train", "--theme", theme, *sets)
    assert result.exit_code == 0, result.output
    model = f"{theme}_model"
    assert f"registered model: {model} version 1" in result.output

    client = tracking_client(workspace)
    [experiment] = [e for e in client.search_experiments() if e.name == theme]
    [run] = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"

    listed = cockpit(workspace, "models", "list", "--json")
    assert listed.exit_code == 0, listed.output
    [entry] = [m for m in json.loads(listed.output) if m["name"] == model]
    assert [v["version"] for v in entry["versions"]] == ["1"]
    assert entry["theme"] == theme

    target = tmp_path / "model.onnx"
    exported = cockpit(
        workspace, "export", "--model", f"{model}/1", "--format", "onnx", "--output", str(target)
    )
    assert exported.exit_code == 0, exported.output
    assert target.stat().st_size > 0

    history = cockpit(workspace, "history", "list", "--theme", theme, "--format", "json")
    assert history.exit_code == 0, history.output
    [experiment_id] = [e["experiment_id"] for e in json.loads(history.output)]
    deleted = cockpit(workspace, "history", "delete", experiment_id, "--yes")
    assert deleted.exit_code == 0, deleted.output
    assert "note:" not in deleted.output  # the MLflow part of the delete did not fail
    assert [m.name for m in client.search_registered_models()] == []
    from mlflow.exceptions import MlflowException

    with pytest.raises(MlflowException, match="not found"):
        client.get_run(run.info.run_id)  # deleted for good


@pytest.mark.slow
def test_a_theme_with_a_quote_trains_registers_lists_exports_and_deletes(workspace, tmp_path):
    write_demo_images(tmp_path / "shapes", per_class=8, size=16, seed=3)
    assert cockpit(workspace, "theme", "create", "it's").exit_code == 0
    result = cockpit(workspace, "import", "--theme", "it's", str(tmp_path / "shapes"))
    assert result.exit_code == 0, result.output
    _train_register_list_export_delete(workspace, tmp_path, "it's")


@pytest.mark.slow
def test_a_stored_theme_with_both_quotes_and_a_backslash_still_trains_to_the_end(
    workspace, tmp_path
):
    # the rule refuses such a name now; one stored before it must still work end to end
    theme = 'say "it\'s" \\ ok'
    refused(cockpit(workspace, "theme", "create", theme), "theme name")
    _legacy_theme(workspace, tmp_path, theme, "circle")
    _train_register_list_export_delete(workspace, tmp_path, theme)


def displayed(text: str, text_format=None) -> str:
    """What Qt shows for ``text`` in a QLabel of ``text_format``, a tooltip or a message
    box: rich text when the format says so or Qt guesses it is (``mightBeRichText``)."""
    from PySide6 import QtGui
    from PySide6.QtCore import Qt

    rich = text_format == Qt.TextFormat.RichText or (
        text_format in (None, Qt.TextFormat.AutoText) and QtGui.Qt.mightBeRichText(text)
    )
    if not rich:
        return text
    document = QtGui.QTextDocument()
    document.setHtml(text)
    return document.toPlainText().replace("\xa0", " ")


def test_the_themes_panel_shows_names_literally_never_as_html(
    qtbot, workspace, tmp_path, monkeypatch
):
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QMessageBox

    from cockpit.panels.themes import ThemesPanel

    theme, label = "<b>x</b>", "<i>y</i> & <img src=z>"
    # a theme and label stored before the name rule, which refuses such names now
    assert cockpit(workspace, "theme", "create", "legacy", "--labels", "circle").exit_code == 0
    with sqlite3.connect(workspace.database_file) as db:
        db.execute("UPDATE theme SET name = ? WHERE name = 'legacy'", (theme,))
        db.execute("UPDATE label SET label_name = ? WHERE label_name = 'circle'", (label,))

    panel = ThemesPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.show()
    assert panel.current_theme == theme
    assert displayed(panel.title.text(), panel.title.textFormat()) == f"Labels of {theme}"
    assert panel.theme_list.item(0).text().startswith(theme)
    assert panel.labels.item(0, 0).text() == label

    panel.new_theme.setText("<img src=z>")
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel._create_theme()
    shown = displayed(panel.message.text(), panel.message.textFormat())
    assert shown.startswith("theme name '<img src=z>' is not allowed")
    assert theme_names(workspace) == [theme]

    asked = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda *args: asked.append(args[2]) or QMessageBox.StandardButton.No,
    )
    panel.current_theme = theme
    panel._delete_theme()
    assert displayed(asked[0]) == f"Delete theme {theme!r}, its labels and all its images?"
    assert theme_names(workspace) == [theme]
    QThreadPool.globalInstance().waitForDone(30_000)


@pytest.mark.slow
def test_a_study_of_a_theme_with_a_quote_registers_its_best_trial(workspace, tmp_path):
    from core.training.tracking import tracking_client

    write_demo_images(tmp_path / "shapes", per_class=8, size=16, seed=3)
    assert cockpit(workspace, "theme", "create", "it's").exit_code == 0
    assert cockpit(workspace, "import", "--theme", "it's", str(tmp_path / "shapes")).exit_code == 0
    config = yaml.safe_load(workspace.optuna_params_file.read_text())
    config["study"].update(name="it's study", n_trials=2, pruner="none", sampler="random")
    config["base_params"] = dict(item.split("=") for item in TINY if not item.startswith("lr="))
    config["search_space"] = {"lr": {"type": "float", "low": 0.001, "high": 0.03, "log": True}}
    workspace.optuna_params_file.write_text(yaml.safe_dump(config))

    result = cockpit(workspace, "tune", "--theme", "it's")
    assert result.exit_code == 0, result.output
    assert "registered the best trial as version 1" in result.output
    assert (workspace.configs_dir / "best_params_it's study.yaml").is_file()
    assert (workspace.root / "output" / "studies" / "it's study" / "best_params.yaml").is_file()
    [version] = tracking_client(workspace).search_model_versions('name = "it\'s_model"')
    assert version.tags.get("best_trial") is not None

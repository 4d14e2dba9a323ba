"""The Configuration editor on a real workspace whose configuration was trained once
(tiny shapes theme, CPU): field validation, YAML <-> form, the experiment preview and
its diff, augmentation preview, jobs queued like `cockpit submit`."""

from __future__ import annotations

import json

import optuna
import pytest
from optuna.distributions import FloatDistribution, IntDistribution
from PySide6.QtCore import Qt

from cockpit.panels.editor import ConfigEditorPanel
from core.config import resolve_params
from core.config.editing import set_top_level_value
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.jobs.queue import JobQueue
from core.scaffold import init_workspace
from tests.core.training.conftest import TINY

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """Theme 'shapes' trained once with TINY written into configs/params.yaml."""
    from core.training.run import train_experiment

    root = tmp_path_factory.mktemp("editor")
    workspace = init_workspace(root / "ws").workspace
    write_demo_images(root / "shapes", per_class=12, size=16, seed=3)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [root / "shapes"])
    text = workspace.params_file.read_text()
    for item in TINY:
        key, _, value = item.partition("=")
        text = set_top_level_value(text, key, json.loads(value))
    workspace.params_file.write_text(text)
    outcome = train_experiment(workspace, "shapes", resolve_params(workspace), echo=lambda _: None)
    return workspace, outcome.experiment_id


@pytest.fixture(scope="module")
def trained(trained_run):
    return trained_run[0]


@pytest.fixture(scope="module")
def trained_id(trained_run):
    return trained_run[1]


@pytest.fixture
def open_panel(show_panel):
    def make(workspace, size=(1280, 800)):
        panel = ConfigEditorPanel(workspace)
        panel.start_runner = False
        return show_panel(panel, size)

    return make


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: panel.up_to_date, timeout=30_000)


def edit_yaml(qtbot, panel, text, name="params"):
    panel.set_text(name, text)
    settle(qtbot, panel)


def test_invalid_value_is_flagged_at_its_field_and_blocks_jobs(
    qtbot, open_panel, trained, screenshot_dir
):
    panel = open_panel(trained)
    settle(qtbot, panel)
    # the configuration as trained: a train job would do nothing, and says so
    assert not panel.add_train.isEnabled() and panel.add_tune.isEnabled()
    assert "already complete: raise max_epochs" in panel.add_train.toolTip()
    lr = panel.form.fields["lr"]
    assert lr.editor.text() == "0.01"
    lr.editor.setFocus()
    lr.editor.selectAll()
    qtbot.keyClicks(lr.editor, "-0.5")
    settle(qtbot, panel)
    assert lr.error.isVisible()
    assert lr.error.text() == "Input should be greater than 0 (expected float > 0, <= 10); got -0.5"
    assert "lr: -0.5" in panel.text("params")
    assert not panel.add_train.isEnabled() and not panel.add_tune.isEnabled()
    assert panel.preview.headline.text() == "invalid configuration"
    others = [f for k, f in panel.form.fields.items() if k != "lr" and f.error.isVisible()]
    assert others == []
    panel.grab().save(str(screenshot_dir / "editor_invalid.png"))
    qtbot.keyClicks(lr.editor, "\b\b\b\b0.02")
    settle(qtbot, panel)
    assert not lr.error.isVisible() and panel.add_train.isEnabled()
    assert panel.preview.headline.text() == "new experiment"


def test_yaml_and_form_stay_in_sync(qtbot, open_panel, trained):
    panel = open_panel(trained)
    settle(qtbot, panel)
    text = panel.text("params")
    edit_yaml(qtbot, panel, text.replace("batch_size: 8", "batch_size: 16"))
    assert panel.form.fields["batch_size"].editor.value() == 16
    optimizer = panel.form.fields["optimizer"].editor
    optimizer.setCurrentIndex(optimizer.findData("sgd"))
    optimizer.activated.emit(optimizer.currentIndex())
    settle(qtbot, panel)
    assert "optimizer: sgd\n" in panel.text("params")
    assert "# not part of the experiment id: raising it adds epochs" in panel.text("params")
    assert panel.tabs.tabText(0) == "params.yaml *"
    # another model: its own group of fields, the old model's fields go
    edit_yaml(qtbot, panel, panel.text("params").replace("model: simple_cnn", "model: resnet"))
    assert "arch" in panel.form.fields and "dropout" not in panel.form.fields
    assert panel.form.fields["arch"].editor.currentData() == "resnet18"
    # a YAML value out of a spin box's range is shown as written, and flagged
    edit_yaml(qtbot, panel, panel.text("params").replace("batch_size: 16", "batch_size: 0"))
    assert panel.form.fields["batch_size"].editor.value() == 0
    assert "greater than or equal to 1" in panel.form.fields["batch_size"].error.text()


def test_malformed_yaml_gives_the_line_and_leaves_the_form(qtbot, open_panel, trained):
    panel = open_panel(trained)
    settle(qtbot, panel)
    edit_yaml(qtbot, panel, panel.text("params") + "lr: [0.1\n")
    assert panel.problems.isVisible()
    message = panel.problems.text()
    assert message.startswith("configs/params.yaml: line ") and "invalid YAML" in message
    assert panel.form.fields["lr"].editor.text() == "0.01"
    assert not panel.add_train.isEnabled()
    assert panel.tabs.tabText(0).startswith("⚠ params.yaml")
    edit_yaml(qtbot, panel, "train:\n  - p: 0.5\n", name="augments")
    assert "configs/augments.yaml: train[0].type: Field required" in panel.problems.text()


def test_preview_complete_adds_epochs_new_and_resume(qtbot, open_panel, trained, trained_id):
    panel = open_panel(trained)
    settle(qtbot, panel)
    preview = panel.preview
    assert preview.headline.text() == "already complete"
    assert trained_id in preview.identity.text()
    assert "no difference" in preview.compared.text()
    text = panel.text("params")
    edit_yaml(qtbot, panel, set_top_level_value(text, "max_epochs", 5))
    assert preview.headline.text() == "adds 3 epochs"
    assert "this experiment as recorded" in preview.compared.text()
    assert rows(preview.diff) == [["max_epochs", "2", "5"]]
    edit_yaml(qtbot, panel, set_top_level_value(text, "lr", 0.02))
    assert preview.headline.text() == "new experiment"
    assert trained_id not in preview.identity.text()
    assert f"nearest earlier experiment <b>{trained_id}</b>" in preview.compared.text()
    assert rows(preview.diff) == [["lr", "0.01", "0.02"]]
    # a run that was killed after its checkpoint (state.json not finished) resumes
    state_file = trained.experiment_dir(trained_id) / "state.json"
    state = state_file.read_text()
    try:
        state_file.write_text(json.dumps({**json.loads(state), "finished": False}))
        edit_yaml(qtbot, panel, set_top_level_value(text, "max_epochs", 4))
        assert preview.headline.text() == "resume (epoch 2 of 4)"
    finally:
        state_file.write_text(state)


def rows(table):
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def test_augmentation_preview_shows_augmented_theme_images(qtbot, open_panel, trained):
    panel = open_panel(trained)
    settle(qtbot, panel)
    panel.tabs.setCurrentIndex(panel.augment_tab)
    qtbot.waitUntil(lambda: len(panel.augmentations.tiles) == 15, timeout=60_000)
    pixmap = panel.augmentations.tiles[0].pixmap()
    assert pixmap.width() == 96 and pixmap.height() == 96
    assert "train images of 'shapes'" in panel.augment_note.text()
    labels = {tile.toolTip().split(" · ")[1] for tile in panel.augmentations.tiles}
    assert len(labels) == 3  # one image of each class


def test_load_params_save_and_best_params(qtbot, open_panel, trained, trained_id, tmp_path):
    panel = open_panel(trained)
    settle(qtbot, panel)
    full = dict(resolve_params(trained).values)
    full.update(lr=0.05, optimizer="adamw")
    panel.load_params(full, source="history")
    settle(qtbot, panel)
    assert panel.status.text() == "2 parameter(s) from history: lr, optimizer; not saved yet"
    assert panel.form.fields["lr"].editor.text() == "0.05"
    target = tmp_path / "mine.yaml"
    panel.save("params", target)
    qtbot.waitUntil(lambda: target.exists(), timeout=10_000)
    assert target.read_text() == panel.text("params")
    qtbot.waitUntil(lambda: panel.tabs.tabText(0) == "mine.yaml", timeout=10_000)
    study = optuna.create_study(study_name="s1", storage=trained.optuna_storage_url)
    study.add_trial(
        optuna.create_trial(
            params={"lr": 0.003, "batch_size": 24},
            distributions={
                "lr": FloatDistribution(1e-4, 0.1, log=True),
                "batch_size": IntDistribution(8, 64),
            },
            value=0.9,
            user_attrs={"experiment_id": trained_id},
        )
    )
    panel.apply_best_params("s1")
    qtbot.waitUntil(lambda: "from study s1" in panel.status.text(), timeout=10_000)
    settle(qtbot, panel)
    assert panel.form.fields["batch_size"].editor.value() == 24
    assert panel.form.fields["lr"].editor.text() == "0.003"
    # the record's optimizer (adam) replaces the adamw loaded above
    assert panel.status.text() == (
        "3 parameter(s) from study s1: batch_size, lr, optimizer; not saved yet"
    )
    other = tmp_path / "other.yaml"
    other.write_text("lr: 0.07\n")
    panel.load_file("params", other)
    settle(qtbot, panel)
    assert panel.form.fields["lr"].editor.text() == "0.07"
    assert panel.form.fields["optimizer"].editor.currentData() == "adam"  # the default
    assert panel.tabs.tabText(0) == "other.yaml" and panel.unsaved_documents() == []


def test_add_train_and_tune_jobs(qtbot, open_panel, trained, screenshot_dir):
    from cockpit.panels.editor.dialogs import TuneJobDialog

    panel = open_panel(trained)
    settle(qtbot, panel)
    text = panel.text("params")
    submitted = []
    panel.sig_job_submitted.connect(submitted.append)
    edit_yaml(qtbot, panel, set_top_level_value(text, "max_epochs", 3))
    panel.add_train_job()
    qtbot.waitUntil(lambda: len(submitted) == 1, timeout=30_000)
    settle(qtbot, panel)
    assert (
        f"job {submitted[0]} of this experiment is already pending" in panel.preview.detail.text()
    )
    edit_yaml(
        qtbot, panel, set_top_level_value(set_top_level_value(text, "lr", 0.02), "max_epochs", 3)
    )
    qtbot.keyClicks(panel.run_name, "lower lr")  # the run's name, typed
    qtbot.mouseClick(panel.add_train, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(submitted) == 2, timeout=30_000)
    settle(qtbot, panel)
    named = JobQueue(trained).get(submitted[1])
    assert named.name == "lower lr" and panel.run_name.text() == ""
    assert JobQueue(trained).get(submitted[0]).name  # derived from what differs

    config = panel.check.optuna
    parallel = config.model_copy(update={"study": config.study.model_copy(update={"n_parallel": 3})})
    workers = TuneJobDialog(parallel, "shapes", panel)
    qtbot.addWidget(workers)
    assert workers.workers.value() == 3  # the study file's n_parallel is the default
    dialog = TuneJobDialog(panel.check.optuna, "shapes", panel)
    qtbot.addWidget(dialog)
    assert dialog.workers.value() == 1
    assert "Recommended: <b>30 trials</b> — 30 trials: about 10 per dimension" in (
        dialog.recommendation.text()
    )
    assert "measuring the model and the data" in dialog.profile_label.text()
    assert "multivariate TPE: medium data, 3 dimension(s)" in dialog.explanation.text()
    # the measured profile (what the panel computes off the GUI thread) decides the choice
    from core.history.costs import plan_study

    plan = plan_study(trained, "shapes", panel.check.optuna)
    dialog.set_plan(plan.profile, plan.seconds_per_trial)
    assert "Chosen from: simple model (" in dialog.profile_label.text()
    assert "per trial on this theme's earlier runs" in dialog.profile_label.text()
    assert "random: with small data" in dialog.explanation.text()
    assert "cautious median pruner" in dialog.explanation.text()
    dialog.n_trials.setValue(4)
    assert "random: 4 trials are too few" in dialog.explanation.text()
    panel.submit_tune_job(*dialog.choice())
    qtbot.waitUntil(lambda: len(submitted) == 3, timeout=30_000)

    pending = {
        p.stem: json.loads(p.read_text()) for p in trained.queue_state_dir("pending").glob("*.json")
    }
    assert set(pending) == set(submitted)
    kinds = sorted(pending[j]["kind"] for j in submitted)
    assert kinds == ["train", "train", "tune"]
    tune = next(j for j in pending.values() if j["kind"] == "tune")
    assert tune["args"]["n_trials"] == 4 and tune["args"]["optuna"]["study"]["sampler"] == "auto"
    assert tune["params"]["lr"] == 0.02 and tune["params"]["max_epochs"] == 5  # base_params
    assert "queued job" in panel.status.text()

    edit_yaml(
        qtbot, panel, set_top_level_value(set_top_level_value(text, "lr", 0.03), "max_epochs", 4)
    )
    panel.form.fields["dropout"].editor.setFocus()
    panel.grab().save(str(screenshot_dir / "editor.png"))
    panel.tabs.setCurrentIndex(panel.augment_tab)
    qtbot.waitUntil(lambda: len(panel.augmentations.tiles) == 15, timeout=60_000)
    panel.grab().save(str(screenshot_dir / "editor_augmentations.png"))


def test_cli_preview_tells_the_same(trained, trained_id):
    from click.testing import CliRunner

    from cockpit.cli.main import cli

    runner = CliRunner()
    base = ["-w", str(trained.root), "config", "preview", "--theme", "shapes"]
    done = runner.invoke(cli, [*base, "--set", "max_epochs=6"])
    assert done.exit_code == 0, done.output
    lines = done.output.splitlines()
    assert lines[0] == "adds 4 epochs: the finished experiment (2 epochs) trains on to epoch 6"
    assert lines[1] == f"experiment id: {trained_id}"
    assert lines[-2:] == [
        f"compared with experiment {trained_id}: 1 difference(s)",
        "  max_epochs: 2 -> 6",
    ]
    done = runner.invoke(cli, [*base, "--set", "lr=-1"])
    assert done.exit_code == 2 and "lr: Input should be greater than 0" in done.output


def test_files_changed_on_disk_are_taken_over_unless_edited(qtbot, open_panel, workspace):
    panel = open_panel(workspace)
    settle(qtbot, panel)
    assert panel.preview.headline.text() == "no theme" and not panel.add_train.isEnabled()
    workspace.augments_file.write_text("train: []\n")
    qtbot.waitUntil(lambda: panel.text("augments") == "train: []\n", timeout=10_000)
    assert panel.unsaved_documents() == []
    panel.set_text("params", panel.text("params") + "dropout: 0.2\n")
    workspace.params_file.write_text("lr: 0.5\n")
    qtbot.waitUntil(lambda: "changed on disk" in panel.status.text(), timeout=10_000)
    assert panel.text("params").endswith("dropout: 0.2\n")
    assert panel.unsaved_documents() == ["params"]


def test_images_without_a_split_make_a_new_experiment(shapes_workspace):
    from click.testing import CliRunner

    from cockpit.cli.main import cli

    root = str(shapes_workspace.root)
    done = CliRunner().invoke(cli, ["-w", root, "config", "preview", "--theme", "shapes"])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        "new experiment: trains 10 epochs from scratch",
        "experiment id: assigned when the job is submitted",
        "note: 36 labeled images of 'shapes' get a train/valid/test split when the job is "
        "submitted; the experiment id is known then",
        "no earlier experiment of theme 'shapes'",
    ]


def test_reload_picks_up_a_new_theme(qtbot, open_panel, workspace):
    panel = open_panel(workspace)
    settle(qtbot, panel)
    create_theme(open_database(workspace), "cats", labels=["a", "b"])
    panel.reload()
    qtbot.waitUntil(lambda: panel.theme == "cats", timeout=10_000)
    settle(qtbot, panel)
    assert panel.form.theme.currentText() == "cats"
    assert panel.preview.headline.text() == "cannot train yet"
    assert "theme 'cats' has no labeled images; training needs at least 2 classes" in (
        panel.preview.detail.text()
    )
    assert not panel.add_train.isEnabled()

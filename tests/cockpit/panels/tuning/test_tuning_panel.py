"""The Tuning panel and `cockpit study` over a real study (see conftest.py) and a study
made with Optuna's API that has a trial still running."""

from __future__ import annotations

import math

import optuna
import pytest
import yaml
from click.testing import CliRunner
from optuna.distributions import FloatDistribution
from PySide6.QtCore import Qt

from cockpit.cli.main import cli
from cockpit.panels.tuning import TuningPanel
from cockpit.panels.tuning.widget import NO_STUDIES
from core.tuning.results import STOP_ATTR, best_params, load_study_details
from tests.cockpit.panels.tuning.conftest import N_TRIALS, STUDY_NAME

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def open_panel(show_panel):
    def make(workspace, size=(1280, 800)):
        return show_panel(TuningPanel(workspace), size)

    return make


def cell(table, row, column):
    return table.item(row, column).text()


def test_stop_ends_the_running_study_after_its_current_trial(stopped_study):
    s = stopped_study
    assert s.returncode == 0, s.output
    assert "ends after trial(s)" in s.stop_message
    summary = s.summary
    assert summary.counts["running"] == 0 and not summary.stopping
    # the trials that ran when the stop was recorded finished; none began after it (but
    # one starting at that very moment): counted from the trials' own start times, since
    # the stop command itself takes a while on a busy machine while short trials go on
    done = summary.counts["complete"] + summary.counts["pruned"]
    assert s.done_at_stop <= done < N_TRIALS
    study = optuna.load_study(study_name=STUDY_NAME, storage=s.workspace.optuna_storage_url)
    stopped_at = study.user_attrs[STOP_ATTR]
    later = [t for t in study.trials if t.datetime_start.timestamp() > stopped_at + 0.5]
    assert len(later) <= 1, [(t.number, t.datetime_start) for t in later]
    assert summary.counts["fail"] == 0
    assert f"stop requested: study '{STUDY_NAME}' ends after trial" in s.output
    assert "registered the best trial as version 1" in s.output
    assert (s.workspace.configs_dir / f"best_params_{STUDY_NAME}.yaml").exists()
    assert summary.theme == "shapes" and summary.metric == "valid_loss"


def test_studies_list_and_trials_table(open_panel, stopped_study):
    panel = open_panel(stopped_study.workspace)
    summary = stopped_study.summary
    table = panel.studies_table
    assert table.rowCount() == 1
    assert cell(table, 0, 0) == STUDY_NAME
    assert cell(table, 0, 1) == "shapes"
    assert cell(table, 0, 2) == "valid_loss ↓"
    assert cell(table, 0, 3) == str(summary.counts["complete"])
    assert cell(table, 0, 6) == "0"
    assert cell(table, 0, 8) == str(summary.best_trial)
    assert panel.current_study == STUDY_NAME
    assert panel.apply_button.isEnabled() and not panel.stop_button.isEnabled()

    model = panel.trials_proxy
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["#", "State", "Value", "Duration",
                       "lr", "batch_size", "dropout", "optimizer"]  # fmt: skip
    study = optuna.load_study(
        study_name=STUDY_NAME, storage=stopped_study.workspace.optuna_storage_url
    )
    trials = study.get_trials()
    assert model.rowCount() == len(trials)
    first = trials[0]
    row0 = [model.index(0, c).data() for c in range(model.columnCount())]
    assert row0[0] == "0" and row0[1] == "complete"
    assert row0[2] == f"{first.value:.4g}"
    assert row0[3].endswith(" s")
    assert row0[4:] == [f"{first.params['lr']:.4g}", str(first.params["batch_size"]),
                        f"{first.params['dropout']:.4g}", first.params["optimizer"]]  # fmt: skip

    panel.trials_view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    values = [model.index(r, 2).data() for r in range(model.rowCount())]
    numbers = [float(v) for v in values if v != "–"]
    assert numbers == sorted(numbers, reverse=True)
    assert any(n == pytest.approx(study.best_value, abs=1e-3) for n in numbers)
    assert numbers[-1] <= study.best_value + 1e-3  # a minimised loss: the best sorts last


def test_history_importance_and_parallel_coordinates_have_data(open_panel, stopped_study):
    panel = open_panel(stopped_study.workspace)
    details = panel.details
    complete = details.complete
    assert len(complete) == stopped_study.summary.counts["complete"] >= 3

    history = panel.history_plot
    assert history.has_plot
    # the legend's coloured marks are drawn, not shown as markup
    assert history.caption.textFormat() == Qt.TextFormat.RichText
    xs, ys = history.points.getData()
    assert list(xs) == [t.number for t in complete]
    assert list(ys) == pytest.approx([t.value for t in complete])
    _, best_y = history.best_line.getData()
    running = [min(v.value for v in complete[: i + 1]) for i in range(len(complete))]
    assert list(best_y) == pytest.approx(running)

    importance = panel.importance_plot
    assert importance.has_plot
    assert set(importance.names) == {"lr", "batch_size", "dropout", "optimizer"}
    assert sum(details.importance.values()) == pytest.approx(1.0, abs=1e-6)
    assert "fANOVA" in importance.caption.text()

    parallel = panel.parallel_plot
    assert parallel.has_plot
    assert sorted(parallel.paths) == [t.number for t in complete]
    drawn = []  # every line the plot items hold, split at their gaps
    for item in parallel.items:
        xs, ys = item.getData()
        runs = [[]]
        for x, y in zip(xs, ys, strict=True):
            if math.isnan(y):
                runs.append([])
            else:
                runs[-1].append((x, y))
        drawn += [run for run in runs if run]
    assert len(drawn) == len(complete)
    best = details.summary.best_trial
    xs, ys = parallel.paths[best]
    assert xs == [0, 1, 2, 3, 4]  # objective + four parameters
    assert all(0.0 <= y <= 1.0 for y in ys)
    assert drawn[-1] == list(zip(xs, ys, strict=True))  # the best trial on top
    lr_axis = next(a for a in details.axes if a.name == "lr")
    assert lr_axis.log
    best_lr = next(t for t in complete if t.number == best).params["lr"]
    assert ys[1] == pytest.approx(lr_axis.position(best_lr))


def test_apply_best_params_emits_the_best_trials_parameters(open_panel, qtbot, stopped_study):
    panel = open_panel(stopped_study.workspace)
    study = optuna.load_study(
        study_name=STUDY_NAME, storage=stopped_study.workspace.optuna_storage_url
    )
    with qtbot.waitSignal(panel.sig_apply_params, timeout=10_000) as emitted:
        qtbot.mouseClick(panel.apply_button, Qt.MouseButton.LeftButton)
    params, theme = emitted.args
    assert theme == "shapes"
    for name, value in study.best_params.items():
        assert params[name] == value
    assert params["max_epochs"] == 3 and params["image_size"] == 16  # the study's base_params
    assert params == best_params(stopped_study.workspace, STUDY_NAME)
    assert "sent to the configuration editor" in panel.status.text()


def test_the_parent_and_best_trial_runs_open_in_mlflow(open_panel, qtbot, stopped_study):
    """The study's MLflow runs are one click away: the parent run holds the study's
    settings and configuration, the best trial's run is a child of it."""
    from mlflow.tracking import MlflowClient

    panel = open_panel(stopped_study.workspace)
    summary = panel.details.summary
    assert summary.parent_run_id and summary.best_run_id
    client = MlflowClient(stopped_study.workspace.mlflow_tracking_uri)
    parent = client.get_run(summary.parent_run_id)
    for key in ("metric", "direction", "n_trials", "sampler", "pruner", "study_name"):
        assert key in parent.data.params, key
    assert parent.data.params["metric"] == "valid_loss"
    assert "optuna_params.yaml" in {a.path for a in client.list_artifacts(parent.info.run_id)}
    best = client.get_run(summary.best_run_id)
    assert best.data.tags["mlflow.parentRunId"] == summary.parent_run_id
    assert best.data.tags["optuna_trial"] == str(summary.best_trial)

    assert panel.mlflow_button.isEnabled()
    for action, expected in (
        (panel.parent_run_action, summary.parent_run_id),
        (panel.best_run_action, summary.best_run_id),
    ):
        assert action.isEnabled()
        with qtbot.waitSignal(panel.sig_open_run_requested, timeout=5_000) as emitted:
            action.trigger()
        assert emitted.args == [expected]


def test_study_commands(stopped_study, tmp_path):
    root = str(stopped_study.workspace.root)
    runner = CliRunner()
    listed = runner.invoke(cli, ["-w", root, "study", "list"])
    assert listed.exit_code == 0 and STUDY_NAME in listed.output and "idle" in listed.output
    shown = runner.invoke(cli, ["-w", root, "study", "show", STUDY_NAME])
    assert shown.exit_code == 0, shown.output
    assert "parameter importance (fANOVA" in shown.output
    summary = load_study_details(stopped_study.workspace, STUDY_NAME).summary
    assert (
        f"MLflow: parent run {summary.parent_run_id}; best trial's run {summary.best_run_id}"
        in shown.output
    )
    details = load_study_details(stopped_study.workspace, STUDY_NAME)
    rows = [line.split() for line in shown.output.splitlines()]
    states = [row[1] for row in rows if len(row) > 2 and row[0].isdigit()]
    assert states == [t.state for t in details.trials]
    target = tmp_path / "best.yaml"
    wrote = runner.invoke(
        cli, ["-w", root, "study", "best-params", STUDY_NAME, "--output", str(target)]
    )
    assert wrote.exit_code == 0, wrote.output
    assert yaml.safe_load(target.read_text()) == best_params(stopped_study.workspace, STUDY_NAME)
    missing = runner.invoke(cli, ["-w", root, "study", "stop", "nope"])
    assert missing.exit_code == 2
    assert f"study 'nope': no such study; studies: {STUDY_NAME}" in missing.output


def test_empty_workspace_then_a_running_study_that_the_stop_button_stops(
    open_panel, qtbot, workspace
):
    panel = open_panel(workspace, size=(1000, 600))
    assert panel.status.text() == NO_STUDIES
    assert not panel.history_plot.has_plot and not panel.parallel_plot.has_plot
    assert not panel.apply_button.isEnabled() and not panel.stop_button.isEnabled()
    assert not workspace.optuna_db_file.exists()  # looking creates nothing

    study = optuna.create_study(study_name="live", storage=workspace.optuna_storage_url)
    study.optimize(lambda t: t.suggest_float("x", -1.0, 1.0) ** 2, n_trials=1)
    running = study.ask({"x": FloatDistribution(-1.0, 1.0)})
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        panel.reload()
    assert cell(panel.studies_table, 0, 6) == "1"
    assert panel.status.text() == ""
    assert not panel.importance_plot.has_plot
    assert "at least 2 complete trials" in panel.importance_plot.message.text()
    assert panel.stop_button.isEnabled()

    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        qtbot.mouseClick(panel.stop_button, Qt.MouseButton.LeftButton)
    assert study.user_attrs[STOP_ATTR] > 0
    assert cell(panel.studies_table, 0, 6) == "1 (stopping)"
    assert panel.stop_button.text() == "Stopping…" and not panel.stop_button.isEnabled()
    assert f"({running.number})" in panel.status.text()

    other = optuna.create_study(study_name="other", storage=workspace.optuna_storage_url)
    other.optimize(lambda t: t.suggest_float("y", 0.0, 1.0), n_trials=3)
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        panel.reload()
    assert panel.current_study == "live"  # a new study does not take the selection away
    assert panel.studies_table.rowCount() == 2
    with qtbot.waitSignal(panel.sig_loaded, timeout=10_000):
        panel.show_study("other")
    assert panel.current_study == "other"
    assert panel.importance_plot.names == ["y"]
    assert len(panel.parallel_plot.paths) == 3
    assert not panel.stop_button.isEnabled() and panel.apply_button.isEnabled()


def test_an_unreadable_storage_is_reported_in_the_panel(open_panel, workspace):
    workspace.optuna_db_file.write_bytes(b"this is not a database" * 100)
    panel = open_panel(workspace, size=(1000, 600))
    assert "cannot be opened" in panel.status.text()
    assert "optuna.db" in panel.status.text()
    assert "c62828" in panel.status.styleSheet()
    assert panel.studies_table.rowCount() == 0


def test_screenshot(open_panel, qtbot, stopped_study, screenshot_dir):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from tests.cockpit.test_theme_colors import dark_palette

    panel = open_panel(stopped_study.workspace)
    panel.trials_view.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    panel.select_trial(panel.details.complete[0].number)
    qtbot.wait(200)  # axes widen to their tick labels in the next layout pass
    assert panel.grab().save(str(screenshot_dir / "tuning.png"))
    before = QPalette(QApplication.palette())
    QApplication.setPalette(dark_palette())
    try:
        qtbot.wait(300)
        assert panel.grab().save(str(screenshot_dir / "tuning_dark.png"))
    finally:
        QApplication.setPalette(before)


def _click_point(qtbot, plot_widget, x, y):
    """A real mouse click (press and release through Qt) on data point (x, y)."""
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    qtbot.wait(200)  # the view's new range is applied at its next paint
    view_box = plot_widget.getPlotItem().getViewBox()
    scene_pos = view_box.mapViewToScene(QPointF(x, y))
    pos = plot_widget.mapFromScene(scene_pos)
    viewport = plot_widget.viewport()
    QTest.mouseMove(viewport, pos)
    qtbot.wait(20)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, pos=pos)
    qtbot.wait(20)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=pos)


def test_a_clicked_trial_row_is_marked_in_every_plot_and_a_clicked_point_selects_its_row(
    open_panel, qtbot, stopped_study
):
    from PySide6.QtTest import QTest

    from cockpit.panels.tuning.plots import HIGHLIGHT_COLOUR

    panel = open_panel(stopped_study.workspace)
    details = panel.details
    reported = [t for t in details.trials if t.intermediate]
    assert reported and set(panel.curves_plot.curves) == {t.number for t in reported}
    trial = next(t for t in details.complete if t.number != details.summary.best_trial)
    view = panel.trials_view
    index = panel.trials_proxy.mapFromSource(
        panel.trials_model.index(panel.trials_model.row_of(trial.number), 0)
    )
    QTest.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=view.visualRect(index).center()
    )
    assert panel.selected_trial == trial.number
    assert panel.history_plot.marker.value() == trial.number
    xs, ys = panel.history_plot.ring.getData()
    assert list(xs) == [trial.number] and list(ys) == pytest.approx([trial.value])
    curve = panel.curves_plot.selected_item
    assert curve.opts["pen"].color().name() == HIGHLIGHT_COLOUR
    assert list(curve.yData) == pytest.approx([v for _s, v in trial.intermediate])
    assert list(panel.parallel_plot.selected_item.getData()[1]) == pytest.approx(
        panel.parallel_plot.paths[trial.number][1]
    )
    assert f"selected trial {trial.number}" in panel.curves_plot.caption.text()

    # and back: a click on another trial's point in the history selects its row
    other = next(t for t in details.complete if t.number != trial.number)
    _click_point(qtbot, panel.history_plot.plot, other.number, other.value)
    qtbot.waitUntil(lambda: panel.selected_trial == other.number, timeout=2000)
    [row] = view.selectionModel().selectedRows()
    assert panel.trials_proxy.index(row.row(), 0).data() == str(other.number)
    assert panel.history_plot.marker.value() == other.number


def test_importance_names_its_trial_count_and_warns_below_ten(open_panel, stopped_study):
    panel = open_panel(stopped_study.workspace)
    complete = len(panel.details.complete)
    assert complete < 10  # the study was stopped after a few trials
    importance = panel.importance_plot
    assert f"({complete} complete trials)" in importance.title.text()
    assert f"only {complete} complete trials" in importance.caption.text()
    assert "trust it from about 10" in importance.caption.text()


def test_the_version_a_study_registered_shows_its_metrics_in_models(show_panel, stopped_study):
    from cockpit.panels.models import ModelsPanel
    from cockpit.panels.models.widget import COLUMNS, METRICS
    from core.models.catalog import list_models

    [model] = list_models(stopped_study.workspace)
    [version] = model.versions
    assert version.metrics, "the study registered its best trial without metrics"
    panel = show_panel(ModelsPanel(stopped_study.workspace), timeout=60_000)
    cells = [panel.versions.item(0, c).text() for c in range(len(COLUMNS))]
    shown = dict(zip(COLUMNS, cells, strict=True))
    assert shown["best_valid_loss"] and shown["best_valid_acc"]
    assert float(shown["best_valid_loss"]) == pytest.approx(version.metrics["valid_loss"], abs=1e-4)
    assert all(shown[m] for m in METRICS if m.replace("best_", "") in version.metrics)

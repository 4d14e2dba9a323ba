"""The Models panel on a real registry: versions with metrics, aliases, predictions on
dropped images and ONNX export in child processes, and MLflow opened in the browser
through a local server that stops with the app."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from cockpit.panels.models.widget import COLUMNS
from core.models.catalog import get_model
from tests.cockpit.panels.conftest import drop_files

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def make_panel(show_panel):
    def make(workspace):
        from cockpit.panels.models import ModelsPanel

        panel = ModelsPanel(workspace)
        panel.opened: list[str] = []
        panel.open_url = lambda url: panel.opened.append(url.toString())  # no real browser
        return show_panel(panel, timeout=60_000)

    return make


def cell_texts(panel, row):
    return [panel.versions.item(row, c).text() for c in range(panel.versions.columnCount())]


def test_alias_predict_on_drop_and_onnx_export(
    qtbot, make_panel, registered, tmp_path, screenshot_dir
):
    import onnxruntime

    workspace, holdout = registered
    panel = make_panel(workspace)
    assert panel.model_list.count() == 1
    assert panel.current_model == "shapes_model"
    assert panel.versions.rowCount() == 2
    headers = [panel.versions.horizontalHeaderItem(c).text() for c in range(len(COLUMNS))]
    rows = [dict(zip(headers, cell_texts(panel, r), strict=True)) for r in range(2)]
    # best first, the best marked; the best one is selected

    ranked = get_model(workspace, "shapes_model")
    assert [r["Version"] for r in rows] == [f"v{v.version}" for v in ranked.versions]
    assert rows[0]["Aliases"].startswith("★ best") and "best" not in rows[1]["Aliases"]
    assert all(r["Status"] == "ready" and float(r["best_valid_loss"]) > 0 for r in rows)
    assert panel.selected_version().version == ranked.best_version
    assert "valid_acc" in panel.details.text()
    assert panel.selected_version().run_id in panel.details.text()

    for version, alias in (("1", "champion"), ("2", "challenger")):
        panel.select_version(version)
        with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
            panel.set_alias(alias)
        assert panel.selected_version().version == version  # kept across the reload
    row_of = {cell_texts(panel, r)[0]: r for r in range(2)}
    assert "@champion" in cell_texts(panel, row_of["v1"])[2]
    assert "@challenger" in cell_texts(panel, row_of["v2"])[2]
    assert "@champion v1" in panel.model_list.item(0).text()
    aliases = get_model(workspace, "shapes_model").aliases
    assert (aliases["champion"], aliases["challenger"]) == ("1", "2")
    panel.select_version("1")

    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not pixels")
    target = tmp_path / "exported.onnx"
    with (
        qtbot.waitSignal(panel.sig_predicted, timeout=60_000) as predicted,
        qtbot.waitSignal(panel.sig_exported, timeout=60_000),
    ):
        drop_files(panel, [holdout, not_an_image])  # a folder and a file
        panel.export_onnx(target)
    report = predicted.args[0]
    assert (report["model"], report["version"]) == ("shapes_model", "1")
    labels = panel.predictions.labels()
    assert len(labels) == 7 and labels[-1] is None
    assert set(labels[:-1]) <= {"circle", "square", "triangle"}
    first = report["predictions"][0]
    assert len(first["top"]) == 3 and abs(sum(p for _, p in first["top"]) - 1) < 1e-4
    assert "not a readable image" in report["predictions"][-1]["error"]
    assert not panel.predictions.item(0).icon().isNull()

    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape[1:] == [3, 16, 16]
    assert str(target) in panel.export_label.toolTip()

    panel.predictions.setCurrentRow(0)
    assert panel.grab().save(str(screenshot_dir / "models.png"))
    from PySide6.QtGui import QColor, QPalette
    from PySide6.QtWidgets import QApplication

    from tests.cockpit.test_theme_colors import dark_palette

    before = QPalette(QApplication.palette())
    QApplication.setPalette(dark_palette())
    try:
        qtbot.wait(200)
        # the marks and the message follow the palette: light colours on the dark one
        assert QColor(panel.versions.item(0, 2).foreground().color()).lightnessF() > 0.5
        assert panel.grab().save(str(screenshot_dir / "models_dark.png"))
    finally:
        QApplication.setPalette(before)


def test_open_in_mlflow_starts_a_local_server_that_stops_with_the_app(
    qtbot, make_panel, registered
):
    workspace, _ = registered
    panel = make_panel(workspace)
    version = panel.selected_version()
    with qtbot.waitSignal(panel.sig_url_opened, timeout=90_000):
        panel.open_in_mlflow("run")
    panel.open_in_mlflow("version")  # the server is up: opened at once
    panel.open_experiment_in_mlflow(version.experiment_id)
    with qtbot.waitSignal(panel.sig_url_opened, timeout=30_000):
        panel.open_run_id_in_mlflow(version.run_id)  # from the history: experiment looked up
    base = panel.server.url
    assert base.startswith("http://127.0.0.1:")
    assert panel.opened == [
        f"{base}/#/experiments/{version.experiment_id}/runs/{version.run_id}",
        f"{base}/#/models/shapes_model/versions/{version.version}",
        f"{base}/#/experiments/{version.experiment_id}",
        f"{base}/#/experiments/{version.experiment_id}/runs/{version.run_id}",
    ]
    with urllib.request.urlopen(base, timeout=10) as page:
        assert page.status == 200 and b"<html" in page.read().lower()
    query = f"{base}/api/2.0/mlflow/registered-models/get?name=shapes_model"
    with urllib.request.urlopen(query, timeout=10) as answer:
        assert json.load(answer)["registered_model"]["name"] == "shapes_model"

    pid = panel.server.process.pid
    panel.shutdown()
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # no process of the server's group is left
    with pytest.raises(OSError):
        urllib.request.urlopen(base, timeout=2)


def test_empty_registry_and_fixable_errors(qtbot, make_panel, workspace):
    panel = make_panel(workspace)
    assert panel.model_list.count() == 0
    assert "no registered models yet" in panel.message.text()
    assert not workspace.mlflow_db_file.exists()  # looking does not create the store
    panel.predict([Path(workspace.root)])
    assert "select a model version" in panel.message.text()


def test_building_the_panel_imports_no_engine_library(workspace):
    """The registry (mlflow) is read only once the panel is shown."""
    code = f"""
import sys
from PySide6.QtWidgets import QApplication
from PySide6.QtTest import QTest
from cockpit.panels.models import ModelsPanel
from core.workspace import Workspace
app = QApplication([])
panel = ModelsPanel(Workspace.resolve({str(workspace.root)!r}))
QTest.qWait(300)
print("HEAVY", [m for m in ("mlflow", "torch") if m in sys.modules])
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def _click(qtbot, widget, pos=None):
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    assert widget.isVisible() and widget.isEnabled()
    QTest.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos or widget.rect().center())


def test_versions_sort_by_a_clicked_header_and_keep_their_marks(qtbot, make_panel, registered):
    workspace, _ = registered
    panel = make_panel(workspace)
    header = panel.versions.horizontalHeader()

    from PySide6.QtCore import QPoint

    def click_header(name):
        column = COLUMNS.index(name)
        x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
        _click(qtbot, header.viewport(), pos=QPoint(x, 5))

    def column(name):
        return [cell_texts(panel, r)[COLUMNS.index(name)] for r in range(2)]

    click_header("Version")
    assert column("Version") == ["v1", "v2"]
    click_header("Version")
    assert column("Version") == ["v2", "v1"]
    click_header("best_valid_loss")
    losses = [float(v) for v in column("best_valid_loss")]
    assert losses == sorted(losses)
    best = get_model(workspace, "shapes_model").best_version
    marked = [r for r in range(2) if "★ best" in cell_texts(panel, r)[2]]
    assert [cell_texts(panel, r)[0] for r in marked] == [f"v{best}"]
    assert panel.versions.item(marked[0], 0).font().bold()
    # the selection follows its version, not its row
    panel.select_version("2")
    click_header("Version")
    assert panel.selected_version().version == "2"


def test_export_shows_a_busy_line_whose_cancel_kills_the_child(
    qtbot, make_panel, registered, tmp_path
):
    workspace, _ = registered
    panel = make_panel(workspace)
    target = tmp_path / "cancelled.onnx"
    panel.export_onnx(target)
    busy = panel.export_busy
    assert busy.isVisible() and "exporting shapes_model" in busy.label.text()
    assert not panel.export_button.isEnabled()
    [process] = panel.processes.running
    pid = process.processId()
    assert pid > 0
    _click(qtbot, busy.cancel_button)
    qtbot.waitUntil(lambda: not panel.processes.running, timeout=10_000)
    assert not busy.isVisible()
    assert "cancelled" in panel.message.text()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # the child is gone
    assert not target.exists()
    assert panel.export_button.isEnabled()


def test_predict_files_chooser_and_cancel_of_a_prediction(qtbot, make_panel, registered):
    workspace, holdout = registered
    panel = make_panel(workspace)
    images = sorted(holdout.rglob("*.png"))[:2]
    panel.choose_images = lambda: images  # the file dialog's answer
    _click(qtbot, panel.predict_files_button)
    assert panel.predict_busy.isVisible()
    assert not panel.predict_files_button.isEnabled()
    _click(qtbot, panel.predict_busy.cancel_button)
    qtbot.waitUntil(lambda: not panel.processes.running, timeout=10_000)
    assert "prediction cancelled" in panel.message.text()

    with qtbot.waitSignal(panel.sig_predicted, timeout=60_000) as predicted:
        _click(qtbot, panel.predict_files_button)
    assert len(predicted.args[0]["predictions"]) == 2
    assert not panel.predict_busy.isVisible()


def test_cancel_while_the_mlflow_server_starts_stops_it(qtbot, make_panel, registered):
    workspace, _ = registered
    panel = make_panel(workspace)
    panel.open_in_mlflow("version")
    server = panel.server
    assert panel.server_busy.isVisible()
    qtbot.waitUntil(lambda: server.process is not None, timeout=10_000)
    pid = server.process.pid
    _click(qtbot, panel.server_busy.cancel_button)
    assert not panel.server_busy.isVisible() and panel.server is None
    assert "cancelled" in panel.message.text()

    def gone():
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return True
        return False

    qtbot.waitUntil(gone, timeout=20_000)
    qtbot.wait(500)
    assert panel.opened == []  # nothing opened after the cancel

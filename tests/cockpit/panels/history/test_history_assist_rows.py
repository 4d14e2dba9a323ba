"""The History panel lists suggestion runs: chosen with the kind filter through the
keyboard, selected with a click on the table, their counts and MLflow run in the details,
and no delete button for a run that holds the theme's stored suggestions."""

import gc

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from core.assist.suggest import suggest
from tests.core.assist.assisted_workspace import assisted  # noqa: F401  (shared fixture)

pytestmark = pytest.mark.filterwarnings("ignore")


def test_a_suggestion_run_is_listed_selected_and_described(qtbot, assisted):  # noqa: F811
    from cockpit.panels.history import HistoryPanel

    outcome = suggest(assisted.workspace, "shapes", "shapes_model", echo=lambda _l: None)
    ident = f"suggest-{outcome.run_id}"
    panel = HistoryPanel(assisted.workspace)
    panel.resize(1280, 800)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.show()
    try:
        shown = lambda: [panel.proxy.entry(r).id for r in range(panel.proxy.rowCount())]  # noqa: E731
        assert ident not in shown()  # the default view: training and tuning
        panel.kind_filter.setFocus()
        target = panel.kind_filter.findText("suggestions & label issues")
        while panel.kind_filter.currentIndex() != target:
            QTest.keyClick(panel.kind_filter, Qt.Key.Key_Down)
        qtbot.waitUntil(lambda: ident in shown(), timeout=10_000)
        assert {panel.proxy.entry(r).kind for r in range(panel.proxy.rowCount())} <= {
            "suggest",
            "label_issues",
        }
        row = shown().index(ident)
        index = panel.proxy.index(row, 0)
        rect = panel.table.visualRect(index)
        QTest.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.waitUntil(lambda: "predicted" in panel.details.toPlainText(), timeout=10_000)
        text = panel.details.toPlainText()
        assert outcome.mlflow_run_id in text and ident in text
        assert f"predicted\n{outcome.predicted}" in text
        assert not panel.delete_button.isEnabled()
        assert panel.mlflow_button.isEnabled()
    finally:
        # deleted here, on the GUI thread: a panel left to the garbage collector can be
        # collected on a worker thread of a later test, and Qt then deletes it on the GUI
        # thread while that worker waits for the interpreter (a deadlock seen once)
        panel.shutdown()
        panel.compare_window.close()
        panel.close()
        shiboken6.delete(panel.compare_window)
        shiboken6.delete(panel)
        gc.collect()

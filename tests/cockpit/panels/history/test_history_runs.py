"""History and Compare with a dozen runs, a study and ten labels, driven through Qt's own
event delivery (QTest clicks on the shown window), in a light and a dark palette: runs
named by what differs, parameter columns (the differing ones by default, the header's
menu adds more), trials nested under their study with the best trial's metrics on the
study's row, one number format, and Compare full size with readable plots, matrices side
by side and a diff of only the differences."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu

from cockpit.panels.history.model import COLUMNS, EntryRole
from core.history import format_metric
from tests.cockpit.palettes import dark_palette
from tests.core.history.recorded_runs import LABELS, STUDY, write_recorded_runs

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture(params=["light", "dark"])
def palette_name(request, qapp):
    before = qapp.palette()
    if request.param == "dark":
        qapp.setPalette(dark_palette())
    yield request.param
    qapp.setPalette(before)


@pytest.fixture
def runs(workspace):
    return workspace, write_recorded_runs(workspace)


@pytest.fixture
def panel(runs, show_panel):
    from cockpit.panels.history import HistoryPanel

    workspace, _made = runs
    return show_panel(HistoryPanel(workspace))


def cell(panel, index, key):
    column = [k for _h, k in panel.model.columns].index(key)
    return panel.proxy.index(index.row(), column, index.parent()).data()


def index_of(panel, ident):
    return next(i for i in panel.shown_indexes() if i.data(EntryRole).id == ident)


def click_row(panel, ident, modifier=Qt.KeyboardModifier.NoModifier):
    view = panel.table
    index = index_of(panel, ident)
    view.scrollTo(index)
    rect = view.visualRect(panel.proxy.index(index.row(), 1, index.parent()))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_runs_are_named_trials_nest_and_parameter_columns_differ(
    qtbot, panel, runs, palette_name, screenshot_dir
):
    _workspace, made = runs
    tops = [panel.proxy.index(r, 0) for r in range(panel.proxy.rowCount())]
    assert len(tops) == 13  # a dozen trainings and the study's tune job
    names = [cell(panel, i, "name") for i in tops if i.data(EntryRole).kind == "train"]
    assert len(set(names)) == 12 and "lr=0.01 bs=64 opt=sgd epochs=8" in names

    # the parameters that differ among the runs are columns; run_name never is
    assert panel.model.param_keys == ["batch_size", "lr", "max_epochs", "optimizer"]

    # the study's trials under its tune job, whose row shows the best trial's metrics
    tune = index_of(panel, made["tune_job"])
    children = [panel.proxy.index(r, 0, tune) for r in range(panel.proxy.rowCount(tune))]
    assert sorted(cell(panel, c, "name") for c in children) == [f"trial {n}" for n in range(5)]
    assert panel.table.isExpanded(tune)
    best = max((c.data(EntryRole) for c in children), key=lambda e: e.metrics["valid_acc"])
    assert cell(panel, tune, "valid_acc") == format_metric(best.metrics["valid_acc"])
    assert cell(panel, tune, "name") == f"tune-{STUDY}"
    tip = panel.proxy.index(tune.row(), COLUMNS.index(("Test acc", "test_acc"))).data(
        Qt.ItemDataRole.ToolTipRole
    )
    assert f"best trial (trial {best.trial})" in tip
    # one format: accuracy as 0.xxxx in the table, the details and the tooltips
    first = made["jobs"][0]
    entry = index_of(panel, first).data(EntryRole)
    assert cell(panel, index_of(panel, first), "test_acc") == format_metric(
        entry.metrics["test_acc"]
    )

    # a click on a row shows its details (name and metrics in the same format)
    click_row(panel, first)
    assert [e.id for e in panel.selected_entries()] == [first]
    qtbot.waitUntil(lambda: "Parameters" in panel.details.toPlainText(), timeout=10_000)
    assert entry.name in panel.details.toPlainText()
    assert format_metric(entry.metrics["test_acc"]) in panel.details.toPlainText()

    # trials are rows like any other: two of them compare
    trial_ids = [c.data(EntryRole).id for c in children[:2]]
    click_row(panel, trial_ids[0])
    click_row(panel, trial_ids[1], Qt.KeyboardModifier.ControlModifier)
    assert {e.id for e in panel.selected_entries()} == set(trial_ids)
    assert panel.compare_button.isEnabled()
    click_row(panel, first)

    # the header's context menu, opened by a right click, adds a parameter column
    header = panel.table.header()
    chosen = []

    def pick_seed():
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        params = next(a for a in menu.actions() if a.text() == "Parameters").menu()
        seed = next(a for a in params.actions() if a.text() == "seed")
        chosen.append(seed.text())
        seed.trigger()
        menu.close()

    QTimer.singleShot(200, pick_seed)
    # a right click's context-menu event, delivered to the header by Qt
    where = QPoint(30, 10)
    event = QContextMenuEvent(
        QContextMenuEvent.Reason.Mouse, where, header.viewport().mapToGlobal(where)
    )
    QApplication.sendEvent(header.viewport(), event)
    qtbot.waitUntil(lambda: chosen == ["seed"], timeout=5_000)
    assert panel.model.param_keys == ["batch_size", "lr", "max_epochs", "optimizer", "seed"]
    panel.set_param_columns(None)  # back to "those that differ"
    assert panel.model.param_keys == ["batch_size", "lr", "max_epochs", "optimizer"]

    # filtering to sgd runs leaves fewer differing parameters
    panel.search.setText("opt=sgd")
    assert all("opt=sgd" in e.name for e in panel.shown_entries())
    assert "optimizer" not in panel.model.param_keys
    panel.clear_filters()
    panel.window().grab().save(str(screenshot_dir / f"history_runs_{palette_name}.png"))


def test_compare_opens_full_size_with_readable_plots_and_matrices_side_by_side(
    qtbot, panel, runs, palette_name, screenshot_dir
):
    _workspace, made = runs
    first, second, third = made["jobs"][1], made["jobs"][3], made["jobs"][6]
    click_row(panel, first)
    click_row(panel, second, Qt.KeyboardModifier.ControlModifier)
    click_row(panel, third, Qt.KeyboardModifier.ControlModifier)
    assert {e.id for e in panel.selected_entries()} == {first, second, third}
    assert panel.compare_button.isEnabled()
    QTest.mouseClick(panel.compare_button, Qt.MouseButton.LeftButton)
    window = panel.compare_window
    view = window.view
    qtbot.waitUntil(lambda: view.comparison is not None and window.isVisible(), timeout=30_000)
    qtbot.waitExposed(window)
    assert (window.width(), window.height()) == (1280, 800)

    # readable plots: both curves' plots at least 250 px tall
    assert view.curves.height() >= 250
    for plot in (view.loss_plot, view.acc_plot):
        assert plot.sceneBoundingRect().height() >= 250
    assert view.curve_count("valid_acc") == 3
    # accuracy as a fraction, as the table shows it
    assert max(v for _e, v in view.comparison.runs[0].curves["valid_acc"]) <= 1.0

    # the confusion matrices side by side: same top, growing left edges, ten labels each
    tables = view.matrix_tables
    assert len(tables) == 3
    tops = {t.mapTo(window, QPoint(0, 0)).y() for t in tables}
    lefts = [t.mapTo(window, QPoint(0, 0)).x() for t in tables]
    assert len(tops) == 1 and lefts == sorted(lefts) and len(set(lefts)) == 3
    assert all(t.rowCount() == len(LABELS) for t in tables)

    # the diff shows only the differences; "show all" shows every parameter
    labels = [view.params.horizontalHeaderItem(c).text() for c in range(3)]
    assert labels == [run.label for run in view.comparison.runs] and len(set(labels)) == 3
    differing = [view.params.verticalHeaderItem(r).text() for r in range(view.params.rowCount())]
    assert differing == ["batch_size", "lr", "max_epochs", "optimizer"]
    box = view.only_differences
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert not box.isChecked() and view.params.rowCount() > len(differing)
    assert view.highlighted_keys() == differing
    QTest.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert view.params.rowCount() == len(differing)

    # the plots follow the palette (a dark window gets dark plots)
    background = view.curves.backgroundBrush().color()
    assert background == view.palette().color(QPalette.ColorRole.Base)
    window.grab().save(str(screenshot_dir / f"history_compare_{palette_name}.png"))
    QTest.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=5_000)

"""The History panel with real widgets on a real history (queued and foreground
trainings, a cancelled job): filters, sorting, compare, requeue, folder, plot job (a real
runner process), delete (of a job the test creates: the history is shared)."""

import pytest
from PySide6.QtCore import QObject, Qt, QThreadPool, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from cockpit.panels.history.model import COLUMNS
from core.jobs.queue import JobQueue
from core.jobs.runner import runner_info
from core.jobs.submit import submit_train
from tests.core.training.conftest import tiny_params

pytestmark = pytest.mark.filterwarnings("ignore")


@pytest.fixture
def panel(qtbot, history):
    from cockpit.panels.history import HistoryPanel

    widget = HistoryPanel(history.workspace)
    qtbot.addWidget(widget)
    widget.resize(1280, 800)
    with qtbot.waitSignal(widget.sig_loaded, timeout=30_000):
        widget.show()
    yield widget
    widget.shutdown()


def shown_ids(panel):
    return [panel.proxy.entry(row).id for row in range(panel.proxy.rowCount())]


def column(key):
    return next(i for i, (_header, k) in enumerate(COLUMNS) if k == key)


def test_search_filters_sorting_and_details(qtbot, panel, history, screenshot_dir):
    assert set(shown_ids(panel)) == {
        history.fast_job,
        history.slow_job,
        history.foreground,
        history.cancelled_job,
    }
    panel.search.setText(history.slow_job[-6:])
    assert shown_ids(panel) == [history.slow_job]
    assert panel.count.text().startswith("1 of ")
    panel.clear_filters()
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("cancelled"))
    assert shown_ids(panel) == [history.cancelled_job]
    panel.clear_filters()
    panel.metric_choice.setCurrentIndex(panel.metric_choice.findData("test_acc"))
    panel.metric_min.setText("0.3")
    best = [e for e in panel.entries if e.metrics.get("test_acc", 0) >= 0.3]
    assert set(shown_ids(panel)) == {e.id for e in best} and len(best) < 4
    panel.clear_filters()
    assert panel.theme_filter.itemText(1) == "shapes"

    # the best run: sort by test accuracy, descending; the run without one goes last
    panel.table.sortByColumn(column("test_acc"), Qt.SortOrder.DescendingOrder)
    order = [panel.proxy.entry(r).metrics.get("test_acc") for r in range(4)]
    assert order[:3] == sorted(order[:3], reverse=True) and order[3] is None
    panel.table.sortByColumn(column("test_acc"), Qt.SortOrder.AscendingOrder)
    order = [panel.proxy.entry(r).metrics.get("test_acc") for r in range(4)]
    assert order[:3] == sorted(order[:3]) and order[3] is None

    panel.table.sortByColumn(column("started"), Qt.SortOrder.DescendingOrder)
    panel.select_ids([history.foreground])
    qtbot.waitUntil(lambda: "lr" in panel.details.toPlainText(), timeout=30_000)
    text = panel.details.toPlainText()
    assert "trained in the foreground" in text and history.foreground in text
    assert panel.plot_button.isEnabled() and not panel.compare_button.isEnabled()
    qtbot.waitUntil(lambda: "no plots yet" in panel.gallery.status.text(), timeout=30_000)
    panel.grab().save(str(screenshot_dir / "history.png"))


def test_compare_two_runs_shows_curves_diff_and_confusion_matrices(
    qtbot, panel, history, screenshot_dir
):
    panel.select_ids([history.fast_job, history.slow_job])
    assert panel.compare_button.isEnabled()
    panel.compare_selected()
    view = panel.compare_view
    qtbot.waitUntil(lambda: view.comparison is not None, timeout=30_000)
    assert panel.compare_window.isVisible()
    assert view.curve_count("valid_loss") == 2 and view.curve_count("train_acc") == 2
    assert view.highlighted_keys() == ["lr", "max_epochs"]
    assert view.params.rowCount() == 2
    view.only_differences.setChecked(False)
    assert view.params.rowCount() > 10 and view.highlighted_keys() == ["lr", "max_epochs"]
    view.only_differences.setChecked(True)
    assert len(view.matrix_tables) == 2
    for table, run in zip(view.matrix_tables, view.comparison.runs, strict=True):
        counts = [
            [int(table.item(r, c).text()) for c in range(table.columnCount())]
            for r in range(table.rowCount())
        ]
        assert counts == [list(row) for row in run.confusion.matrix]
    panel.compare_window.grab().save(str(screenshot_dir / "history_compare.png"))


def test_requeue_emits_the_runs_parameters_and_folder_opens(qtbot, panel, history):
    panel.select_ids([history.slow_job])
    with qtbot.waitSignal(panel.sig_requeue_requested, timeout=30_000) as emitted:
        panel.requeue_selected()
    params, theme = emitted.args
    assert theme == "shapes" and params["lr"] == 0.003 and params["max_epochs"] == 3

    class Opener(QObject):
        urls: list

        @Slot(QUrl)
        def open(self, url):
            self.urls.append(url.toLocalFile())

    opener = Opener()
    opener.urls = []
    QDesktopServices.setUrlHandler("file", opener, "open")
    try:
        panel.open_output_folder()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    slow = next(e for e in panel.entries if e.id == history.slow_job)
    assert opener.urls == [str(history.workspace.experiment_dir(slow.experiment_id))]
    assert panel.mlflow_button.isEnabled() and slow.run_id
    with qtbot.waitSignal(panel.sig_open_run_requested) as asked:
        panel.mlflow_button.click()
    assert asked.args == [slow.run_id]


def test_plot_job_runs_and_its_images_are_shown(qtbot, panel, history, screenshot_dir):
    panel.select_ids([history.fast_job])
    panel.plot_selected()
    qtbot.waitUntil(lambda: panel._plot_job is not None, timeout=30_000)
    assert panel.tabs.currentWidget() is panel.gallery
    qtbot.waitUntil(lambda: panel.gallery.image_count() >= 4, timeout=120_000)
    assert "finished: 4 plot(s)" in panel.gallery.status.text()
    names = {panel.gallery.list.item(i).text() for i in range(panel.gallery.image_count())}
    assert "model confusion matrix" in names and "model training curves" in names
    panel.grab().save(str(screenshot_dir / "history_plots.png"))
    qtbot.waitUntil(lambda: runner_info(history.workspace) is None, timeout=60_000)


def test_delete_asks_then_removes_the_run(qtbot, panel, history, monkeypatch):
    ws = history.workspace
    job = submit_train(ws, "shapes", tiny_params(ws, "lr=0.08"), start=False)
    JobQueue(ws).cancel(job.id)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.reload()
    questions = []

    def answer(*args, **_kwargs):
        questions.append(args[2])
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    panel.select_ids([job.id])
    with qtbot.waitSignal(panel.sig_loaded, timeout=60_000):
        panel.delete_selected()
    assert job.id in questions[0] and "cannot be undone" in questions[0]
    assert job.id not in shown_ids(panel)
    assert panel.message.text() == "deleted 1 run(s)"
    assert all(j.id != job.id for j in JobQueue(ws).jobs())
    assert history.foreground in shown_ids(panel)
    QThreadPool.globalInstance().waitForDone(10_000)

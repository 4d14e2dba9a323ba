"""The main window wires the panels together: a job picked in the queue is watched live,
"requeue with edits" (history) and "apply best params" (tuning) open the configuration
editor prefilled, and a job added in the editor shows in the queue."""

import pytest
from PySide6.QtCore import QThreadPool

from core.config import resolve_params
from core.jobs.queue import JobQueue
from core.jobs.submit import submit_check


@pytest.fixture
def window(qtbot, workspace, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from cockpit.main_window import MainWindow

    # closing with unsaved edits asks; a test that does not answer discards them
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)

    main = MainWindow(workspace)
    qtbot.addWidget(main)
    main.show()
    yield main
    main.close()
    QThreadPool.globalInstance().waitForDone()


def test_queue_selection_is_followed_live(qtbot, window, workspace):
    job = submit_check(workspace, resolve_params(workspace), start=False)
    window.panels["queue"].sig_job_selected.emit(job.id)
    assert window.panels["live"].selected == [job.id]


@pytest.mark.parametrize(
    ("panel", "signal"), [("history", "sig_requeue_requested"), ("tuning", "sig_apply_params")]
)
def test_parameters_from_history_or_tuning_open_the_editor_prefilled(qtbot, window, panel, signal):
    editor = window.panels["editor"]
    getattr(window.panels[panel], signal).emit({"lr": 0.0123, "batch_size": 8}, "cats")
    assert window.tabs.currentWidget() is editor
    assert editor.theme == "cats"
    qtbot.waitUntil(lambda: "lr: 0.0123" in editor.text("params"), timeout=15_000)
    assert "batch_size: 8" in editor.text("params")
    assert editor.unsaved_documents() == ["params"]  # nothing written without a save


def test_a_job_added_in_the_editor_shows_in_the_queue(qtbot, window, workspace):
    queue = window.panels["queue"]
    job = submit_check(workspace, resolve_params(workspace), start=False)
    window.panels["editor"].sig_job_submitted.emit(job.id)
    qtbot.waitUntil(lambda: any(row.id == job.id for row in queue.model.rows), timeout=5_000)
    assert JobQueue(workspace).get(job.id).state == "pending"


@pytest.mark.parametrize("answer", ["Cancel", "Save", "Discard"])
def test_closing_with_unsaved_configuration_asks_first(
    qtbot, window, workspace, monkeypatch, answer
):
    from PySide6.QtWidgets import QMessageBox

    editor = window.panels["editor"]
    before = workspace.params_file.read_text()
    qtbot.waitUntil(lambda: editor.text("params") == before, timeout=15_000)
    editor.set_text("params", before + "lr: 0.0042\n")
    asked = []

    def reply(*args, **_kwargs):
        asked.append(args[2])
        return getattr(QMessageBox.StandardButton, answer)

    monkeypatch.setattr(QMessageBox, "question", reply)
    window.close()
    assert len(asked) == 1 and "params.yaml" in asked[0]
    assert window.isVisible() == (answer == "Cancel")
    saved = workspace.params_file.read_text()
    assert saved == (before + "lr: 0.0042\n" if answer == "Save" else before)

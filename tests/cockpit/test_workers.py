"""Background work hands its result or its error back on the GUI thread."""

import threading

from cockpit.workers import run_in_background


def test_results_and_errors_come_back_on_the_gui_thread(qtbot):
    seen = []

    def done(value):
        seen.append(("done", threading.current_thread() is threading.main_thread(), value))

    def failed(exc):
        seen.append(("failed", threading.current_thread() is threading.main_thread(), str(exc)))

    for _ in range(5):
        run_in_background(threading.get_ident, done, failed)
    run_in_background(lambda: 1 / 0, done, failed)
    qtbot.waitUntil(lambda: len(seen) == 6, timeout=30_000)
    assert all(on_gui for _kind, on_gui, _value in seen)
    worker_threads = {value for kind, _gui, value in seen if kind == "done"}
    assert threading.get_ident() not in worker_threads
    assert ("failed", True, "division by zero") in seen


def test_a_result_for_a_deleted_widget_is_dropped(qtbot):
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QLabel

    label = QLabel()
    gate = threading.Event()
    run_in_background(lambda: gate.wait(10) and "late", label.setText, print)
    label.deleteLater()
    qtbot.wait(50)  # the label is gone before its result comes
    gate.set()
    seen = []
    run_in_background(lambda: "after", seen.append, seen.append)
    qtbot.waitUntil(lambda: seen == ["after"], timeout=30_000)
    QThreadPool.globalInstance().waitForDone(10_000)


def test_a_panels_lambda_is_not_called_once_its_panel_is_deleted(qtbot):
    """A panel hands ``lambda data: self._show(data)``: the lambda holds the panel, and a
    result arriving after the panel was closed must not reach the deleted widget (it
    raised "Internal C++ object already deleted" in the event loop)."""
    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QComboBox, QWidget

    class Panel(QWidget):
        def __init__(self):
            super().__init__()
            self.picker = QComboBox(self)

        def load(self, gate, calls):
            run_in_background(
                lambda: gate.wait(10) and ["a", "b"],
                lambda items: calls.append(self.picker.addItems(items)),
                lambda exc: calls.append(exc),
            )

    gate, calls = threading.Event(), []
    alive, closed = Panel(), Panel()
    qtbot.addWidget(alive)
    alive.load(gate, calls)
    closed.load(gate, calls)
    closed.deleteLater()
    qtbot.wait(50)  # the closed panel is gone before its result comes
    gate.set()
    qtbot.waitUntil(lambda: alive.picker.count() == 2, timeout=30_000)
    QThreadPool.globalInstance().waitForDone(10_000)
    qtbot.wait(50)
    assert calls == [None]  # the live panel's callback ran once, the closed one's never

"""What the panel tests share: showing a panel as a user sees it, and dropping files."""

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QThreadPool, QUrl
from PySide6.QtGui import QDropEvent


@pytest.fixture
def show_panel(qtbot):
    """``show_panel(panel)``: resize, show and wait for the panel's first load; every
    panel shown is shut down and the thread pool drained after the test."""
    shown = []

    def show(panel, size=(1280, 800), timeout=30_000):
        qtbot.addWidget(panel)
        panel.resize(*size)
        with qtbot.waitSignal(panel.sig_loaded, timeout=timeout):
            panel.show()
        shown.append(panel)
        return panel

    yield show
    for panel in shown:
        panel.shutdown()
    QThreadPool.globalInstance().waitForDone(30_000)


def drop_files(widget, paths):
    """Deliver a drop of ``paths`` (files or folders) as the file manager would."""
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)

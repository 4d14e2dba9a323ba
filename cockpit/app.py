"""Start the GUI. Imports Qt and the panels, never torch, lightning or mlflow: the engine
runs in child processes."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from core.display import check_display
from core.errors import CockpitError
from core.workspace import Workspace

SCREENSHOT_TIMEOUT_MS = 30_000


def run_gui(
    workspace: Workspace, *, screenshot: Path | None = None, panel: str | None = None
) -> int:
    """Show the main window; with ``screenshot``, render offscreen, save a PNG and return."""
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # Qt aborts the process (core dump) when it cannot open a display: say why first
    report = check_display()
    if not report.ok:
        raise CockpitError("\n".join(report.lines()))
    from PySide6.QtCore import QThreadPool, QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from cockpit.desktop import APP_ID, ICON
    from cockpit.main_window import MainWindow
    from cockpit.panels import PANELS

    if panel is not None and panel not in PANELS:
        raise CockpitError(f"--panel: unknown panel {panel!r}; panels: {', '.join(PANELS)}")
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Experiment Cockpit")
    app.setOrganizationName("ExperimentCockpit")
    app.setDesktopFileName(APP_ID)  # Wayland and task bars match the launcher by this
    app.setWindowIcon(QIcon(str(ICON)))
    if screenshot is None:
        from cockpit.single_instance import InstanceServer, raise_running_window

        if raise_running_window(workspace):
            print(f"the cockpit is already open on {workspace.root}: its window was raised")
            return 0
    workspace.ensure_dirs()
    from cockpit.collector import GuiThreadCollector

    app.cockpit_collector = GuiThreadCollector(app)  # garbage: see cockpit.collector
    window = MainWindow(workspace, remember=screenshot is None)
    if screenshot is None:
        server = InstanceServer(workspace, lambda: _bring_to_front(window))
        window.show()
        code = app.exec()
        server.server.close()
        QThreadPool.globalInstance().waitForDone(10_000)
        return code

    window.resize(1280, 800)  # pictures do not depend on the last session's window size
    window.show()
    target = window if panel is None else window.show_panel(panel)
    # only the panel in view matters for the picture; hidden ones are built on first show
    shown = window.panel(window.current_panel_name())
    pending = [shown] if hasattr(shown, "sig_loaded") else []
    result = {"saved": False}

    def save() -> None:
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        result["saved"] = target.grab().save(str(screenshot), "PNG")
        app.quit()

    def one_loaded() -> None:
        pending.pop()
        if not pending:
            QTimer.singleShot(50, save)  # let the last layout pass settle

    for p in list(pending):
        p.sig_loaded.connect(one_loaded)
    if not pending:
        QTimer.singleShot(50, save)
    QTimer.singleShot(SCREENSHOT_TIMEOUT_MS, save)
    app.exec()
    QThreadPool.globalInstance().waitForDone(10_000)
    window.close()
    if not result["saved"]:
        raise CockpitError(f"--screenshot: could not write {screenshot}")
    print(f"saved {screenshot}")
    return 0


def _bring_to_front(window) -> None:
    if window.isMinimized():
        window.showNormal()
    window.show()
    window.raise_()
    window.activateWindow()

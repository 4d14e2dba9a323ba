"""The cockpit's main window: one tab per panel, workspace in the status bar, geometry
remembered between runs."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from cockpit.panels import PANELS
from core import __version__
from core.workspace import Workspace


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle(f"Experiment Cockpit {__version__} — {workspace.root.name}")
        self.panels: dict[str, QWidget] = {}
        self.tabs = QTabWidget(documentMode=True)
        for name, (title, factory) in PANELS.items():
            panel = factory(workspace)
            panel.setObjectName(f"panel_{name}")
            self.panels[name] = panel
            self.tabs.addTab(panel, title)
        self.setCentralWidget(self.tabs)
        self.workspace_label = QLabel(f"workspace: {workspace.root}")
        self.statusBar().addPermanentWidget(self.workspace_label)
        self.resize(1100, 700)
        self._restore_layout()

    def _settings(self) -> QSettings:
        return QSettings("ExperimentCockpit", "cockpit")

    def _restore_layout(self) -> None:
        geometry = self._settings().value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        index = self._settings().value("main_window/tab", 0, type=int)
        self.tabs.setCurrentIndex(min(int(index), self.tabs.count() - 1))

    def closeEvent(self, event: QCloseEvent) -> None:
        settings = self._settings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/tab", self.tabs.currentIndex())
        super().closeEvent(event)

"""The cockpit's main window: one tab per panel, workspace in the status bar, geometry
remembered between runs."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer
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
        self._connect_panels()
        self.workspace_label = QLabel(f"workspace: {workspace.root}")
        self.statusBar().addPermanentWidget(self.workspace_label)
        self.resize(1100, 700)
        self._restore_layout()

    def _connect_panels(self) -> None:
        """Panels talk through signals only: the theme chosen in Themes & Labels is the one
        being labeled; a change in either refreshes the other."""
        themes, labeling = self.panels.get("themes"), self.panels.get("labeling")
        if themes is None or labeling is None:
            return
        themes.sig_theme_selected.connect(labeling.set_theme)
        themes.sig_data_changed.connect(labeling.reload)
        refresh = QTimer(self, singleShot=True, interval=500)
        refresh.timeout.connect(themes.reload)
        labeling.sig_data_changed.connect(refresh.start)

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

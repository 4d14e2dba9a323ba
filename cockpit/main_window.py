"""The cockpit's main window: one tab per panel, a workspace chooser with recent
workspaces, the runner's state in the status bar, geometry remembered between runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QTabWidget,
    QWidget,
)

from cockpit.panels import PANELS
from cockpit.richtext import plain, plain_rich
from cockpit.workers import run_in_background
from core import __version__
from core.errors import CockpitError
from core.workspace import Workspace

RECENT_KEY = "workspaces/recent"
RECENT_MAX = 8
_open_windows: list[MainWindow] = []  # a window switched to must outlive the old one


def _runner_state(workspace: Workspace) -> str:
    from core.jobs.runner import runner_state

    return f"runner: {runner_state(workspace).describe()}"


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.setWindowTitle(f"Experiment Cockpit {__version__} — {workspace.root.name}")
        self.panels: dict[str, QWidget] = {}
        self._close_confirmed = False  # unsaved edits already asked about
        self.tabs = QTabWidget(documentMode=True)
        for name, (title, factory) in PANELS.items():
            panel = factory(workspace)
            panel.setObjectName(f"panel_{name}")
            self.panels[name] = panel
            self.tabs.addTab(panel, title)
        self.setCentralWidget(self.tabs)
        self._connect_panels()
        self.workspace_label = plain(QLabel(f"workspace: {workspace.root}"))
        self.runner_label = plain(QLabel("runner: …"))
        self.statusBar().addPermanentWidget(self.runner_label)
        self.statusBar().addPermanentWidget(self.workspace_label)
        self._runner_timer = QTimer(self, interval=2000)
        self._runner_timer.timeout.connect(self._refresh_runner)
        self._runner_timer.start()
        self._refresh_runner()
        self._build_menu()
        self.resize(1100, 700)
        self._restore_layout()
        self._remember(workspace.root)

    # --- wiring ------------------------------------------------------------------------
    def _connect_panels(self) -> None:
        """Panels talk through signals only (each panel's public signals and methods)."""
        panels = self.panels
        themes, labeling = panels.get("themes"), panels.get("labeling")
        if themes is not None and labeling is not None:
            # the theme chosen in Themes & Labels is the one being labeled
            themes.sig_theme_selected.connect(labeling.set_theme)
            themes.sig_data_changed.connect(labeling.reload)
            refresh = QTimer(self, singleShot=True, interval=500)
            refresh.timeout.connect(themes.reload)
            labeling.sig_data_changed.connect(refresh.start)
        editor, queue, live = panels.get("editor"), panels.get("queue"), panels.get("live")
        if queue is not None and live is not None:
            queue.sig_job_selected.connect(live.show_job)
        if editor is not None and queue is not None:
            editor.sig_job_submitted.connect(lambda _job_id: queue.reload())
        history, models = panels.get("history"), panels.get("models")
        if history is not None and models is not None:
            history.sig_open_run_requested.connect(models.open_run_id_in_mlflow)
        tuning = panels.get("tuning")
        if tuning is not None and models is not None:
            tuning.sig_open_run_requested.connect(models.open_run_id_in_mlflow)
        if editor is not None:
            for name, signal in (
                ("history", "sig_requeue_requested"),
                ("tuning", "sig_apply_params"),
            ):
                panel = panels.get(name)
                if panel is not None:
                    getattr(panel, signal).connect(
                        lambda params, theme, source=name: self._edit_params(params, theme, source)
                    )

    def _edit_params(self, params: dict, theme: str, source: str) -> None:
        """Open the configuration editor prefilled (requeue with edits, apply best params)."""
        editor = self.panels["editor"]
        if theme:
            editor.set_theme(theme)
        editor.load_params(params, source=source)
        self.tabs.setCurrentWidget(editor)

    def _refresh_runner(self) -> None:
        workspace = self.workspace
        run_in_background(
            lambda: _runner_state(workspace),
            self.runner_label.setText,
            lambda exc: self.runner_label.setText(f"runner: {exc}"),
        )

    # --- workspaces ----------------------------------------------------------------------
    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Workspace")
        open_action = QAction("&Open workspace…", self)
        open_action.triggered.connect(self._choose_workspace)
        menu.addAction(open_action)
        self.recent_menu = menu.addMenu("&Recent workspaces")
        self._fill_recent()
        menu.addSeparator()
        quit_action = QAction("&Quit", self)
        quit_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Quit))
        quit_action.triggered.connect(self.close)
        menu.addAction(quit_action)

    def recent_workspaces(self) -> list[str]:
        value: Any = self._settings().value(RECENT_KEY, [])
        return [value] if isinstance(value, str) else list(value or [])

    def _remember(self, root: Path) -> None:
        recent = [str(root)] + [p for p in self.recent_workspaces() if p != str(root)]
        self._settings().setValue(RECENT_KEY, recent[:RECENT_MAX])
        self._fill_recent()

    def _fill_recent(self) -> None:
        if not hasattr(self, "recent_menu"):
            return
        self.recent_menu.clear()
        for path in self.recent_workspaces():
            action = QAction(path, self)
            action.triggered.connect(lambda _checked=False, p=path: self.open_workspace(p))
            self.recent_menu.addAction(action)

    def _choose_workspace(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open workspace", str(self.workspace.root))
        if folder:
            self.open_workspace(folder)

    def open_workspace(self, path: str) -> MainWindow:
        """Replace this window by one on the workspace at ``path`` (after asking about
        unsaved configuration edits; answered Cancel: this window stays)."""
        try:
            chosen = Workspace.resolve(path).require()
        except CockpitError as exc:
            QMessageBox.warning(self, "Not a workspace", str(exc))
            return self
        if not self._unsaved_edits_kept():
            return self
        self._close_confirmed = True
        window = MainWindow(chosen.ensure_dirs())
        _open_windows.append(window)
        window.show()
        self.close()
        return window

    # --- settings ------------------------------------------------------------------------
    def _settings(self) -> QSettings:
        return QSettings("ExperimentCockpit", "cockpit")

    def _restore_layout(self) -> None:
        geometry = self._settings().value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        index = self._settings().value("main_window/tab", 0, type=int)
        self.tabs.setCurrentIndex(min(int(index), self.tabs.count() - 1))

    def _unsaved_edits_kept(self) -> bool:
        """Ask about unsaved configuration text before closing; False: stay open."""
        editor = self.panels.get("editor")
        unsaved = editor.unsaved_documents() if editor is not None else []
        if not unsaved:
            return True
        files = ", ".join(editor.paths[name].name for name in unsaved)
        answer = QMessageBox.question(
            self,
            "Unsaved configuration",
            f"Save your changes to {files} before closing?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Cancel:
            return False
        if answer == QMessageBox.StandardButton.Save:
            try:
                editor.save_now()
            except OSError as exc:
                QMessageBox.warning(self, "Not saved", plain_rich(f"{exc}; the window stays open"))
                return False
        return True

    def closeEvent(self, event: QCloseEvent) -> None:
        if not (self._close_confirmed or self._unsaved_edits_kept()):
            event.ignore()
            return
        settings = self._settings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/tab", self.tabs.currentIndex())
        self._runner_timer.stop()
        for panel in self.panels.values():
            stop = getattr(panel, "shutdown", None)
            if callable(stop):
                stop()
        if self in _open_windows:
            _open_windows.remove(self)
        super().closeEvent(event)

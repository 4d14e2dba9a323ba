"""The cockpit's main window: one tab per panel, a workspace chooser with recent
workspaces, the runner's state in the status bar, geometry and layout remembered between
runs.

The window is shown before any panel exists: each tab holds a cheap placeholder until it
is first shown; the panel's package is then imported off the GUI thread and the panel
built in its place (``panel(name)`` builds one at once when code needs it)."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QSize, Qt, QTimer, QUrl
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDesktopServices,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels import PANELS, panel_module
from cockpit.richtext import plain, plain_rich
from cockpit.workers import run_in_background
from core import __version__
from core.errors import CockpitError
from core.workspace import Workspace

RECENT_KEY = "workspaces/recent"
RECENT_MAX = 8
FIRST_PAINT_MS = 30  # after show(), time for the first paint before loading starts
_open_windows: list[MainWindow] = []  # a window switched to must outlive the old one

#: (source panel, its signal, target panel, target method, when the target is not built):
#: "build" builds the target (the user asked for something it shows), "later" hands the
#: latest value over once it is built, "skip" drops it (a panel built later loads fresh);
#: "reload" is called without the signal's arguments
WIRES: tuple[tuple[str, str, str, str, str], ...] = (
    ("themes", "sig_theme_selected", "labeling", "set_theme", "later"),
    ("themes", "sig_data_changed", "labeling", "reload", "skip"),
    # a theme picked in Labeling is selected in Themes & Labels too
    ("labeling", "sig_theme_selected", "themes", "select_theme", "skip"),
    ("queue", "sig_job_selected", "live", "show_job", "build"),
    ("editor", "sig_job_submitted", "queue", "reload", "skip"),
    ("history", "sig_open_run_requested", "models", "open_run_id_in_mlflow", "build"),
    ("tuning", "sig_open_run_requested", "models", "open_run_id_in_mlflow", "build"),
)
NO_ARGUMENTS = {"reload"}
#: panels that need another one to work: Labeling labels the theme chosen in Themes
BUILT_WITH = {"labeling": ("themes",)}
#: signals that open the configuration editor prefilled
EDIT_REQUESTS = (("history", "sig_requeue_requested"), ("tuning", "sig_apply_params"))


def _runner_state(workspace: Workspace) -> str:
    from core.jobs.runner import runner_state

    return f"runner: {runner_state(workspace).describe()}"


class PanelPlaceholder(QWidget):
    """What a tab shows until its panel is built: a line of text, nothing imported."""

    def __init__(self, name: str, title: str) -> None:
        super().__init__()
        self.name = name
        self.setObjectName(f"placeholder_{name}")
        layout = QVBoxLayout(self)
        self.label = plain(QLabel(f"Loading {title.replace('&&', '&')}…"))
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.label)


class Panels(Mapping[str, QWidget]):
    """The window's panels by name; looking one up builds it (``built()`` does not)."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        self._built: dict[str, QWidget] = {}

    def __getitem__(self, name: str) -> QWidget:
        if name not in PANELS:
            raise KeyError(name)
        return self._built.get(name) or self._window.panel(name)

    def __iter__(self) -> Iterator[str]:
        return iter(PANELS)

    def __len__(self) -> int:
        return len(PANELS)

    def built(self) -> dict[str, QWidget]:
        return dict(self._built)


class MainWindow(QMainWindow):
    def __init__(
        self, workspace: Workspace, parent: QWidget | None = None, *, remember: bool = True
    ) -> None:
        """``remember=False`` (screenshots): read and write no settings, so a picture
        neither depends on nor changes the user's saved layout."""
        super().__init__(parent)
        self.workspace = workspace
        self.remember = remember
        self.setWindowTitle(f"Experiment Cockpit {__version__} — {workspace.root.name}")
        self.panels = Panels(self)
        self._pending: dict[str, dict[str, tuple[Any, ...]]] = {}  # target -> method -> args
        self._importing: set[str] = set()
        self._close_confirmed = False  # unsaved edits already asked about
        self._shown_once = False
        self.tabs = QTabWidget(documentMode=True)
        self._names: list[str] = list(PANELS)
        for name, (title, _factory) in PANELS.items():
            self.tabs.addTab(PanelPlaceholder(name, title), title)
        self.setCentralWidget(self.tabs)
        self._themes_refresh = QTimer(self, singleShot=True, interval=500)
        self._themes_refresh.timeout.connect(lambda: self._call("themes", "reload", (), "skip"))
        self.workspace_label = plain(QLabel(f"workspace: {workspace.root}"))
        self.runner_label = plain(QLabel("runner: …"))
        self.statusBar().addPermanentWidget(self.runner_label)
        self.statusBar().addPermanentWidget(self.workspace_label)
        self._runner_timer = QTimer(self, interval=2000)
        self._runner_timer.timeout.connect(self._refresh_runner)
        self._build_menu()
        self.resize(self._first_size())
        self._restore_layout()
        self.tabs.currentChanged.connect(self._tab_shown)
        if remember:
            self._remember(workspace.root)

    # --- panels, built on first show -----------------------------------------------------
    def panel(self, name: str) -> QWidget:
        """The panel ``name``, built now (on this thread) if it is not yet."""
        built = self.panels._built.get(name)
        if built is not None:
            return built
        _title, factory = PANELS[name]
        panel = factory(self.workspace)
        panel.setObjectName(f"panel_{name}")
        self.panels._built[name] = panel
        index = self._names.index(name)
        current = self.tabs.currentIndex()
        placeholder = self.tabs.widget(index)
        # swapping a page must not look like the user switching tabs
        self.tabs.blockSignals(True)
        self.tabs.removeTab(index)
        self.tabs.insertTab(index, panel, PANELS[name][0])
        self.tabs.setCurrentIndex(current)
        self.tabs.blockSignals(False)
        placeholder.deleteLater()
        self._restore_panel_layout(name, panel)
        self._connect(name, panel)
        for method, args in self._pending.pop(name, {}).items():
            getattr(panel, method)(*args)
        for partner in BUILT_WITH.get(name, ()):
            self.panel(partner)
        return panel

    def current_panel_name(self) -> str:
        return self._names[self.tabs.currentIndex()]

    def show_panel(self, name: str) -> QWidget:
        panel = self.panel(name)
        self.tabs.setCurrentWidget(panel)
        return panel

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            # the first paint comes before any panel is imported or built: background
            # imports started earlier would compete with it for the interpreter
            QTimer.singleShot(FIRST_PAINT_MS, lambda: self._tab_shown(self.tabs.currentIndex()))
            QTimer.singleShot(FIRST_PAINT_MS, self._start_status)

    def _start_status(self) -> None:
        self._runner_timer.start()
        self._refresh_runner()

    def _tab_shown(self, index: int) -> None:
        if index < 0:
            return
        name = self._names[index]
        if name in self.panels._built or name in self._importing:
            return
        module = panel_module(name)
        if module in sys.modules:
            self.panel(name)
            return
        self._importing.add(name)

        def imported(_module: Any) -> None:
            self._importing.discard(name)
            if not self.isVisible() and self._close_confirmed:
                return
            self.panel(name)

        def failed(exc: BaseException) -> None:
            self._importing.discard(name)
            placeholder = self.tabs.widget(index)
            if isinstance(placeholder, PanelPlaceholder):
                placeholder.label.setText(f"This panel could not be loaded: {exc}")

        from importlib import import_module

        run_in_background(lambda: import_module(module), imported, failed)

    # --- wiring ------------------------------------------------------------------------
    def _connect(self, name: str, panel: QWidget) -> None:
        """Connect the signals of a panel just built; targets are looked up when a signal
        arrives, so a target built later (or never) is handled then."""
        for source, signal, target, method, when in WIRES:
            if source == name:
                getattr(panel, signal).connect(
                    lambda *args, t=target, m=method, w=when: self._call(
                        t, m, () if m in NO_ARGUMENTS else args, w
                    )
                )
        if name == "labeling":
            panel.sig_data_changed.connect(self._themes_refresh.start)
        for source, signal in EDIT_REQUESTS:
            if source == name:
                getattr(panel, signal).connect(
                    lambda params, theme, s=source: self._edit_params(params, theme, s)
                )

    def _call(self, target: str, method: str, args: tuple[Any, ...], when: str) -> None:
        panel = self.panels._built.get(target)
        if panel is None and when == "build":
            panel = self.panel(target)
        if panel is not None:
            getattr(panel, method)(*args)
        elif when == "later":
            self._pending.setdefault(target, {})[method] = args

    def _edit_params(self, params: dict, theme: str, source: str) -> None:
        """Open the configuration editor prefilled (requeue with edits, apply best params)."""
        editor = self.show_panel("editor")
        if theme:
            editor.set_theme(theme)
        editor.load_params(params, source=source)

    def _refresh_runner(self) -> None:
        workspace = self.workspace
        run_in_background(
            lambda: _runner_state(workspace),
            self.runner_label.setText,
            lambda exc: self.runner_label.setText(f"runner: {exc}"),
        )

    # --- menus and shortcuts -------------------------------------------------------------
    def _action(
        self, menu: Any, text: str, slot: Callable[[], Any], shortcut: Any = None, tip: str = ""
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
            action.setToolTip(tip)
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_menu(self) -> None:
        menu = self.menuBar().addMenu("&Workspace")
        self._action(
            menu,
            "&Open workspace…",
            self._choose_workspace,
            QKeySequence.StandardKey.Open,
            "open another workspace folder in this window",
        )
        self.recent_menu = menu.addMenu("&Recent workspaces")
        self._fill_recent()
        menu.addSeparator()
        self._action(
            menu,
            "&Save configuration",
            self.save_configuration,
            QKeySequence.StandardKey.Save,
            "write the changed files of the Configure tab",
        )
        menu.addSeparator()
        self._action(menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        view = self.menuBar().addMenu("&View")
        self._action(
            view, "&Refresh", self.refresh_current, "F5", "load the shown tab's data again"
        )
        view.addSeparator()
        for number, (name, (title, _factory)) in enumerate(PANELS.items(), start=1):
            if number > 9:
                break
            self._action(view, title, lambda n=name: self.show_panel(n), f"Alt+{number}")

        help_menu = self.menuBar().addMenu("&Help")
        self._action(help_menu, "&Keyboard shortcuts", self.show_shortcuts, "F1")
        self._action(help_menu, "Open &documentation", self.open_documentation)
        help_menu.addSeparator()
        self._action(help_menu, "&About Experiment Cockpit", self.show_about)

    def save_configuration(self) -> None:
        """Ctrl+S: save the configuration editor's changed files."""
        self.panel("editor").save()

    def refresh_current(self) -> None:
        """F5: the shown panel loads its data again."""
        panel = self.panels.built().get(self.current_panel_name())
        reload = getattr(panel, "reload", None)
        if callable(reload):
            reload()
            self.statusBar().showMessage("refreshed", 2000)

    def shortcuts(self) -> list[tuple[str, str]]:
        """(keys, what they do) of every menu action with a shortcut."""
        found = []
        for menu_action in self.menuBar().actions():
            menu = menu_action.menu()
            for action in menu.actions() if menu is not None else []:
                keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
                if keys:
                    found.append((keys, _menu_text(action.text())))
        return found

    def show_shortcuts(self) -> QDialog:
        dialog = QDialog(self)
        dialog.setWindowTitle("Keyboard shortcuts")
        rows = [*self.shortcuts(), *_panel_shortcuts(self.panels.built())]
        table = QTableWidget(len(rows), 2, dialog)
        table.setHorizontalHeaderLabels(["Keys", "Action"])
        table.verticalHeader().hide()
        table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, (keys, text) in enumerate(rows):
            table.setItem(row, 0, QTableWidgetItem(keys))
            table.setItem(row, 1, QTableWidgetItem(text))
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, parent=dialog)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(table)
        layout.addWidget(buttons)
        dialog.resize(520, 420)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Experiment Cockpit",
            plain_rich(
                f"Experiment Cockpit {__version__}\n"
                "Label images, queue trainings and tuning studies, watch their curves and "
                "find runs and models in MLflow.\n"
                f"Workspace: {self.workspace.root}"
            ),
        )

    def open_documentation(self) -> bool:
        """The docs/ folder of the installation (its README when there is no folder) in the
        desktop's browser or file manager."""
        path = _documentation_path()
        if path is None:
            self.statusBar().showMessage("no documentation is installed with this copy", 5000)
            return False
        return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))

    # --- workspaces ----------------------------------------------------------------------
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
        for path in self.recent_workspaces() if self.remember else []:
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
        window = MainWindow(chosen.ensure_dirs(), remember=self.remember)
        _open_windows.append(window)
        window.show()
        self.close()
        return window

    # --- settings ------------------------------------------------------------------------
    def _first_size(self) -> QSize:
        """1100 x 700, or less on a small (or strongly scaled) screen: the window fits."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return QSize(1100, 700)
        free = screen.availableGeometry()
        return QSize(min(1100, free.width()), min(700, free.height()))

    def _settings(self) -> QSettings:
        return QSettings("ExperimentCockpit", "cockpit")

    def _restore_layout(self) -> None:
        if not self.remember:
            return
        geometry = self._settings().value("main_window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        index = self._settings().value("main_window/tab", 0, type=int)
        self.tabs.setCurrentIndex(max(0, min(int(index), self.tabs.count() - 1)))

    def _restore_panel_layout(self, name: str, panel: QWidget) -> None:
        """Splitter positions and table column widths/order as the user left them."""
        if not self.remember:
            return
        settings = self._settings()
        for key, widget in _layout_widgets(name, panel):
            state = settings.value(key)
            if state is not None:
                widget.restoreState(state)

    def _save_layout(self) -> None:
        settings = self._settings()
        settings.setValue("main_window/geometry", self.saveGeometry())
        settings.setValue("main_window/tab", self.tabs.currentIndex())
        for name, panel in self.panels.built().items():
            for key, widget in _layout_widgets(name, panel):
                settings.setValue(key, widget.saveState())

    def _unsaved_edits_kept(self) -> bool:
        """Ask about unsaved configuration text before closing; False: stay open."""
        editor = self.panels.built().get("editor")
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
        self._close_confirmed = True
        if self.remember:
            self._save_layout()
        self._runner_timer.stop()
        for panel in self.panels.built().values():
            stop = getattr(panel, "shutdown", None)
            if callable(stop):
                stop()
        if self in _open_windows:
            _open_windows.remove(self)
        super().closeEvent(event)


def _layout_widgets(name: str, panel: QWidget) -> list[tuple[str, Any]]:
    """A panel's splitters and horizontal table headers with a settings key each (their
    order of creation is fixed by the panel's code)."""
    found: list[tuple[str, Any]] = []
    for i, splitter in enumerate(panel.findChildren(QSplitter)):
        found.append((f"panels/{name}/splitter_{i}", splitter))
    headers = [
        h for h in panel.findChildren(QHeaderView) if h.orientation() == Qt.Orientation.Horizontal
    ]
    for i, header in enumerate(headers):
        found.append((f"panels/{name}/header_{i}", header))
    return found


def _panel_shortcuts(panels: dict[str, QWidget]) -> list[tuple[str, str]]:
    """The shortcuts of the panels built so far, named with their tab."""
    found = [
        ("1–9, 0, a–z", "Labeling: give the selected images the label of the key"),
        ("Delete", "Labeling: unlabel the selected images"),
        ("Enter", "Labeling: accept the model's suggestions for the selected images"),
    ]
    for name, panel in panels.items():
        title = PANELS[name][0].replace("&&", "&")
        for action in panel.findChildren(QAction):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys:
                found.append((keys, f"{title}: {_menu_text(action.text())}"))
    return found


def _menu_text(text: str) -> str:
    """An action's text as shown: "&&" is a literal "&", a single "&" marks the mnemonic."""
    return re.sub("&(&?)", r"\1", text)


def _documentation_path() -> Path | None:
    root = Path(__file__).resolve().parent.parent
    for candidate in (root / "docs", root / "README.md"):
        if candidate.exists():
            return candidate
    return None

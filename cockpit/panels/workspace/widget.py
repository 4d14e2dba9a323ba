"""The Workspace panel: registered definitions, the resolved parameters of
configs/params.yaml with their sources, the experiment id, and where the stores are
(cockpit.yaml or the COCKPIT_* variables, passwords masked). Reloads when a file in
configs/ or cockpit.yaml changes."""

from __future__ import annotations

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.workspace.snapshot import WorkspaceSnapshot, take_snapshot
from cockpit.richtext import plain, plain_rich
from cockpit.workers import run_in_background
from core.hashing import UNHASHED_KEYS
from core.workspace import Workspace

_STATUS_COLOURS = {
    "ok": "#2e7d32",
    "incomplete": "#b26a00",
    "unregistered": "#b26a00",
    "error": "#c62828",
}
_KIND_TITLES = {"dataset": "Datasets", "model": "Models", "adapter": "Adapters"}


def _read_only_table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.horizontalHeader().setStretchLastSection(True)
    return table


class WorkspacePanel(QWidget):
    sig_loaded = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.snapshot: WorkspaceSnapshot | None = None
        self._loading = False
        self._reload_again = False

        self.path_label = QLabel(str(workspace.root))
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("check the workspace again (F5)")
        self.reload_button.clicked.connect(self.reload)
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Workspace</b>"))
        header.addWidget(self.path_label, 1)
        header.addWidget(self.reload_button)

        self.definitions = QTreeWidget()
        self.definitions.setHeaderLabels(["Definition", "Status"])
        self.definitions.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.definitions.setMinimumWidth(320)

        self.id_label = QLabel("experiment id: loading…")
        id_font = QFont(self.id_label.font())
        id_font.setPointSizeF(id_font.pointSizeF() * 1.3)
        self.id_label.setFont(id_font)
        self.id_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label = plain(QLabel())
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("color: #c62828;")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.params_table = _read_only_table(["Parameter", "Value", "Source", "Description"])

        params_box = QWidget()
        params_layout = QVBoxLayout(params_box)
        params_layout.setContentsMargins(0, 0, 0, 0)
        params_layout.addWidget(self.id_label)
        params_layout.addWidget(self.error_label)
        params_layout.addWidget(self.params_table, 1)

        self.stores_table = _read_only_table(["Store", "Set in", "Where"])
        self.stores_table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # long URLs, paths
        self.stores_table.setToolTip(
            "where the workspace database, MLflow, Optuna and the Ray cluster are: "
            "cockpit.yaml (stores:) or the COCKPIT_* variables; `cockpit stores check` "
            "connects to each server"
        )
        self.stores_error = plain(QLabel())
        self.stores_error.setWordWrap(True)
        self.stores_error.setStyleSheet("color: #c62828;")
        self.stores_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stores_error.hide()
        stores_box = QWidget()
        stores_layout = QVBoxLayout(stores_box)
        stores_layout.setContentsMargins(0, 0, 0, 0)
        stores_layout.addWidget(QLabel("<b>Stores</b>"))
        stores_layout.addWidget(self.stores_error)
        stores_layout.addWidget(self.stores_table, 1)
        splitter = QSplitter()
        splitter.addWidget(self.definitions)
        splitter.addWidget(params_box)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([320, 640])
        # the stores across the whole width: their URLs and paths are long
        rows_height = self.stores_table.verticalHeader().defaultSectionSize() * 7
        stores_box.setMinimumHeight(rows_height + self.stores_table.fontMetrics().height())
        vertical = QSplitter(Qt.Orientation.Vertical)
        vertical.addWidget(splitter)
        vertical.addWidget(stores_box)
        vertical.setStretchFactor(0, 1)
        vertical.setStretchFactor(1, 0)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(vertical, 1)

        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.reload)
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(self._debounce.start)
        self._watcher.directoryChanged.connect(self._debounce.start)
        QTimer.singleShot(0, self.reload)

    # --- loading (off the GUI thread) ------------------------------------------------
    def reload(self) -> None:
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        self.reload_button.setEnabled(False)
        workspace = self.workspace
        run_in_background(lambda: take_snapshot(workspace), self._show_snapshot, self._show_failure)

    def _finish_loading(self) -> None:
        self._loading = False
        self.reload_button.setEnabled(True)
        self._watch_configs()
        if self._reload_again:
            self._reload_again = False
            self.reload()
        else:
            self.sig_loaded.emit()

    def _watch_configs(self) -> None:
        configs = self.workspace.configs_dir
        wanted = [str(configs)] if configs.is_dir() else []
        wanted += [str(p) for p in configs.glob("*") if p.suffix in (".yaml", ".json")]
        settings = self.workspace.root / "cockpit.yaml"
        if settings.is_file():
            wanted.append(str(settings))
        missing = [
            p for p in wanted if p not in self._watcher.files() + self._watcher.directories()
        ]
        if missing:
            self._watcher.addPaths(missing)

    def _show_failure(self, exc: BaseException) -> None:
        self.error_label.setText(f"{type(exc).__name__}: {exc}")
        self.error_label.show()
        self._finish_loading()

    def _show_snapshot(self, snapshot: WorkspaceSnapshot) -> None:
        self.snapshot = snapshot
        self._fill_definitions(snapshot)
        self._fill_params(snapshot)
        self._fill_stores(snapshot)
        self._finish_loading()

    # --- views ---------------------------------------------------------------------------
    def _fill_definitions(self, snapshot: WorkspaceSnapshot) -> None:
        self.definitions.clear()
        if snapshot.registry_error:
            item = QTreeWidgetItem(["configs/registry.json", "error"])
            item.setToolTip(0, plain_rich(snapshot.registry_error))
            item.setForeground(1, QBrush(QColor(_STATUS_COLOURS["error"])))
            self.definitions.addTopLevelItem(item)
        groups: dict[str, QTreeWidgetItem] = {}
        for finding in snapshot.findings:
            if finding.kind not in groups:
                groups[finding.kind] = QTreeWidgetItem([_KIND_TITLES[finding.kind], ""])
                self.definitions.addTopLevelItem(groups[finding.kind])
            item = QTreeWidgetItem([finding.name, finding.status])
            item.setToolTip(0, plain_rich(finding.detail))
            item.setToolTip(1, plain_rich(finding.detail))
            item.setForeground(1, QBrush(QColor(_STATUS_COLOURS[finding.status])))
            groups[finding.kind].addChild(item)
        self.definitions.expandAll()

    def _fill_params(self, snapshot: WorkspaceSnapshot) -> None:
        errors = [e for e in (snapshot.registry_error, snapshot.params_error) if e]
        self.error_label.setText("\n".join(errors))
        self.error_label.setVisible(bool(errors))
        resolved = snapshot.params
        if resolved is None:
            self.id_label.setText("experiment id: — (fix the problems below)")
            self.params_table.setRowCount(0)
            return
        self.id_label.setText(
            f"experiment id: <b>{resolved.experiment_id()}</b> &nbsp;·&nbsp; dataset "
            f"{resolved.choice.dataset} · model {resolved.choice.model} · adapter "
            f"{resolved.choice.adapter}"
        )
        self.params_table.setRowCount(len(resolved.values))
        for row, (key, value) in enumerate(resolved.values.items()):
            spec = resolved.specs[key]
            shown = list(value) if isinstance(value, tuple) else value
            tip = spec.description
            if key in UNHASHED_KEYS:
                tip += f" — not part of the experiment id: {UNHASHED_KEYS[key]}"
            value_text = repr(shown) if isinstance(shown, str) else str(shown)
            cells = [key, value_text, resolved.sources[key], tip]
            for column, text in enumerate(cells):
                cell = QTableWidgetItem(text)
                cell.setToolTip(tip)
                self.params_table.setItem(row, column, cell)
        for column in range(3):
            self.params_table.resizeColumnToContents(column)

    def _fill_stores(self, snapshot: WorkspaceSnapshot) -> None:
        self.stores_error.setText(snapshot.stores_error or "")
        self.stores_error.setVisible(bool(snapshot.stores_error))
        self.stores_table.setRowCount(len(snapshot.stores))
        for row, (name, value, source, description) in enumerate(snapshot.stores):
            for column, text in enumerate((name, source, value)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(f"{name}: {description}\n{value}\n(set in: {source})")
                self.stores_table.setItem(row, column, cell)
        for column in range(2):
            self.stores_table.resizeColumnToContents(column)
        self.stores_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

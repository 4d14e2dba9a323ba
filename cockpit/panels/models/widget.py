"""Models: the registered models of each theme, their versions with the source run's
metrics, aliases (champion/challenger), ONNX export, "Open in MLflow" through a local
MLflow server started on demand, and predictions on images dropped onto the panel."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QProcess, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QDragEnterEvent,
    QDropEvent,
    QFont,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.models.busy import BusyBar
from cockpit.panels.models.cli_process import CliProcesses, error_lines
from cockpit.panels.models.predictions import PredictionList, image_files
from cockpit.panels.models.reproduction import Reproducer
from cockpit.richtext import plain, plain_rich
from cockpit.theme_colors import follow_palette, muted_colour, status_colour, text_colour
from cockpit.workers import run_in_background
from core.workspace import Workspace

if TYPE_CHECKING:
    from core.models.catalog import RegisteredModelInfo, VersionInfo
    from core.models.mlflow_server import MlflowServer

# the weights a version holds are the best epoch's: show that epoch's validation metrics
METRICS = ("test_acc", "test_loss", "best_valid_acc", "best_valid_loss")
COLUMNS = ["Version", "Created", "Aliases", *METRICS, "Status", "Source run"]
SUGGESTED_ALIASES = ("champion", "challenger")
TOP_K = 3
# per-step copies of the epoch metrics Lightning logs: noise in the details
HIDDEN = {"train_loss_step", "train_acc_step", "train_loss_epoch", "train_acc_epoch"}
OPEN_TARGETS = {
    "model": "Registered model",
    "version": "This version",
    "run": "Source run",
    "experiment": "Experiment (theme)",
}


def _load(workspace: Workspace) -> list[RegisteredModelInfo]:
    from core.models.catalog import list_models

    return list_models(workspace)


IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
SortKey = Qt.ItemDataRole.UserRole + 1


class _SortedItem(QTableWidgetItem):
    """A cell sorted by its key (numbers as numbers; empty cells after the others when
    ascending), not its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        a, b = self.data(SortKey), other.data(SortKey)
        if a is None or b is None:
            return a is not None  # present before missing, whichever the order
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)


def _cell(text: str, align_right: bool = False, key: Any = None) -> QTableWidgetItem:
    item = _SortedItem(text)
    item.setData(SortKey, key if key is not None else (text or None))
    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
    if align_right:
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return item


def _number(text: str) -> Any:
    return int(text) if text.isdigit() else text


def version_metric(metrics: dict[str, float], name: str) -> float | None:
    """A column's metric: versions a study registered carry the best trial's epoch metrics
    (``valid_acc``) where trained versions also have them as ``best_valid_acc``."""
    value = metrics.get(name)
    if value is None and name.startswith("best_valid_"):
        value = metrics.get(name.removeprefix("best_"))
    return value


class ModelsPanel(QWidget):
    sig_loaded = Signal()
    sig_model_selected = Signal(str)  # registered model name
    sig_alias_changed = Signal(str, str)  # model name, alias
    sig_exported = Signal(str)  # path of the written file
    sig_predicted = Signal(object)  # the predict report (dict)
    sig_url_opened = Signal(str)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.models: list[RegisteredModelInfo] = []
        self.current_model: str | None = None
        self.server: MlflowServer | None = None
        self.open_url: Callable[[QUrl], Any] = QDesktopServices.openUrl
        self._pending_urls: list[Callable[[str], str]] = []
        self._server_starting = False
        self._closed = False
        self._filling = False
        self.processes = CliProcesses(workspace, self)
        self.setAcceptDrops(True)

        self.model_list = QListWidget()
        self.model_list.currentItemChanged.connect(self._model_clicked)
        reload_button = QPushButton("Reload")
        reload_button.setToolTip("read the registered models again (F5)")
        reload_button.clicked.connect(self.reload)
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Registered models</b> (one per theme)"))
        left.addWidget(self.model_list, 2)
        left.addWidget(reload_button)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        details_box = QGroupBox("Selected version")
        QVBoxLayout(details_box).addWidget(self.details)
        left.addWidget(details_box, 3)

        self.title = QLabel("<b>Versions</b>")
        self.versions = QTableWidget(0, len(COLUMNS))
        self.versions.setHorizontalHeaderLabels(COLUMNS)
        self.versions.verticalHeader().hide()
        self.versions.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.versions.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.versions.itemSelectionChanged.connect(self._version_changed)
        # no sort column until a header is clicked: the rows keep the registry's ranking
        self.versions.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.versions.setSortingEnabled(True)
        self.versions.horizontalHeader().setSortIndicatorShown(True)
        self.versions.horizontalHeader().setToolTip("Click a header to sort the versions by it")
        header = self.versions.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)

        self.alias_button = QToolButton(text="Set alias")
        self.alias_button.setToolTip("give the selected version an alias (e.g. champion)")
        self.alias_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        alias_menu = QMenu(self.alias_button)
        for alias in SUGGESTED_ALIASES:
            alias_menu.addAction(alias, lambda a=alias: self.set_alias(a))
        alias_menu.addSeparator()
        alias_menu.addAction("Other alias…", self._ask_alias)
        self.alias_button.setMenu(alias_menu)
        self.unalias_button = QToolButton(text="Remove alias")
        self.unalias_button.setToolTip("take an alias off the selected version")
        self.unalias_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.unalias_menu = QMenu(self.unalias_button)
        self.unalias_menu.aboutToShow.connect(self._fill_unalias_menu)
        self.unalias_button.setMenu(self.unalias_menu)
        self.export_button = QPushButton("Export ONNX")
        self.export_button.setToolTip("write the selected version as an ONNX file")
        self.export_button.clicked.connect(lambda: self.export_onnx())
        self.reproducer = Reproducer(
            self.processes, lambda text, error: self.show_message(text, error), self
        )
        self.reproducer.button.clicked.connect(lambda: self.reproduce())
        self.sig_reproduced = self.reproducer.sig_finished
        self.reproduce_button = self.reproducer.button
        self.cancel_reproduce_button = self.reproducer.cancel_button
        self.open_button = QToolButton(text="Open in MLflow")
        self.open_button.setToolTip(
            "the selected version in the MLflow UI (a local server on 127.0.0.1)"
        )
        self.open_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        open_menu = QMenu(self.open_button)
        for target, text in OPEN_TARGETS.items():
            open_menu.addAction(text, lambda t=target: self.open_in_mlflow(t))
        self.open_button.setMenu(open_menu)
        actions = QHBoxLayout()
        for button in (
            self.alias_button,
            self.unalias_button,
            self.export_button,
            self.reproduce_button,
            self.cancel_reproduce_button,
        ):
            actions.addWidget(button)
        self.export_label = plain(QLabel())
        # a long path must not widen the panel: it is cut, the tooltip has all of it
        self.export_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.export_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        actions.addWidget(self.export_label, 1)
        actions.addWidget(self.open_button)

        self.export_busy = BusyBar("Stop the export")
        self.predict_busy = BusyBar("Stop predicting")
        self.server_busy = BusyBar("Stop starting the MLflow server")
        self.predict_files_button = QPushButton("Predict files…")
        self.predict_files_button.setToolTip(
            "Choose image files to predict with the selected version"
        )
        self.predict_files_button.clicked.connect(self._predict_chosen_files)
        self.choose_images: Callable[[], list[Path]] = self._ask_images
        self.drop_hint = plain(QLabel())
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.setFrameShape(QFrame.Shape.StyledPanel)
        self._style_drop_hint()
        follow_palette(self.drop_hint, self._style_drop_hint)
        self.predictions = PredictionList()
        self.message = plain(QLabel())
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.versions, 2)
        right.addLayout(actions)
        right.addWidget(self.export_busy)
        right.addWidget(self.server_busy)
        predict_title = QHBoxLayout()
        predict_title.addWidget(QLabel("<b>Predict</b>"))
        predict_title.addStretch(1)
        predict_title.addWidget(self.predict_files_button)
        right.addLayout(predict_title)
        right.addWidget(self.drop_hint)
        right.addWidget(self.predict_busy)
        right.addWidget(self.predictions, 5)

        left_box, right_box = QWidget(), QWidget()
        left_box.setLayout(left)
        right_box.setLayout(right)
        splitter = QSplitter()
        splitter.addWidget(left_box)
        splitter.addWidget(right_box)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 980])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        self._message_error = False
        self._update_actions()
        follow_palette(self, self._restyle)
        # The first registry read (mlflow import) waits until the panel is shown; a
        # workspace without an MLflow store is known to be empty without it.
        self._requested = False
        if not workspace.has_mlflow_store():
            QTimer.singleShot(0, lambda: None if self._requested else self._show([]))

    # --- public api ------------------------------------------------------------------
    def reload(self) -> None:
        """Read the registry (off the GUI thread: mlflow's first import takes seconds, and
        it happens only once the panel is first shown or reloaded)."""
        self._requested = True
        if not self.models:
            self.title.setText("<b>Versions</b> — loading registry…")
        self.show_message("loading registry…")
        run_in_background(lambda: _load(self.workspace), self._show, self._load_failed)

    def show_model(self, name: str) -> None:
        """Select a registered model by name (e.g. ``shapes_model``), once it is loaded."""
        self.current_model = name
        for row in range(self.model_list.count()):
            item = self.model_list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == name:
                self.model_list.setCurrentItem(item)
                return

    def selected_version(self) -> VersionInfo | None:
        model = self.model()
        row = self.versions.currentRow()
        if model is None or row < 0:
            return None
        return model.version(self.versions.item(row, 0).data(Qt.ItemDataRole.UserRole))

    def model(self) -> RegisteredModelInfo | None:
        return next((m for m in self.models if m.name == self.current_model), None)

    def select_version(self, version: str) -> None:
        for row in range(self.versions.rowCount()):
            if self.versions.item(row, 0).data(Qt.ItemDataRole.UserRole) == str(version):
                self.versions.selectRow(row)
                return

    def set_alias(self, alias: str) -> None:
        chosen = self.selected_version()
        if chosen is None:
            self.show_message("select a version first", error=True)
            return
        from core.models.catalog import set_alias

        workspace, name, number = self.workspace, chosen.name, chosen.version
        self._registry_change(
            lambda: set_alias(workspace, name, number, alias),
            f"{name}@{alias.strip()} → version {number}",
            (name, alias.strip()),
        )

    def remove_alias(self, alias: str) -> None:
        model = self.model()
        if model is None:
            return
        from core.models.catalog import remove_alias

        workspace, name = self.workspace, model.name
        self._registry_change(
            lambda: remove_alias(workspace, name, alias), f"removed {name}@{alias}", (name, alias)
        )

    def export_onnx(self, output: Path | None = None) -> None:
        """Export the selected version with ``cockpit export`` in a child process."""
        chosen = self.selected_version()
        if chosen is None:
            self.show_message("select a version to export", error=True)
            return
        target = output or (
            self.workspace.root / "output" / "exports" / f"{chosen.name}-v{chosen.version}.onnx"
        )
        if self.export_busy.busy:
            self.show_message("an export is already running", error=True)
            return
        self.show_message(f"exporting {chosen.spec} to ONNX …")
        self.export_button.setEnabled(False)
        cancelled = []

        def finished(code: int, out: str, err: str) -> None:
            if self._closed:
                return
            self.export_busy.finish()
            self._update_actions()
            if cancelled:
                self.show_message(f"export of {chosen.spec} cancelled")
                return
            if code != 0:
                self.show_message(f"export failed: {error_lines(err)}", error=True)
                return
            self.show_message(f"wrote {target} (ONNX, checked with onnxruntime)")
            self.export_label.setText(f"→ {self.workspace.relative(target)}")
            self.export_label.setToolTip(plain_rich(target))
            self.sig_exported.emit(str(target))

        process = self.processes.start(
            ["export", "--model", chosen.spec, "--format", "onnx", "--output", str(target)],
            finished,
        )
        self.export_busy.start(
            f"exporting {chosen.spec} to ONNX …", lambda: self._cancel(process, cancelled)
        )

    def reproduce(self) -> None:
        """Retrain the selected version from its record with ``cockpit reproduce`` in a
        child process; the outcome (metrics identical or not) comes in the message line."""
        chosen = self.selected_version()
        if chosen is None:
            self.show_message("select a version to reproduce", error=True)
            return
        self.reproducer.start([chosen.spec], chosen.spec)

    def predict(self, paths: list[Path]) -> None:
        """Predict image files with the selected version in a ``cockpit predict`` child."""
        chosen = self.selected_version()
        files = image_files(paths)
        if chosen is None:
            self.show_message("select a model version before dropping images", error=True)
            return
        if not files:
            self.show_message("no image files in what was dropped", error=True)
            return
        if self.predict_busy.busy:
            self.show_message("a prediction is already running", error=True)
            return
        what = f"predicting {len(files)} image(s) with {chosen.spec} …"
        self.show_message(what)
        cancelled = []

        def finished(code: int, out: str, err: str) -> None:
            if self._closed:
                return
            self.predict_busy.finish()
            self._update_actions()
            if cancelled:
                self.show_message("prediction cancelled")
                return
            lines = [line for line in out.splitlines() if line.startswith("{")]
            # exit status 2 with a report: some files could not be predicted, the report
            # says which; without a report the command itself failed
            if not lines or code not in (0, 2):
                self.show_message(f"predict failed: {error_lines(err)}", error=True)
                return
            report = json.loads(lines[-1])
            self.predictions.show_report(report)
            failed = sum(1 for p in report["predictions"] if p.get("error"))
            self.show_message(
                f"{len(report['predictions'])} image(s) predicted with {report['model']} "
                f"version {report['version']}" + (f"; {failed} unreadable" if failed else ""),
                error=bool(failed),
            )
            self.sig_predicted.emit(report)

        process = self.processes.start(
            ["predict", "--model", chosen.spec, "--top-k", str(TOP_K), "--json"]
            + [str(f) for f in files],
            finished,
        )
        self.predict_busy.start(what, lambda: self._cancel(process, cancelled))
        self._update_actions()

    def _cancel(self, process: QProcess, cancelled: list[bool]) -> None:
        """Cancel: the child is killed; its callback then reports the cancel."""
        cancelled.append(True)
        process.kill()

    def _ask_images(self) -> list[Path]:
        names, _filter = QFileDialog.getOpenFileNames(
            self, "Predict images", str(self.workspace.root), IMAGE_FILTER
        )
        return [Path(name) for name in names]

    def _predict_chosen_files(self) -> None:
        paths = self.choose_images()
        if paths:
            self.predict(paths)

    def open_in_mlflow(self, target: str = "version") -> None:
        """Open the selected model / version / source run / experiment in the browser,
        starting the local MLflow server the first time."""
        from core.models import mlflow_server as routes

        model, chosen = self.model(), self.selected_version()
        if model is None:
            self.show_message("no registered model selected", error=True)
            return
        if target == "model" or chosen is None:
            self.open_mlflow(lambda base: routes.model_url(base, model.name))
        elif target == "version":
            self.open_mlflow(lambda base: routes.model_url(base, model.name, chosen.version))
        elif chosen.experiment_id is None:
            self.show_message(f"the source run of {chosen.spec} is gone", error=True)
        elif target == "run":
            experiment, run = chosen.experiment_id, chosen.run_id
            self.open_mlflow(lambda base: routes.run_url(base, experiment, run))
        else:
            experiment = chosen.experiment_id
            self.open_mlflow(lambda base: routes.experiment_url(base, experiment))

    def open_run_in_mlflow(self, experiment_id: str, run_id: str) -> None:
        from core.models.mlflow_server import run_url

        self.open_mlflow(lambda base: run_url(base, experiment_id, run_id))

    def open_run_id_in_mlflow(self, run_id: str) -> None:
        """Open a run known only by its id (the history panel): its MLflow experiment is
        looked up off the GUI thread first."""
        workspace = self.workspace

        def experiment_of_run() -> str:
            from core.models.catalog import run_experiment_id

            return run_experiment_id(workspace, run_id)

        run_in_background(
            experiment_of_run,
            lambda experiment_id: self.open_run_in_mlflow(experiment_id, run_id),
            lambda exc: self.show_message(str(exc), error=True),
        )

    def open_experiment_in_mlflow(self, experiment_id: str) -> None:
        from core.models.mlflow_server import experiment_url

        self.open_mlflow(lambda base: experiment_url(base, experiment_id))

    def open_mlflow(self, make_url: Callable[[str], str]) -> None:
        """Open ``make_url(base_url)`` once the workspace's MLflow server answers, e.g.
        ``panel.open_mlflow(lambda base: run_url(base, experiment_id, run_id))``."""
        if self.server is not None and self.server.running:
            self._open(make_url(self.server.url))
            return
        self._pending_urls.append(make_url)
        if self._server_starting:
            return
        from core.models.mlflow_server import MlflowServer

        self._server_starting = True
        self.server = MlflowServer(self.workspace)
        self.show_message("starting the MLflow server on 127.0.0.1 …")
        server = self.server
        self.server_busy.start(
            "starting the MLflow server on 127.0.0.1 (takes 10-20 s the first time) …",
            self._cancel_server,
        )
        run_in_background(
            server.start,
            lambda url: self._server_started(url, server),
            lambda exc: self._server_failed(exc, server),
        )

    def _cancel_server(self) -> None:
        """Stop a server still starting (off the GUI thread: stopping waits for it)."""
        server, self.server = self.server, None
        self._server_starting = False
        self._pending_urls.clear()
        self.server_busy.finish()
        self.show_message("MLflow server start cancelled")
        if server is not None:
            run_in_background(server.stop, lambda _r: None, lambda _e: None)

    def shutdown(self) -> None:
        """App exit: end predict/export children and stop the MLflow server."""
        self._closed = True
        self.reproducer.closed = True
        self.processes.kill_all()
        if self.server is not None:
            self.server.stop()

    # --- loading ---------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._requested:
            self.reload()

    def _show(self, models: list[RegisteredModelInfo]) -> None:
        if self._closed:
            return
        self.models = models
        names = [m.name for m in models]
        if self.current_model not in names:
            self.current_model = names[0] if names else None
        self._filling = True
        self.model_list.clear()
        for model in models:
            aliases = ", ".join(f"@{a} v{v}" for a, v in sorted(model.aliases.items()))
            item = QListWidgetItem(
                f"{model.name}\n    theme {model.theme} · {len(model.versions)} version(s)"
                + (f"\n    {aliases}" if aliases else "")
            )
            item.setData(Qt.ItemDataRole.UserRole, model.name)
            self.model_list.addItem(item)
            if model.name == self.current_model:
                self.model_list.setCurrentItem(item)
        self._filling = False
        self._fill_versions()
        if models:
            self.show_message(f"{len(models)} registered model(s)")
        else:
            self.show_message("no registered models yet: train a model of a theme first")
        self.sig_loaded.emit()

    def _load_failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self.title.setText("<b>Versions</b>")
        self.show_message(str(exc), error=True)
        self.sig_loaded.emit()

    def _fill_versions(self) -> None:
        model = self.model()
        previous = self.selected_version()
        keep = previous.version if previous and model and previous.name == model.name else None
        self.versions.setRowCount(0)
        if model is None:
            self.title.setText("<b>Versions</b>")
            self._update_actions()
            self._show_details()
            return
        self.title.setText(f"<b>Versions of {escape(model.name)}</b> (theme {escape(model.theme)})")
        # rows go in unsorted (best first), then the sort chosen by a header click, if any
        self.versions.setSortingEnabled(False)
        self.versions.setRowCount(len(model.versions))
        bold = QFont()
        bold.setBold(True)
        for row, version in enumerate(model.versions):
            created = datetime.fromtimestamp(version.created_ms / 1000).strftime("%Y-%m-%d %H:%M")
            first = _cell(f"v{version.version}", key=_number(version.version))
            first.setData(Qt.ItemDataRole.UserRole, version.version)
            marks = [f"@{a}" for a in version.aliases]
            best = version.version == model.best_version
            if best:
                marks.insert(0, "★ best")
                first.setToolTip(f"the best registered version by {model.metric}")
            # sorted by mark: the best first, then aliased versions, then the others
            badges = _cell(" ".join(marks), key=(0 if best else 1 if marks else 2, " ".join(marks)))
            if marks:
                badges.setForeground(QColor(status_colour("ok" if best else "info")))
            cells = [first, _cell(created, key=version.created_ms), badges]
            for metric in METRICS:
                value = version_metric(version.metrics, metric)
                text = "" if value is None else f"{value:.4f}"
                cells.append(_cell(text, align_right=True, key=value))
            run = _cell(version.run_id[:12])
            run.setToolTip(plain_rich(f"run {version.run_id}, experiment {version.experiment_id}"))
            cells += [_cell(version.status.lower()), run]
            for column, cell in enumerate(cells):
                if best:
                    cell.setFont(bold)
                self.versions.setItem(row, column, cell)
        self.versions.setSortingEnabled(True)
        self.select_version(keep or model.versions[0].version if model.versions else "")
        self._update_actions()
        self._show_details()

    def _model_clicked(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if self._filling or item is None:
            return
        self.current_model = item.data(Qt.ItemDataRole.UserRole)
        self._fill_versions()
        self.sig_model_selected.emit(self.current_model)

    def _version_changed(self) -> None:
        self._update_actions()
        self._show_details()

    def _show_details(self) -> None:
        chosen = self.selected_version()
        if chosen is None:
            self.details.setText("<i>no version selected</i>")
            return
        created = datetime.fromtimestamp(chosen.created_ms / 1000).strftime("%Y-%m-%d %H:%M:%S")
        rows = [
            ("model", f"{chosen.name} v{chosen.version}"),
            ("aliases", " ".join(f"@{a}" for a in chosen.aliases) or "–"),
            ("created", created),
            ("status", chosen.status.lower()),
            ("source run", chosen.run_id),
            ("experiment", chosen.experiment_id or "(run deleted)"),
        ]
        rows += [(k, f"{v:.4g}") for k, v in sorted(chosen.metrics.items()) if k not in HIDDEN]
        self.details.setText(
            "<table cellspacing='2'>"
            + "".join(
                f"<tr><td><b>{k}</b>&nbsp;</td><td>{escape(str(v))}</td></tr>" for k, v in rows
            )
            + "</table>"
        )

    def _update_actions(self) -> None:
        chosen = self.selected_version()
        for button in (self.alias_button, self.export_button):
            button.setEnabled(chosen is not None)
        self.export_button.setEnabled(chosen is not None and not self.export_busy.busy)
        self.predict_files_button.setEnabled(chosen is not None and not self.predict_busy.busy)
        self.reproducer.set_available(chosen is not None)
        self.unalias_button.setEnabled(chosen is not None and bool(chosen.aliases))
        self.open_button.setEnabled(self.model() is not None)
        if chosen is None:
            self.drop_hint.setText("Drop image files here to predict (select a version first)")
        else:
            aliases = "".join(f" @{a}" for a in chosen.aliases)
            self.drop_hint.setText(
                f"Drop image files or folders here to predict with {chosen.name} "
                f"v{chosen.version}{aliases} (top {TOP_K} classes)"
            )

    def _style_drop_hint(self) -> None:
        """A dashed frame in the palette's colours, set again when the palette changes (a
        style sheet's ``palette(text)`` keeps the colour of the palette it was set in)."""
        border = muted_colour()
        sheet = (
            f"QLabel {{ border: 2px dashed {border}; border-radius: 6px; padding: 10px;"
            f" color: {text_colour()}; }}"
        )
        if self.drop_hint.styleSheet() != sheet:  # setting it changes the palette again
            self.drop_hint.setStyleSheet(sheet)

    # --- registry changes ------------------------------------------------------------
    def _registry_change(self, action: Callable[[], Any], success: str, alias: tuple) -> None:
        def done(_result: Any) -> None:
            if self._closed:
                return
            self.show_message(success)
            self.sig_alias_changed.emit(*alias)
            self.reload()

        self.show_message("updating the registry …")
        run_in_background(action, done, self._failed)

    def _ask_alias(self) -> None:
        alias, ok = QInputDialog.getText(self, "Set alias", "Alias for the selected version:")
        if ok and alias.strip():
            self.set_alias(alias)

    def _fill_unalias_menu(self) -> None:
        self.unalias_menu.clear()
        chosen = self.selected_version()
        for alias in chosen.aliases if chosen else ():
            self.unalias_menu.addAction(f"@{alias}", lambda a=alias: self.remove_alias(a))

    # --- MLflow server ---------------------------------------------------------------
    def _server_started(self, url: str, server: MlflowServer | None = None) -> None:
        if server is not None and server is not self.server:
            # cancelled while it started: it answered anyway, and is not wanted
            run_in_background(server.stop, lambda _r: None, lambda _e: None)
            return
        self._server_starting = False
        self.server_busy.finish()
        if self._closed:
            return
        self.show_message(f"MLflow server: {url}")
        pending, self._pending_urls = self._pending_urls, []
        for make_url in pending:
            self._open(make_url(url))

    def _server_failed(self, exc: BaseException, server: MlflowServer | None = None) -> None:
        if server is not None and server is not self.server:
            return  # the cancel stopped it: already said
        self.server_busy.finish()
        self._server_starting = False
        self._pending_urls.clear()
        self._failed(exc)

    def _open(self, url: str) -> None:
        self.open_url(QUrl(url))
        self.show_message(f"opened {url} in the browser")
        self.sig_url_opened.emit(url)

    # --- drop ------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.predict(paths)

    # --- messages --------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        self._message_error = error
        self.message.setStyleSheet(f"color: {status_colour('error' if error else 'ok')};")
        self.message.setText(text)

    def _restyle(self) -> None:
        """Palette changed: the coloured message and badges again."""
        self.show_message(self.message.text(), self._message_error)
        self._fill_versions()

    def _failed(self, exc: BaseException) -> None:
        if not self._closed:
            self.show_message(str(exc), error=True)

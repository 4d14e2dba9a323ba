"""The Tuning panel: the workspace's Optuna studies with their best values, the trials of
one study (state, value, duration, parameters), its optimisation history, parameter
importance and parallel coordinates; apply its best parameters in the editor or stop it
after the current trial. Everything is read from optuna.db off the GUI thread and read
again every few seconds while a study runs."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.tuning.model import (
    TrialsModel,
    TrialsSortProxy,
    format_value,
)
from cockpit.panels.tuning.plots import (
    HistoryPlot,
    ImportancePlot,
    LearningCurvesPlot,
    ParallelCoordinatesPlot,
)
from cockpit.richtext import escaped, plain
from cockpit.theme_colors import follow_palette, status_colour
from cockpit.workers import run_in_background
from core.errors import CockpitError
from core.workspace import Workspace

STUDY_COLUMNS = [
    "Study",
    "Theme",
    "Objective",
    "Complete",
    "Pruned",
    "Failed",
    "Running",
    "Best value",
    "Best trial",
    "Started",
    "Updated",
]
RUNNING_REFRESH_MS = 3_000
IDLE_REFRESH_MS = 15_000
NO_STUDIES = (
    "No tuning study in this workspace yet: queue one with “Add tune job…” in the Configure "
    "tab or with <code>cockpit submit tune --theme NAME</code>."
)


@dataclass(frozen=True)
class _Loaded:
    studies: list[Any]  # StudySummary
    chosen: str | None
    details: Any | None  # StudyDetails; None when the shown one is still current
    changed: bool


def _signature(summary: Any) -> tuple | None:
    """What must change before a study's details are read again (always while it runs:
    durations grow)."""
    if summary is None or summary.running:
        return None
    return (summary.name, summary.last_update, tuple(summary.counts.items()), summary.stopping)


def _load(workspace: Workspace, wanted: str | None, shown: tuple | None) -> _Loaded:
    from core.tuning.results import list_studies, load_study_details

    studies = list_studies(workspace)
    names = [s.name for s in studies]
    chosen = wanted if wanted in names else (names[0] if names else None)
    if chosen is None:
        return _Loaded(studies, None, None, True)
    summary = studies[names.index(chosen)]
    if shown is not None and _signature(summary) == shown:
        return _Loaded(studies, chosen, None, False)
    return _Loaded(studies, chosen, load_study_details(workspace, chosen), True)


def _message(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, CockpitError) else f"{type(exc).__name__}: {exc}"


def _moment(value: Any) -> str:
    return f"{value:%m-%d %H:%M}" if value is not None else "–"


def _objective(summary: Any) -> str:
    arrow = "↑" if summary.direction == "maximize" else "↓"
    return f"{summary.metric or 'value'} {arrow}"


class TuningPanel(QWidget):
    sig_apply_params = Signal(dict, str)  # the best trial's parameters, its theme
    sig_open_run_requested = Signal(str)  # an MLflow run id: the parent or best trial's run
    sig_loaded = Signal()  # after every load (the first one included)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.studies: list[Any] = []
        self.details: Any | None = None
        self._wanted: str | None = None
        self._loading = False
        self._reload_again = False
        self._closed = False
        self._error_shown = False

        self.status = plain(QLabel())
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("read the studies again (F5)")
        self.reload_button.clicked.connect(self.reload)
        self.apply_button = QPushButton("Apply best params")
        self.apply_button.setToolTip(
            "Open the configuration editor with every parameter of the best trial"
        )
        self.apply_button.clicked.connect(self._apply_best)
        self.stop_button = QPushButton("Stop study")
        self.stop_button.setToolTip(
            "The running trials finish, then the study ends and registers its best trial"
        )
        self.stop_button.clicked.connect(self._stop_study)
        self.mlflow_button = QToolButton(text="Open in MLflow")
        self.mlflow_button.setToolTip("the study's parent run or best trial in the MLflow UI")
        self.mlflow_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        runs_menu = QMenu(self.mlflow_button)
        self.parent_run_action = runs_menu.addAction("The study's parent run")
        self.parent_run_action.triggered.connect(lambda: self._open_run("parent_run_id"))
        self.best_run_action = runs_menu.addAction("The best trial's run")
        self.best_run_action.triggered.connect(lambda: self._open_run("best_run_id"))
        self.mlflow_button.setMenu(runs_menu)
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>Tuning</b>"))
        header.addWidget(self.status, 1)
        header.addWidget(self.reload_button)
        header.addWidget(self.apply_button)
        header.addWidget(self.stop_button)
        header.addWidget(self.mlflow_button)

        self.studies_table = QTableWidget(0, len(STUDY_COLUMNS))
        self.studies_table.setHorizontalHeaderLabels(STUDY_COLUMNS)
        self.studies_table.verticalHeader().hide()
        self.studies_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.studies_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.studies_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.studies_table.horizontalHeader().setStretchLastSection(True)
        self.studies_table.itemSelectionChanged.connect(self._study_clicked)
        studies_box = QWidget()
        studies_layout = QVBoxLayout(studies_box)
        studies_layout.setContentsMargins(0, 0, 0, 0)
        studies_layout.addWidget(QLabel("<b>Studies</b> (optuna.db)"))
        studies_layout.addWidget(self.studies_table, 1)

        self.trials_model = TrialsModel(self)
        self.trials_proxy = TrialsSortProxy(self)
        self.trials_proxy.setSourceModel(self.trials_model)
        self.trials_view = QTableView()
        self.trials_view.setModel(self.trials_proxy)
        self.trials_view.setSortingEnabled(True)
        self.trials_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.trials_view.verticalHeader().hide()
        self.trials_view.setAlternatingRowColors(True)
        self.trials_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.trials_view.horizontalHeader().setStretchLastSection(True)
        self.trials_view.horizontalHeader().setResizeContentsPrecision(200)  # rows to measure
        self.trials_title = QLabel("<b>Trials</b>")
        self.trials_title.setWordWrap(True)
        trials_box = QWidget()
        trials_layout = QVBoxLayout(trials_box)
        trials_layout.setContentsMargins(0, 0, 0, 0)
        trials_layout.addWidget(self.trials_title)
        trials_layout.addWidget(self.trials_view, 1)

        self.history_plot = HistoryPlot()
        self.curves_plot = LearningCurvesPlot()
        self.importance_plot = ImportancePlot()
        self.parallel_plot = ParallelCoordinatesPlot()
        self.plots = (self.history_plot, self.curves_plot, self.importance_plot, self.parallel_plot)
        plots_box = QWidget()
        plots = QGridLayout(plots_box)
        plots.setContentsMargins(0, 0, 0, 0)
        plots.addWidget(self.history_plot, 0, 0)
        plots.addWidget(self.curves_plot, 0, 1)
        plots.addWidget(self.importance_plot, 1, 0)
        plots.addWidget(self.parallel_plot, 1, 1)
        plots.setRowStretch(0, 1)
        plots.setRowStretch(1, 1)
        plots.setColumnStretch(0, 1)
        plots.setColumnStretch(1, 1)
        self.selected_trial: int | None = None
        self._details_study: str | None = None
        self.trials_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.trials_view.selectionModel().selectionChanged.connect(self._trial_row_selected)
        self.history_plot.sig_trial_clicked.connect(self.select_trial)

        lower = QSplitter()
        lower.addWidget(trials_box)
        lower.addWidget(plots_box)
        lower.setStretchFactor(1, 3)
        lower.setSizes([420, 840])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(studies_box)
        splitter.addWidget(lower)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([110, 690])
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(splitter, 1)

        self._refresh = QTimer(self, singleShot=True)
        self._refresh.timeout.connect(self._refresh_if_visible)
        self._update_buttons()
        follow_palette(self, self._restyle)
        QTimer.singleShot(0, self.reload)

    # --- public API ----------------------------------------------------------------------
    @property
    def current_study(self) -> str | None:
        return self.details.summary.name if self.details is not None else None

    def select_trial(self, number: int | None) -> None:
        """Select trial ``number`` in the table and mark it in every plot."""
        self.selected_trial = number
        for plot in self.plots:
            plot.highlight(number)
        row = None if number is None else self.trials_model.row_of(number)
        view = self.trials_view
        if row is None:
            view.clearSelection()
            return
        index = self.trials_proxy.mapFromSource(self.trials_model.index(row, 0))
        if view.selectionModel().selectedRows() != [index]:
            view.selectRow(index.row())
        view.scrollTo(index)

    def show_study(self, name: str) -> None:
        """Select study ``name`` (loaded in the background)."""
        self._wanted = name
        self.reload()

    def reload(self) -> None:
        if self._closed:
            return
        if self._loading:
            self._reload_again = True
            return
        self._loading = True
        self.reload_button.setEnabled(False)
        workspace, wanted = self.workspace, self._wanted or self.current_study
        shown = None
        if self.details is not None and self.details.summary.name == wanted:
            shown = _signature(self.details.summary)
        run_in_background(lambda: _load(workspace, wanted, shown), self._loaded, self._failed)

    def shutdown(self) -> None:
        """No more reads: the refresh timer stops and late results are dropped."""
        self._closed = True
        self._refresh.stop()

    # --- loading ---------------------------------------------------------------------------
    def _refresh_if_visible(self) -> None:
        if self.isVisible():
            self.reload()
        else:
            self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if self._closed:
            return
        running = any(s.running for s in self.studies)
        self._refresh.start(RUNNING_REFRESH_MS if running else IDLE_REFRESH_MS)

    def _finish(self) -> None:
        self._loading = False
        self.reload_button.setEnabled(True)
        self._update_buttons()
        if self._reload_again:
            self._reload_again = False
            self.reload()
            return
        self._schedule_refresh()
        self.sig_loaded.emit()

    def _failed(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._say(_message(exc), error=True)
        self._finish()

    def _loaded(self, loaded: _Loaded) -> None:
        if self._closed:
            return
        self.studies = loaded.studies
        if loaded.changed:
            self.details = loaded.details
        elif self.details is not None:
            summary = next(s for s in loaded.studies if s.name == loaded.chosen)
            self.details = replace(self.details, summary=summary)
        self._wanted = loaded.chosen
        try:
            self._fill_studies()
            if loaded.changed:
                self._fill_details()
            if not self.studies:
                self._say(NO_STUDIES)
            elif self.status.text() == NO_STUDIES or self._error_shown:
                self._say("")  # what went wrong before is over
        except Exception as exc:  # a view that cannot draw must not leave the panel loading
            self._say(_message(exc), error=True)
        finally:
            self._finish()

    # --- views -----------------------------------------------------------------------------
    def _say(self, text: str, error: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("color: #c62828;" if error else "")
        self._error_shown = error

    def _fill_studies(self) -> None:
        table = self.studies_table
        table.blockSignals(True)
        table.setRowCount(len(self.studies))
        selected = None
        for row, s in enumerate(self.studies):
            running = str(s.counts["running"]) + (" (stopping)" if s.stopping else "")
            cells = [
                s.name,
                s.theme or "–",
                _objective(s),
                str(s.counts["complete"]),
                str(s.counts["pruned"]),
                str(s.counts["fail"]),
                running,
                format_value(s.best_value),
                "–" if s.best_trial is None else str(s.best_trial),
                _moment(s.started),
                _moment(s.last_update),
            ]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if 3 <= column <= 8:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                table.setItem(row, column, item)
            if s.running:
                table.item(row, 6).setForeground(QColor(status_colour("running")))
            if s.counts["fail"]:
                table.item(row, 5).setForeground(QColor(status_colour("fail")))
            if s.name == self._wanted:
                selected = row
        if selected is not None:
            table.selectRow(selected)
        table.blockSignals(False)
        header = table.horizontalHeader()
        for column in range(len(STUDY_COLUMNS) - 1):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)

    def _fill_details(self) -> None:
        details = self.details
        columns = self.trials_model.params
        self.trials_model.set_details(details)
        if details is None:
            self.trials_title.setText("<b>Trials</b>")
        else:
            s = details.summary
            counts = ", ".join(f"{n} {state}" for state, n in s.counts.items() if n)
            self.trials_title.setText(
                f"<b>Trials of {escaped(s.name)}</b> &nbsp; theme {escaped(s.theme or '–')} · "
                f"{_objective(s)} · "
                f"{counts or 'no trials'}"
            )
        if self.trials_model.params != columns or self.trials_model.rowCount() <= 50:
            self.trials_view.resizeColumnsToContents()  # not on every refresh of a long study
        study = details.summary.name if details is not None else None
        if (
            study != self._details_study
            or self.selected_trial is None
            or self.trials_model.row_of(self.selected_trial) is None
        ):
            self.selected_trial = None  # another study, or its trial is gone
        self._details_study = study
        for plot in self.plots:
            plot.selected = self.selected_trial
            plot.show_details(details)
        self.select_trial(self.selected_trial)

    def _trial_row_selected(self, *_args: Any) -> None:
        rows = self.trials_view.selectionModel().selectedRows()
        if not rows:
            return
        row = self.trials_proxy.mapToSource(rows[0]).row()
        number = self.trials_model.trials[row].number
        if number != self.selected_trial:
            self.select_trial(number)

    def _restyle(self) -> None:
        """Palette changed: the plots' texts and marks again."""
        if not self._loading:
            self._fill_studies()
            self._fill_details()

    def _open_run(self, which: str) -> None:
        summary = self.details.summary if self.details is not None else None
        run_id = getattr(summary, which, None) if summary is not None else None
        if run_id:
            self.sig_open_run_requested.emit(run_id)

    def _update_buttons(self) -> None:
        summary = self.details.summary if self.details is not None else None
        self.parent_run_action.setEnabled(summary is not None and bool(summary.parent_run_id))
        self.best_run_action.setEnabled(summary is not None and bool(summary.best_run_id))
        self.mlflow_button.setEnabled(summary is not None and bool(summary.parent_run_id))
        if summary is not None and summary.parent_run_id:
            self.mlflow_button.setToolTip(
                f"parent run {summary.parent_run_id}\nbest trial's run {summary.best_run_id or '-'}"
            )
        self.apply_button.setEnabled(summary is not None and summary.best_trial is not None)
        self.stop_button.setEnabled(
            summary is not None and summary.running and not summary.stopping
        )
        if summary is not None and summary.stopping:
            self.stop_button.setText("Stopping…")
        else:
            self.stop_button.setText("Stop study")

    def _study_clicked(self) -> None:
        rows = self.studies_table.selectionModel().selectedRows()
        if rows:
            self.show_study(self.studies_table.item(rows[0].row(), 0).text())

    # --- actions ---------------------------------------------------------------------------
    def _apply_best(self) -> None:
        from core.tuning.results import best_trial

        name, workspace = self.current_study, self.workspace
        if name is None:
            return
        self.apply_button.setEnabled(False)
        run_in_background(
            lambda: best_trial(workspace, name), self._best_loaded, self._failed_action
        )

    def _best_loaded(self, best: Any) -> None:
        if self._closed:
            return
        self._update_buttons()
        self._say(
            f"best parameters of {best.study_name} (trial {best.number}, value "
            f"{format_value(best.value)}) sent to the configuration editor"
        )
        self.sig_apply_params.emit(dict(best.params), best.theme or "")

    def _stop_study(self) -> None:
        from core.tuning.control import request_stop

        name, workspace = self.current_study, self.workspace
        if name is None:
            return
        self.stop_button.setEnabled(False)
        run_in_background(
            lambda: request_stop(workspace, name), self._stop_sent, self._failed_action
        )

    def _stop_sent(self, request: Any) -> None:
        if self._closed:
            return
        trials = ", ".join(str(n) for n in request.running_trials) or "none running"
        self._say(f"stop requested: {request.study_name} ends after its current trial ({trials})")
        self.reload()

    def _failed_action(self, exc: BaseException) -> None:
        if self._closed:
            return
        self._update_buttons()
        self._say(_message(exc), error=True)

"""History: every ended job and experiment, searchable, filterable and sortable by any
column; compare runs (curves, parameter differences, confusion matrices); queue a run
again with edits; open its folder; render its plots; delete it everywhere.

Every action calls the core functions ``cockpit history`` uses, off the GUI thread."""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, QSignalBlocker, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QDoubleValidator
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.history.compare import CompareView, CompareWindow
from cockpit.panels.history.gallery import PlotGallery, read_images
from cockpit.panels.history.model import (
    COLUMNS,
    EntryRole,
    HistoryProxy,
    HistoryTreeModel,
    format_value,
)
from cockpit.panels.models.cli_process import CliProcesses
from cockpit.panels.models.reproduction import Reproducer
from cockpit.richtext import plain, plain_rich
from cockpit.workers import run_in_background
from core.history import (
    ASSIST_KINDS,
    METRICS,
    STATUSES,
    HistoryEntry,
    HistoryFilter,
    differing_param_keys,
    format_count,
    format_duration,
    format_metric,
    matches,
)
from core.workspace import Workspace

ANY_DATE = QDate(2000, 1, 1)
REFRESH_MS = 3000
PLOT_POLL_MS = 1000
KIND_CHOICES = (
    ("training && tuning", ("train", "tune")),
    ("suggestions && label issues", ("suggest", "label_issues")),
    ("all runs", ()),
)


def _no_job(entry: HistoryEntry) -> str:
    """What made a row no job made; a suggestion or finder run is named by its row id."""
    if entry.kind in ASSIST_KINDS:
        return f"(run in the foreground: {entry.origin})"
    return "(trained in the foreground)"


def _load(workspace: Workspace) -> dict[str, Any]:
    from core.history import history_signature, list_entries

    return {"signature": history_signature(workspace), "entries": list_entries(workspace)}


def _signature(workspace: Workspace) -> tuple:
    from core.history import history_signature

    return history_signature(workspace)


def _details(workspace: Workspace, entry: HistoryEntry) -> dict[str, Any]:
    from core.history import entry_params, plot_images

    images = plot_images(workspace, entry.experiment_id) if entry.experiment_id else []
    return {"params": entry_params(workspace, entry), "images": read_images(images)}


class HistoryPanel(QWidget):
    sig_requeue_requested = Signal(dict, str)  # parameters, theme
    sig_open_run_requested = Signal(str)  # MLflow run id
    sig_loaded = Signal()
    sig_columns_changed = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.entries: list[HistoryEntry] = []
        self._signature: tuple | None = None
        self._closing = False
        self._refreshing = False
        self._plot_job: str | None = None
        # moves each time a plot job puts its images in the gallery: details read before
        # then (a slow read that ends after the job) do not replace them
        self._gallery_version = 0
        self._polling = False
        self._details_for: str | None = None
        self._build()
        self._refresh_timer = QTimer(self, interval=REFRESH_MS)
        self._refresh_timer.timeout.connect(self._check_for_changes)
        self._refresh_timer.start()
        self._plot_timer = QTimer(self, interval=PLOT_POLL_MS)
        self._plot_timer.timeout.connect(self._poll_plot_job)
        self.reload()

    # --- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.search = QLineEdit(placeholderText="search runs")
        self.search.setToolTip("words that must all appear in the id, theme, model, status…")
        self.search.setClearButtonEnabled(True)
        self.theme_filter = QComboBox()
        self.model_filter = QComboBox()
        for combo in (self.theme_filter, self.model_filter):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.status_filter = QComboBox()
        self.status_filter.addItem("any status", None)
        for status in STATUSES:
            self.status_filter.addItem(status, status)
        self.kind_filter = QComboBox()
        for text, kinds in KIND_CHOICES:
            self.kind_filter.addItem(text.replace("&&", "&"), kinds)
        self.date_from = self._date_edit("started from")
        self.date_to = self._date_edit("started until (inclusive)")
        self.metric_choice = QComboBox()
        for metric in METRICS:
            self.metric_choice.addItem(metric.replace("_", " "), metric)
        self.metric_choice.setCurrentIndex(METRICS.index("test_acc"))
        self.metric_min = QLineEdit(placeholderText="min")
        self.metric_max = QLineEdit(placeholderText="max")
        for edit in (self.metric_min, self.metric_max):
            edit.setValidator(QDoubleValidator(edit))
            edit.setMaximumWidth(70)
        clear = QPushButton("Clear filters")
        clear.setToolTip("show every run again")
        clear.clicked.connect(self.clear_filters)
        self.search.textChanged.connect(self.apply_filters)
        for combo in (self.theme_filter, self.model_filter, self.status_filter, self.kind_filter):
            combo.currentIndexChanged.connect(self.apply_filters)
        self.metric_choice.currentIndexChanged.connect(self.apply_filters)
        for edit in (self.metric_min, self.metric_max):
            edit.textChanged.connect(self.apply_filters)
        for date in (self.date_from, self.date_to):
            date.dateChanged.connect(self.apply_filters)

        filters = QHBoxLayout()
        filters.addWidget(self.search, 2)
        for widget in (self.theme_filter, self.model_filter, self.status_filter, self.kind_filter):
            filters.addWidget(widget)
        filters.addWidget(QLabel("from"))
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("to"))
        filters.addWidget(self.date_to)
        filters.addWidget(self.metric_choice)
        filters.addWidget(self.metric_min)
        filters.addWidget(self.metric_max)
        filters.addWidget(clear)

        self.model = HistoryTreeModel(self)
        self.proxy = HistoryProxy(self)
        self.proxy.setSourceModel(self.model)
        # parameter columns: None = those that differ among the runs; else the user's
        self.chosen_params: list[str] | None = None
        self.table = QTreeView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(COLUMNS.index(("Started", "started")), Qt.SortOrder.DescendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setUniformRowHeights(True)
        self.table.setToolTip("a study's trials are nested under its tune job")
        header = self.table.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(False)
        header.setSectionsMovable(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _index: self.compare_selected())

        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("curves, parameters and confusion matrices of 2+ runs")
        self.compare_button.clicked.connect(self.compare_selected)
        self.requeue_button = QPushButton("Requeue with edits…")
        self.requeue_button.setToolTip("open this run's parameters in the configuration editor")
        self.requeue_button.clicked.connect(self.requeue_selected)
        self.folder_button = QPushButton("Open output folder")
        self.folder_button.setToolTip(
            "the run's folder (checkpoints, plots, logs) in the file manager"
        )
        self.folder_button.clicked.connect(self.open_output_folder)
        self.mlflow_button = QPushButton("Open in MLflow")
        self.mlflow_button.setToolTip("this run in the MLflow UI (a local server on 127.0.0.1)")
        self.mlflow_button.clicked.connect(self.open_in_mlflow)
        self.plot_button = QPushButton("Plot")
        self.plot_button.setToolTip("queue a plot job: sample grid, augmentations, curves…")
        self.plot_button.clicked.connect(self.plot_selected)
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("database rows, queue files and logs, MLflow run, folder")
        self.delete_button.clicked.connect(self.delete_selected)
        self.processes = CliProcesses(self.workspace, self)
        self.reproducer = Reproducer(
            self.processes, lambda text, error: self.show_message(text, error), self
        )
        self.reproducer.button.clicked.connect(lambda: self.reproduce_selected())
        self.sig_reproduced = self.reproducer.sig_finished
        self.reproduce_button = self.reproducer.button
        self.cancel_reproduce_button = self.reproducer.cancel_button
        self.count = QLabel()
        actions = QHBoxLayout()
        actions.addWidget(self.count, 1)
        for button in (
            self.compare_button,
            self.requeue_button,
            self.folder_button,
            self.mlflow_button,
            self.plot_button,
            self.reproduce_button,
            self.cancel_reproduce_button,
            self.delete_button,
        ):
            actions.addWidget(button)

        self.details = QTextBrowser()
        self.details.setOpenExternalLinks(False)
        self.details.setHtml("<i>select a run</i>")
        # Compare opens full size in its own window (plots, matrices side by side, diff)
        self.compare_window = CompareWindow(self)
        self.compare_view: CompareView = self.compare_window.view
        self.gallery = PlotGallery()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.details, "Details")
        self.tabs.addTab(self.gallery, "Plots")

        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table, 1)
        table_layout.addLayout(actions)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(table_box)
        splitter.addWidget(self.tabs)
        splitter.setSizes([460, 320])  # the runs first; details below

        self.message = plain(QLabel())
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        self._update_buttons()

    def _date_edit(self, tip: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(ANY_DATE)
        edit.setSpecialValueText("any")
        edit.setDate(ANY_DATE)
        edit.setToolTip(tip)
        return edit

    # --- loading -----------------------------------------------------------------------------
    def reload(self) -> None:
        workspace = self.workspace
        self._refreshing = True
        run_in_background(lambda: _load(workspace), self._show_entries, self._load_failed)

    def shutdown(self) -> None:
        """Stop polling before the window goes; running background reads finish first."""
        from PySide6.QtCore import QThreadPool

        self._closing = True
        self.compare_window.close()
        self.reproducer.closed = True
        self.processes.kill_all()
        self._refresh_timer.stop()
        self._plot_timer.stop()
        QThreadPool.globalInstance().waitForDone(10_000)

    def _load_failed(self, exc: BaseException) -> None:
        self._refreshing = False
        if self._closing:
            return
        self.show_message(str(exc), error=True)
        self.sig_loaded.emit()

    def _show_entries(self, data: dict[str, Any]) -> None:
        self._refreshing = False
        if self._closing:
            return
        first = self._signature is None
        self._signature = data["signature"]
        selected = {e.id for e in self.selected_entries()}
        self.entries = data["entries"]
        self.model.set_entries(self.entries)
        self.table.expandAll()  # before the columns are fitted: the trials count too
        self._update_param_columns()
        self._fill_choice(self.theme_filter, "any theme", {e.theme for e in self.entries})
        self._fill_choice(self.model_filter, "any model", {e.model for e in self.entries})
        self._restore_selection(selected)
        if first:  # later reloads keep the widths a user gave the columns
            self._fit_columns(range(self.model.columnCount()))
        self._update_count()
        self._update_buttons()
        self.sig_loaded.emit()

    def _fill_choice(self, combo: QComboBox, any_text: str, values: set[str | None]) -> None:
        current = combo.currentData()
        with QSignalBlocker(combo):
            combo.clear()
            combo.addItem(any_text, None)
            for value in sorted(v for v in values if v):
                combo.addItem(value, value)
            index = combo.findData(current)
            combo.setCurrentIndex(max(0, index))

    def _restore_selection(self, ids: set[str]) -> None:
        if not ids:
            return
        selection = self.table.selectionModel()
        for index in self.shown_indexes():
            if index.data(EntryRole).id in ids:
                selection.select(
                    index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows
                )

    def shown_indexes(self) -> list[Any]:
        """Column-0 indexes of every row the filters let through, children after parents."""
        found = []
        for row in range(self.proxy.rowCount()):
            parent = self.proxy.index(row, 0)
            found.append(parent)
            found.extend(self.proxy.index(r, 0, parent) for r in range(self.proxy.rowCount(parent)))
        return found

    def shown_entries(self) -> list[HistoryEntry]:
        return [index.data(EntryRole) for index in self.shown_indexes()]

    # --- columns -----------------------------------------------------------------------------
    def _fit_columns(self, columns: Any) -> None:
        self.table.doItemsLayout()  # the expanded trials' rows count too
        for column in columns:
            self.table.resizeColumnToContents(column)
            # a long name or error never pushes the metrics off the screen
            width = min(self.table.columnWidth(column), 260)
            self.table.setColumnWidth(column, max(width, 48))

    def _update_param_columns(self) -> None:
        """The parameter columns: the user's choice, else those that differ among the
        runs the filters show."""
        if self.chosen_params is not None:
            keys = list(self.chosen_params)
        else:
            keys = differing_param_keys(self.shown_entries() or self.entries)
        before = self.model.columnCount()
        if keys == self.model.param_keys:
            return
        self.model.set_param_keys(keys)
        self._fit_columns(range(len(COLUMNS), self.model.columnCount()))
        # shown right after the name, where they tell the runs apart
        header = self.table.header()
        name_at = header.visualIndex(COLUMNS.index(("Name", "name")))
        for offset, column in enumerate(range(len(COLUMNS), self.model.columnCount())):
            header.moveSection(header.visualIndex(column), name_at + 1 + offset)
        if self.model.columnCount() != before:
            self.sig_columns_changed.emit()

    def param_keys_known(self) -> list[str]:
        return sorted({k for e in self.entries for k in e.params if k != "run_name"})

    def set_param_columns(self, keys: list[str] | None) -> None:
        """Show these parameter columns (None: those that differ among the shown runs)."""
        self.chosen_params = None if keys is None else list(keys)
        self._update_param_columns()

    def toggle_param_column(self, key: str, shown: bool) -> None:
        keys = list(self.model.param_keys)
        if shown and key not in keys:
            keys.append(key)
        elif not shown and key in keys:
            keys.remove(key)
        self.set_param_columns(keys)

    def header_menu(self) -> QMenu:
        """The header's context menu: fixed columns to hide or show, parameter columns to
        add or remove, and back to "parameters that differ"."""
        menu = QMenu(self)
        header = self.table.header()
        for column, (title, _key) in enumerate(COLUMNS):
            action = menu.addAction(title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(
                lambda on, c=column: self.table.header().setSectionHidden(c, not on)
            )
        params = menu.addMenu("Parameters")
        automatic = params.addAction("Those that differ (automatic)")
        automatic.setCheckable(True)
        automatic.setChecked(self.chosen_params is None)
        automatic.triggered.connect(lambda: self.set_param_columns(None))
        params.addSeparator()
        for key in self.param_keys_known():
            action = params.addAction(key)
            action.setCheckable(True)
            action.setChecked(key in self.model.param_keys)
            action.toggled.connect(lambda on, k=key: self.toggle_param_column(k, on))
        return menu

    def _header_menu(self, position: Any) -> None:
        menu = self.header_menu()
        menu.exec(self.table.header().mapToGlobal(position))

    def _check_for_changes(self) -> None:
        if self._refreshing or self._closing:
            return
        workspace = self.workspace

        def compare(signature: tuple) -> None:
            if not self._closing and signature != self._signature and not self._refreshing:
                self.reload()

        run_in_background(lambda: _signature(workspace), compare, lambda _exc: None)

    # --- filters -----------------------------------------------------------------------------
    def current_filter(self) -> HistoryFilter:
        def bound(edit: QLineEdit) -> float | None:
            text = edit.text().strip().replace(",", ".")
            try:
                return float(text) if text else None
            except ValueError:
                return None

        def day(edit: QDateEdit, end: bool) -> float | None:
            date = edit.date()
            if date == ANY_DATE:
                return None
            moment = dt.datetime(date.year(), date.month(), date.day())
            return (moment + dt.timedelta(days=1 if end else 0)).timestamp()

        low, high = bound(self.metric_min), bound(self.metric_max)
        ranges = (
            () if low is None and high is None else ((self.metric_choice.currentData(), low, high),)
        )
        status = self.status_filter.currentData()
        theme, model = self.theme_filter.currentData(), self.model_filter.currentData()
        return HistoryFilter(
            text=self.search.text().strip(),
            themes=(theme,) if theme else (),
            models=(model,) if model else (),
            statuses=(status,) if status else (),
            kinds=tuple(self.kind_filter.currentData() or ()),
            since=day(self.date_from, end=False),
            until=day(self.date_to, end=True),
            metric_ranges=ranges,
        )

    def apply_filters(self, *_args: Any) -> None:
        self.proxy.set_filter(self.current_filter())
        self.table.expandAll()
        if self.chosen_params is None:
            self._update_param_columns()
        self._update_count()
        self._update_buttons()

    def clear_filters(self) -> None:
        widgets = (self.search, self.metric_min, self.metric_max)
        combos = (self.theme_filter, self.model_filter, self.status_filter, self.kind_filter)
        blockers = [QSignalBlocker(w) for w in (*widgets, *combos, self.date_from, self.date_to)]
        for edit in widgets:
            edit.clear()
        for combo in combos:
            combo.setCurrentIndex(0)
        self.date_from.setDate(ANY_DATE)
        self.date_to.setDate(ANY_DATE)
        del blockers
        self.apply_filters()

    def _update_count(self) -> None:
        kinds = HistoryFilter(kinds=tuple(self.kind_filter.currentData() or ()))
        shown = self.proxy.rowCount()
        total = sum(1 for entry in self.model.top_entries() if matches(entry, kinds))
        self.count.setText(f"{shown} of {total} run(s)" if shown != total else f"{total} run(s)")

    # --- selection ---------------------------------------------------------------------------
    def selected_entries(self) -> list[HistoryEntry]:
        """The selected rows' entries, in the order they are shown."""
        chosen = {index.data(EntryRole).id for index in self.table.selectionModel().selectedRows()}
        return [e for e in self.shown_entries() if e.id in chosen]

    def select_ids(self, ids: list[str]) -> None:
        """Select the rows of these entry ids (what a user does by clicking)."""
        self.table.clearSelection()
        self._restore_selection(set(ids))

    def _selection_changed(self, *_args: Any) -> None:
        self._update_buttons()
        chosen = self.selected_entries()
        if len(chosen) == 1:
            self._show_details(chosen[0])

    def _update_buttons(self) -> None:
        chosen = self.selected_entries()
        trained = [e for e in chosen if e.kind == "train" and e.experiment_id]
        one = chosen[0] if len(chosen) == 1 else None
        self.compare_button.setEnabled(len(trained) >= 2)
        self.requeue_button.setEnabled(one is not None and one.kind in ("train", "tune"))
        self.folder_button.setEnabled(one is not None and bool(one.experiment_id))
        self.mlflow_button.setEnabled(one is not None and bool(one.run_id or one.parent_run_id))
        self.plot_button.setEnabled(
            one is not None and one.kind == "train" and one.status == "finished"
        )
        # a suggestion or finder run made in the foreground holds the theme's stored
        # results: not deleted from here (core.history.delete says why)
        self.delete_button.setEnabled(
            bool(chosen) and not any(e.kind in ASSIST_KINDS and not e.job_id for e in chosen)
        )
        self.reproducer.set_available(
            one is not None
            and one.kind == "train"
            and one.status == "finished"
            and bool(one.run_id)
        )

    def _show_details(self, entry: HistoryEntry) -> None:
        self._details_for = entry.id
        self.details.setHtml(self._details_html(entry, None))
        workspace = self.workspace
        gallery_version = self._gallery_version

        def done(data: dict[str, Any]) -> None:
            if self._closing or self._details_for != entry.id:
                return
            self.details.setHtml(self._details_html(entry, data["params"]))
            if self._plot_job is None and self._gallery_version == gallery_version:
                count = len(data["images"])
                self.gallery.show_images(
                    data["images"],
                    f"{count} plot(s) of experiment {entry.experiment_id}"
                    if count
                    else "no plots yet: press Plot to render them",
                )

        run_in_background(lambda: _details(workspace, entry), done, self._failed)

    def _details_html(self, entry: HistoryEntry, params: dict[str, Any] | None) -> str:
        rows = [
            ("Name", entry.name),
            ("Status", entry.status + (f" — {entry.error}" if entry.error else "")),
            ("Kind", entry.kind),
            ("Study", entry.study or ""),
            ("Trial", "" if entry.trial is None else str(entry.trial)),
            ("Best trial", "" if entry.best_trial is None else str(entry.best_trial)),
            ("Theme", entry.theme or ""),
            ("Model", entry.model or ""),
            ("Experiment", entry.experiment_id or ""),
            ("Job", entry.job_id or _no_job(entry)),
            ("MLflow run", entry.run_id or ""),
            ("Study's parent run", entry.parent_run_id or ""),
            ("Best trial's run", entry.best_run_id or ""),
            ("Started", format_value(entry, "started")),
            ("Duration", format_duration(entry.duration)),
            ("Epochs", format_value(entry, "epochs")),
        ]
        rows += [(k.replace("_", " "), format_metric(v)) for k, v in sorted(entry.metrics.items())]
        rows += [(k.replace("_", " "), format_count(v)) for k, v in entry.counts.items()]
        if entry.experiment_id:
            folder = self.workspace.experiment_dir(entry.experiment_id)
            rows.append(("Folder", self.workspace.relative(folder)))
        table = "".join(
            f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(str(v))}</td></tr>"
            for k, v in rows
            if v
        )
        if params is None:
            shown = "<i>loading parameters…</i>"
        else:
            shown = "".join(
                f"<tr><td>{html.escape(k)}</td><td>{html.escape(json.dumps(v))}</td></tr>"
                for k, v in sorted(params.items())
                if not (k == "run_name" and not v)  # an empty label says nothing
            )
        return (
            "<table width='100%'><tr><td valign='top' width='45%'>"
            f"<table cellspacing='4'>{table}</table></td><td valign='top'>"
            f"<b>Parameters</b><table cellspacing='2'>{shown}</table></td></tr></table>"
        )

    # --- actions -----------------------------------------------------------------------------
    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c62828;" if error else "color: #2e7d32;")
        self.message.setText(text)

    def _failed(self, exc: BaseException) -> None:
        if not self._closing:
            self.show_message(str(exc), error=True)

    def compare_selected(self) -> None:
        chosen = [e for e in self.selected_entries() if e.kind == "train" and e.experiment_id]
        if len(chosen) < 2:
            self.show_message("select two or more trained runs to compare", error=True)
            return
        from core.history import compare

        workspace, ids = self.workspace, [e.id for e in chosen]
        self.show_message(f"comparing {len(ids)} runs…")

        def done(result: Any) -> None:
            if self._closing:
                return
            self.compare_view.show_comparison(result)
            self.compare_window.present()
            self.show_message(f"compared {len(ids)} runs")

        run_in_background(lambda: compare(workspace, ids), done, self._failed)

    def requeue_selected(self) -> None:
        chosen = self.selected_entries()
        if len(chosen) != 1:
            return
        from core.history import requeue_params

        workspace, ident = self.workspace, chosen[0].id

        def done(result: tuple[dict, str]) -> None:
            params, theme = result
            self.show_message(f"parameters of {ident} sent to the configuration editor")
            self.sig_requeue_requested.emit(params, theme)

        run_in_background(lambda: requeue_params(workspace, ident), done, self._failed)

    def output_folder(self) -> Path | None:
        chosen = self.selected_entries()
        if len(chosen) != 1 or not chosen[0].experiment_id:
            return None
        return self.workspace.experiment_dir(chosen[0].experiment_id)

    def open_output_folder(self) -> None:
        folder = self.output_folder()
        if folder is None or not folder.is_dir():
            self.show_message("this run has no output folder (it never started)", error=True)
            return
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def open_in_mlflow(self) -> None:
        chosen = self.selected_entries()
        if len(chosen) == 1 and (chosen[0].run_id or chosen[0].parent_run_id):
            # a tune job's row opens its study's parent run
            self.sig_open_run_requested.emit(chosen[0].run_id or chosen[0].parent_run_id)

    def reproduce_selected(self) -> None:
        """Retrain the selected finished training from its record (``cockpit reproduce
        --run``) as a separate, unregistered run and compare its metrics."""
        chosen = self.selected_entries()
        if len(chosen) != 1 or not chosen[0].run_id:
            self.show_message("select one finished training to reproduce", error=True)
            return
        entry = chosen[0]
        self.reproducer.start(["--run", entry.run_id], f"run {entry.run_id[:8]}")

    def plot_selected(self) -> None:
        chosen = self.selected_entries()
        if len(chosen) != 1:
            return
        from core.history import request_plots

        workspace, ident = self.workspace, chosen[0].id

        def queued(job: Any) -> None:
            if self._closing:
                return
            self._plot_job = job.id
            self._gallery_version += 1
            self.gallery.show_images(
                [], f"plot job {job.id} queued for {job.args['experiment_id']}…"
            )
            self.tabs.setCurrentWidget(self.gallery)
            self.show_message(f"queued plot job {job.id}")
            self._plot_timer.start()

        run_in_background(lambda: request_plots(workspace, ident), queued, self._failed)

    def _poll_plot_job(self) -> None:
        if self._plot_job is None or self._polling or self._closing:
            return
        from core.history import plot_status

        workspace, job_id = self.workspace, self._plot_job
        self._polling = True

        def poll() -> dict[str, Any]:
            status = plot_status(workspace, job_id)
            images = read_images(list(status.images)) if status.ended else []
            return {"status": status, "images": images}

        def done(result: dict[str, Any]) -> None:
            self._polling = False
            if self._closing:
                return
            status = result["status"]
            if not status.ended:
                self.gallery.status.setText(f"plot job {job_id}: {status.state}…")
                return
            self._plot_timer.stop()
            self._plot_job = None
            self._gallery_version += 1
            if status.state == "finished":
                text = f"plot job {job_id} finished: {len(result['images'])} plot(s)"
            else:
                text = f"plot job {job_id} {status.state}: {status.error or 'see its log'}"
            self.gallery.show_images(result["images"], text)
            self.show_message(text, error=status.state != "finished")

        def failed(exc: BaseException) -> None:
            self._polling = False
            self._failed(exc)

        run_in_background(poll, done, failed)

    def delete_selected(self) -> None:
        chosen = self.selected_entries()
        if not chosen:
            return
        from core.history import plan_delete

        workspace, ids = self.workspace, [e.id for e in chosen]
        run_in_background(
            lambda: [plan_delete(workspace, ident) for ident in ids],
            self._confirm_delete,
            self._failed,
        )

    def _confirm_delete(self, plans: list[Any]) -> None:
        if self._closing:
            return
        text = "\n\n".join(plan.describe(self.workspace) for plan in plans)
        answer = QMessageBox.question(
            self,
            "Delete runs",
            plain_rich(f"Delete {len(plans)} run(s) everywhere? This cannot be undone.\n\n{text}"),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        from core.history import delete_entry

        workspace, ids = self.workspace, [plan.entry_id for plan in plans]

        def done(results: list[Any]) -> None:
            notes = [note for result in results for note in result.notes]
            self.show_message("; ".join(notes) or f"deleted {len(results)} run(s)", bool(notes))
            self.reload()

        run_in_background(
            lambda: [delete_entry(workspace, ident) for ident in ids], done, self._failed
        )

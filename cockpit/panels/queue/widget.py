"""Queue: every job by state with its progress, ETA and device; reorder pending jobs by
drag and drop, run next, priority, cancel, retry, remove, open log; start, drain and stop
the runner; GPU (or CPU) status.

Refresh: a background scan (only changed job files are parsed, metrics files are read
from where the last scan stopped) then a minimal diff on the GUI thread. A file-system
watcher on the queue folders triggers it, bursts coalesced; a timer is the fallback for
file systems whose watchers miss events, so a change from the CLI shows within a second.
"""

from __future__ import annotations

import time
from typing import Any

from PySide6.QtCore import QFileSystemWatcher, QModelIndex, QRect, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTabBar,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from cockpit.richtext import plain
from cockpit.panels.queue.details import JobDetails, details_text
from cockpit.panels.queue.log_view import LogDialog
from cockpit.panels.queue.model import (
    COLUMNS,
    PROGRESS_COLUMN,
    FractionRole,
    JobIdRole,
    JobTableModel,
    StateRole,
)
from core.jobs.progress import ProgressTracker
from cockpit.panels.queue.status import QueueScan, device_text, scan_queue
from cockpit.workers import run_in_background
from core.errors import CockpitError
from core.jobs.model import TERMINAL
from core.jobs.queue import JobQueue, QueueScanner
from core.jobs.runner import RunnerState, request_runner, start_runner
from core.workspace import QUEUE_STATES, Workspace

FILTERS: list[tuple[str, set[str] | None]] = [("All", None)] + [
    (state.capitalize(), {state}) for state in QUEUE_STATES
]
FALLBACK_MS = 800  # the timer that catches what a watcher missed: changes show within 1 s
HIDDEN_SCAN_S = 5.0  # a hidden panel scans less often
COALESCE_MS = 60
DEVICE_MS = 2000
COLUMN_WIDTHS = [80, 220, 130, 46, 100, 100, 136, 180, 60, 62, 40]
RAY_DEVICE_WIDTH = 150


class ProgressDelegate(QStyledItemDelegate):
    """The progress text over a bar of the job's fraction done (selected rows too)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        fraction = index.data(FractionRole)
        if fraction is None:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        style = opt.widget.style() if opt.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        painter.save()
        bar = QRect(opt.rect.adjusted(2, 3, -2, -3))
        palette = opt.palette
        dark = (
            palette.color(QPalette.ColorRole.Base).lightnessF()
            < palette.color(QPalette.ColorRole.Text).lightnessF()
        )  # light text on a dark base: deep fills, so the text stays readable
        track = "#2a3442" if dark else "#e3ecf7"
        painter.fillRect(bar, QColor(255, 255, 255, 70) if selected else QColor(track))
        done = QRect(bar)
        done.setWidth(int(bar.width() * fraction))
        running = index.data(StateRole) == "running"
        if dark:
            colour = QColor("#1f5f99" if running else "#3f5f45")
        else:
            colour = QColor("#90caf9" if running else "#c8d6c9")
        if selected:
            colour.setAlpha(150)
        painter.fillRect(done, colour)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        painter.drawText(
            opt.rect.adjusted(6, 0, -4, 0),
            int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
            text,
        )
        painter.restore()


def _message(exc: BaseException) -> str:
    if isinstance(exc, CockpitError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


class QueuePanel(QWidget):
    sig_job_selected = Signal(str)  # job id: selection changed or double-click
    sig_loaded = Signal()
    sig_refreshed = Signal()  # after each refresh was applied (tests, benchmarks)

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.queue = JobQueue(workspace)
        self.scanner = QueueScanner(self.queue)
        self.tracker = ProgressTracker(workspace.logs_dir)
        self.jobs: list[Any] = []
        self.corrupt: list[Any] = []  # UnreadableJobFile of queue/corrupt/
        self.progress: dict[str, Any] = {}
        self.runner = RunnerState()
        self.last_apply_s = 0.0  # GUI-thread time of the last refresh
        self.last_scan_s = 0.0  # background time of the last scan
        self._loaded = False
        self._closed = False
        self._scanning = False
        self._dirty = False
        self._generation = 0  # grows when a change starts and ends: older scans are stale
        self._last_scan_at = 0.0
        self._device_busy = False
        self._selected_id: str | None = None
        self._details_job: Any = None
        self._details_progress: Any = None
        self._details_busy = False
        self._log_windows: list[LogDialog] = []

        self.model = JobTableModel(self)
        self.model.sig_move_requested.connect(self.move_jobs)
        self._build()

        self._coalesce = QTimer(self, singleShot=True)
        self._coalesce.timeout.connect(self._scan_now)
        self._fallback = QTimer(self, interval=FALLBACK_MS)
        self._fallback.timeout.connect(self._tick)
        self._fallback.start()
        self._device_timer = QTimer(self, interval=DEVICE_MS)
        self._device_timer.timeout.connect(self._refresh_devices)
        self._device_timer.start()
        self.watcher = QFileSystemWatcher(self)
        self.watcher.directoryChanged.connect(lambda _path: self._schedule())
        try:
            self.queue.ensure_folders()
            self.watcher.addPaths(
                [str(workspace.queue_dir)]
                + [str(workspace.queue_state_dir(s)) for s in QUEUE_STATES]
            )
        except CockpitError as exc:
            self.show_message(str(exc), error=True)
        self.reload()
        self._refresh_devices()

    # --- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.filter_tabs = QTabBar(self, expanding=False, drawBase=False)
        for title, _states in FILTERS:
            self.filter_tabs.addTab(title)
        self.filter_tabs.currentChanged.connect(self._filter_changed)

        self.runner_label = QLabel("Runner: …")
        self.runner_label.setMinimumWidth(260)
        self.start_button = QPushButton("Start runner")
        self.start_button.setToolTip("start the background runner that takes pending jobs one by one")
        self.start_button.clicked.connect(self.start_runner)
        self.drain_button = QPushButton("Drain")
        self.drain_button.setToolTip("finish the running jobs, start no new one, then exit")
        self.drain_button.clicked.connect(self.drain_runner)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip(
            "stop the running jobs now (they keep a checkpoint and go back to the queue) and exit"
        )
        self.stop_button.clicked.connect(lambda: self.stop_runner())
        top = QHBoxLayout()
        top.addWidget(self.filter_tabs)
        top.addStretch(1)
        top.addWidget(self.runner_label)
        top.addWidget(self.start_button)
        top.addWidget(self.drain_button)
        top.addWidget(self.stop_button)

        self.actions_bar = QToolBar()
        self.actions_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.act_next = self._action("Run next", lambda: self.run_next(), "Ctrl+Up")
        self.act_priority = self._action("Priority…", lambda: self.ask_priority())
        self.act_cancel = self._action("Cancel", lambda: self.cancel(), "Ctrl+K")
        self.act_retry = self._action("Retry", lambda: self.retry(), "Ctrl+R")
        self.act_remove = self._action("Remove…", lambda: self.remove(), "Delete")
        self.act_log = self._action("Open log", lambda: self.open_log(), "Ctrl+L")
        hint = QLabel("  drag pending jobs to reorder them")
        hint.setStyleSheet("color: #757575;")
        self.actions_bar.addWidget(hint)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setDragEnabled(True)
        self.table.setAcceptDrops(True)
        self.table.setDropIndicatorShown(True)
        self.table.setDragDropOverwriteMode(False)
        self.table.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.table.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # job ids share their date prefix: a narrow column keeps the end that tells them apart
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setItemDelegateForColumn(PROGRESS_COLUMN, ProgressDelegate(self.table))
        header = self.table.horizontalHeader()
        for column, width in enumerate(COLUMN_WIDTHS):
            header.resizeSection(column, width)
        if self.workspace.stores.ray_address:  # "ray-gpu:1 @ 10.0.0.7": the node is in view
            device = COLUMNS.index("Device")
            extra = RAY_DEVICE_WIDTH - COLUMN_WIDTHS[device]
            header.resizeSection(device, RAY_DEVICE_WIDTH)
            for name in ("Name", "Progress"):  # the table keeps its width
                column = COLUMNS.index(name)
                header.resizeSection(column, COLUMN_WIDTHS[column] - extra // 2)
        header.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.table.doubleClicked.connect(self._double_clicked)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)

        self.device_label = plain(QLabel("GPU: …"))
        self.message = plain(QLabel())
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom = QHBoxLayout()
        bottom.addWidget(self.device_label)
        bottom.addStretch(1)
        bottom.addWidget(self.message)

        self.corrupt_label = QLabel()  # job files that could not be read: never silent
        self.corrupt_label.setWordWrap(True)
        self.corrupt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.corrupt_label.setStyleSheet(
            "QLabel { background: #fff3e0; color: #b71c1c; border: 1px solid #ef6c00; "
            "padding: 4px; }"
        )
        self.corrupt_label.hide()

        self.details = JobDetails()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([420, 260])

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.actions_bar)
        layout.addWidget(self.corrupt_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self._update_actions()

    def _action(self, text: str, slot: Any, shortcut: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut:
            action.setShortcut(shortcut)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.actions_bar.addAction(action)
        self.addAction(action)
        return action

    # --- refresh -----------------------------------------------------------------------
    def reload(self) -> None:
        """Scan the queue now (in the background)."""
        self._schedule(0)

    def _schedule(self, delay: int = COALESCE_MS) -> None:
        if not self._closed and not self._coalesce.isActive():
            self._coalesce.start(delay)

    def _tick(self) -> None:
        if not self.isVisible() and time.monotonic() - self._last_scan_at < HIDDEN_SCAN_S:
            return
        self._schedule(0)

    def _scan_now(self) -> None:
        if self._closed:
            return
        if self._scanning:
            self._dirty = True  # one more scan once this one is in
            return
        self._scanning, self._dirty = True, False
        self._last_scan_at = time.monotonic()
        generation = self._generation
        workspace, scanner, tracker = self.workspace, self.scanner, self.tracker
        run_in_background(
            lambda: scan_queue(workspace, scanner, tracker),
            lambda result: self._scanned(result, generation),
            self._scan_failed,
        )

    def _scanned(self, result: QueueScan, generation: int) -> None:
        self._scanning = False
        if self._closed:
            return
        if generation == self._generation:  # else a change ran meanwhile; its end rescans
            self.apply_scan(result)
        if self._dirty:
            self._schedule(0)

    def _scan_failed(self, exc: BaseException) -> None:
        self._scanning = False
        if self._closed:
            return
        self.show_message(f"cannot read the queue: {_message(exc)}", error=True)
        if not self._loaded:
            self._loaded = True
            self.sig_loaded.emit()

    def apply_scan(self, result: QueueScan) -> None:
        """Show a scan: the GUI-thread part of a refresh."""
        start = time.perf_counter()
        self.jobs, self.progress, self.runner = result.jobs, result.progress, result.runner
        self.last_scan_s = result.seconds
        self.model.apply(self.model.rows_for(self.jobs, self.progress))
        counts = {state: 0 for state in QUEUE_STATES}
        for job in self.jobs:
            counts[job.state] += 1
        for tab, (title, states) in enumerate(FILTERS):
            number = len(self.jobs) if states is None else counts[next(iter(states))]
            text = f"{title} ({number})"
            if self.filter_tabs.tabText(tab) != text:
                self.filter_tabs.setTabText(tab, text)
        self._show_runner(result.runner)
        self._show_corrupt(result.corrupt)
        self._update_actions()
        self._refresh_details()
        self.last_apply_s = time.perf_counter() - start
        if not self._loaded:
            self._loaded = True
            self.sig_loaded.emit()
        self.sig_refreshed.emit()

    def _show_corrupt(self, corrupt: list[Any]) -> None:
        self.corrupt = corrupt
        lines = [f"⚠ {len(corrupt)} job file(s) could not be read; they were never run:"]
        lines += [f"• {item.line(self.workspace)}" for item in corrupt]
        text = "\n".join(lines) if corrupt else ""
        if self.corrupt_label.text() != text:
            self.corrupt_label.setText(text)
        self.corrupt_label.setVisible(bool(corrupt))

    def _show_runner(self, state: RunnerState) -> None:
        colour = {"running": "#2e7d32", "draining": "#ef6c00", "stopping": "#c62828"}.get(
            state.mode or "", "#616161"
        )
        self.runner_label.setText(f"Runner: <b style='color:{colour}'>{state.describe()}</b>")
        self.start_button.setEnabled(not state.active)
        self.drain_button.setEnabled(state.mode == "running")
        self.stop_button.setEnabled(state.mode in ("running", "draining"))

    def _refresh_devices(self) -> None:
        if self._device_busy or self._closed:
            return
        self._device_busy = True

        def shown(text: str) -> None:
            self._device_busy = False
            if not self._closed:
                self.device_label.setText(text)

        def failed(exc: BaseException) -> None:
            self._device_busy = False
            if not self._closed:
                self.device_label.setText(f"device status unavailable: {_message(exc)}")

        run_in_background(lambda: device_text(self.workspace), shown, failed)

    def _filter_changed(self, tab: int) -> None:
        self.model.states = FILTERS[tab][1]
        self.model.apply(self.model.rows_for(self.jobs, self.progress))
        self._update_actions()

    def set_state_filter(self, state: str | None) -> None:
        """Show only jobs in ``state`` (None: all)."""
        titles = [states and next(iter(states)) for _title, states in FILTERS]
        self.filter_tabs.setCurrentIndex(titles.index(state))

    # --- selection ---------------------------------------------------------------------
    def selected_ids(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.rows[r].id for r in rows if r < len(self.model.rows)]

    def _selected(self, states: tuple[str, ...], ids: list[str] | None) -> list[str]:
        wanted = self.selected_ids() if ids is None else ids
        state_of = {job.id: job.state for job in self.jobs}
        return [i for i in wanted if state_of.get(i) in states]

    def select_job(self, job_id: str) -> None:
        for row, item in enumerate(self.model.rows):
            if item.id == job_id:
                self.table.selectRow(row)
                return

    def _selection_changed(self, *_args: Any) -> None:
        self._update_actions()
        current = self.table.currentIndex()
        job_id = current.data(JobIdRole) if current.isValid() else None
        if job_id and job_id != self._selected_id:
            self._selected_id = job_id
            self.sig_job_selected.emit(job_id)
            self._refresh_details()

    def _refresh_details(self) -> None:
        """Load the selected job's details when it changed, and while it runs (its log)."""
        job = next((j for j in self.jobs if j.id == self._selected_id), None)
        if job is None or self._details_busy:
            return
        progress = self.progress.get(job.id)
        unchanged = job is self._details_job and progress == self._details_progress
        if unchanged and job.state != "running":
            return
        self._details_job, self._details_progress = job, progress
        self._details_busy = True
        self.details.job_id = job.id
        workspace = self.workspace

        def shown(text: str) -> None:
            self._details_busy = False
            if not self._closed:
                self.details.show_text(job.id, text)

        def failed(exc: BaseException) -> None:
            self._details_busy = False
            if not self._closed:
                self.details.show_text(job.id, _message(exc))

        run_in_background(lambda: details_text(workspace, job, progress), shown, failed)

    def _double_clicked(self, index: QModelIndex) -> None:
        job_id = index.data(JobIdRole)
        if job_id:
            self.sig_job_selected.emit(job_id)

    def _update_actions(self) -> None:
        states = {job.id: job.state for job in self.jobs}
        chosen = [states.get(i) for i in self.selected_ids()]
        self.act_next.setEnabled("pending" in chosen)
        self.act_priority.setEnabled("pending" in chosen)
        self.act_cancel.setEnabled(bool({"pending", "running"} & set(chosen)))
        self.act_retry.setEnabled(bool({"failed", "cancelled"} & set(chosen)))
        self.act_remove.setEnabled(any(s in TERMINAL for s in chosen))
        self.act_log.setEnabled(len(chosen) >= 1)

    def _context_menu(self, point: Any) -> None:
        menu = QMenu(self)
        for action in (self.act_next, self.act_priority, self.act_cancel, self.act_retry):
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction(self.act_remove)
        menu.addAction(self.act_log)
        menu.exec(self.table.viewport().mapToGlobal(point))

    # --- changes (the core functions the CLI uses, off the GUI thread) -----------------
    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c62828;" if error else "color: #2e7d32;")
        self.message.setText(text)

    def _change(self, work: Any, describe: Any) -> None:
        """Run ``work`` in the background; scans that overlap it are dropped, one follows."""
        self._generation += 1

        def done(result: Any) -> None:
            self._generation += 1
            if not self._closed:
                self.show_message(describe(result))
                self._schedule(0)

        def failed(exc: BaseException) -> None:
            self._generation += 1
            if not self._closed:
                self.show_message(_message(exc), error=True)
                self._schedule(0)

        run_in_background(work, done, failed)

    def _each(self, ids: list[str], change: Any) -> Any:
        queue = self.queue
        return lambda: [change(queue, job_id) for job_id in ids]

    def move_jobs(self, ids: list[str], position: int) -> None:
        """Put pending jobs at 1-based ``position`` among the pending ones (drag and drop)."""
        queue = self.queue
        self._change(
            lambda: queue.move_block(ids, position),
            lambda jobs: f"moved {len(jobs)} job(s) to position {position}",
        )

    def run_next(self, ids: list[str] | None = None) -> None:
        chosen = self._selected(("pending",), ids)
        if not chosen:
            self.show_message("select a pending job to run next", error=True)
            return
        queue = self.queue
        self._change(
            lambda: queue.move_block(chosen, 1), lambda jobs: f"{len(jobs)} job(s) run next"
        )

    def ask_priority(self) -> None:
        chosen = self._selected(("pending",), None)
        if not chosen:
            self.show_message("select a pending job to change its priority", error=True)
            return
        current = next((j.priority for j in self.jobs if j.id == chosen[0]), 0)
        value, ok = QInputDialog.getInt(
            self, "Priority", "Priority (higher runs first):", current, -1000, 1000
        )
        if ok:
            self.set_priority(value, chosen)

    def set_priority(self, priority: int, ids: list[str] | None = None) -> None:
        chosen = self._selected(("pending",), ids)
        self._change(
            self._each(chosen, lambda q, i: q.set_priority(i, priority)),
            lambda jobs: f"priority {priority} for {len(jobs)} job(s)",
        )

    def cancel(self, ids: list[str] | None = None, *, confirm: bool = True) -> None:
        chosen = self._selected(("pending", "running"), ids)
        if not chosen:
            self.show_message("select a pending or running job to cancel", error=True)
            return
        running = self._selected(("running",), chosen)
        if confirm and running:
            answer = QMessageBox.question(
                self,
                "Cancel running jobs",
                f"Stop {len(running)} running job(s) ({', '.join(running)})? "
                "Their training ends during the current epoch.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._change(
            self._each(chosen, lambda q, i: q.cancel(i)),
            lambda jobs: "; ".join(
                f"{j.id}: {'cancelled' if j.state == 'cancelled' else 'cancel requested'}"
                for j in jobs
            ),
        )

    def retry(self, ids: list[str] | None = None) -> None:
        chosen = self._selected(("failed", "cancelled"), ids)
        if not chosen:
            self.show_message("select a failed or cancelled job to retry", error=True)
            return
        workspace = self.workspace

        def work() -> list[Any]:
            jobs = [self.queue.retry(i) for i in chosen]
            start_runner(workspace)  # as `cockpit queue retry` does
            return jobs

        self._change(work, lambda jobs: f"{len(jobs)} job(s) pending again")

    def remove(self, ids: list[str] | None = None, *, confirm: bool = True) -> None:
        chosen = self._selected(TERMINAL, ids)
        if not chosen:
            self.show_message("select a finished, failed or cancelled job to remove", error=True)
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Remove jobs", f"Remove {len(chosen)} job(s) from the list?"
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        self._change(
            self._each(chosen, lambda q, i: q.remove(i)), lambda jobs: f"removed {len(jobs)} job(s)"
        )

    def open_log(self, job_id: str | None = None) -> LogDialog | None:
        if job_id is None:
            chosen = self.selected_ids()
            if not chosen:
                self.show_message("select a job to see its log", error=True)
                return None
            job_id = chosen[0]
        dialog = LogDialog(self.workspace, job_id, self)
        dialog.finished.connect(lambda _result: self._forget(dialog))
        self._log_windows.append(dialog)
        dialog.show()
        return dialog

    def _forget(self, dialog: LogDialog) -> None:
        if dialog in self._log_windows:
            self._log_windows.remove(dialog)

    # --- runner ------------------------------------------------------------------------
    def start_runner(self) -> None:
        workspace = self.workspace
        self._change(
            lambda: start_runner(workspace),
            lambda started: "runner started" if started else "a runner is already running",
        )

    def drain_runner(self) -> None:
        workspace = self.workspace
        self._change(
            lambda: request_runner(workspace, "drain"),
            lambda state: f"runner pid {state.pid} drains: no new jobs, then it exits",
        )

    def stop_runner(self, *, confirm: bool = True) -> None:
        if confirm:
            answer = QMessageBox.question(
                self,
                "Stop the runner",
                "Stop the running jobs now? They keep a checkpoint, go back to the front of "
                "the queue and resume when a runner starts again.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        workspace = self.workspace
        self._change(
            lambda: request_runner(workspace, "stop"),
            lambda state: f"runner pid {state.pid} stops; its jobs go back to the queue",
        )

    # --- lifetime ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop timers and the watcher; results of work still running are ignored."""
        self._closed = True
        for timer in (self._coalesce, self._fallback, self._device_timer):
            timer.stop()
        paths = self.watcher.directories()
        if paths:
            self.watcher.removePaths(paths)
        for dialog in list(self._log_windows):
            dialog.close()

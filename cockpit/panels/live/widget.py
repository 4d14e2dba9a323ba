"""Live: the selected jobs' curves growing while they run, the log of the first one, and
for tuning jobs every trial's value with the best so far.

One timer drives everything: every tick a worker reads what was appended to the followed
jobs' files since the last tick (no file is read twice) and the GUI thread applies it in
one batch (one setData per changed curve, one append to the log), so a job writing
hundreds of lines a second costs the event loop a few milliseconds four times a second.
Nothing is read while the panel is hidden.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QItemSelectionModel, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase, QIcon, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.live.feed import FeedUpdate, JobFeed
from cockpit.panels.live.jobs import JobRow, list_jobs
from cockpit.panels.live.plots import (
    AXES,
    JOB_COLOURS,
    NEW_ITEMS_PER_REFRESH,
    CurvePlots,
    TrialPlot,
    legend_html,
    make_plot,
)
from cockpit.richtext import escaped
from cockpit.theme_colors import follow_palette, status_colour
from cockpit.workers import run_in_background
from core.workspace import Workspace

TICK_MS = 250
JOB_LIST_EVERY = 8  # ticks: the job list is read every 2 s
LOG_LINES = 5000
STARTING = "starting (loading data…)"


class LivePanel(QWidget):
    sig_loaded = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.feeds: dict[str, JobFeed] = {}
        self.rows: dict[str, JobRow] = {}
        self.selected: list[str] = []  # followed jobs; the first one's log is shown
        self._row_order: list[JobRow] = []
        self._busy = False
        self._loaded = False
        self._closed = False
        self._ticks = 0
        self._redraw_all = True
        self._titles: dict[QWidget, str] = {}
        self._legends = ("", "")
        self._seen_running: set[str] = set()
        self._rows_seen = False
        self._build()
        follow_palette(self, self._restyle)
        self._timer = QTimer(self, interval=TICK_MS)
        self._timer.timeout.connect(self._tick)
        self._timer.start()

    # --- layout ------------------------------------------------------------------------
    def _build(self) -> None:
        self.job_list = QListWidget()
        self.job_list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.job_list.setToolTip("Select a job to watch it; Ctrl/Shift+click to overlay several")
        self.job_list.itemSelectionChanged.connect(self._selection_changed)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("<b>Jobs</b> (Ctrl+click to overlay)"))
        left_layout.addWidget(self.job_list, 1)

        self.status_label = QLabel("Select a job on the left to watch it live.")
        # one line that never resizes the panel: it changes four times a second
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.trials_widget = make_plot("Trials", "trial", "value")
        self.loss_widget = make_plot("Loss", "epoch", "loss")
        self.acc_widget = make_plot("Accuracy", "epoch", "accuracy")
        self.acc_widget.setXLink(self.loss_widget)  # one x axis: zoom one, both follow
        self.curves = CurvePlots(self.loss_widget, self.acc_widget)
        self.trials = TrialPlot(self.trials_widget)
        self.axis_choice = QComboBox()
        self.axis_choice.addItems(list(AXES))
        self.axis_choice.setToolTip("The x axis of the loss and accuracy plots")
        self.axis_choice.currentTextChanged.connect(self._axis_changed)
        # legends beside the data, never over the curves
        self.curves_legend = QLabel()
        self.curves_legend.setWordWrap(True)
        self.trials_legend = QLabel()
        self.trials_legend.setWordWrap(True)
        self.trials_box = QWidget()
        trials_layout = QVBoxLayout(self.trials_box)
        trials_layout.setContentsMargins(0, 0, 0, 0)
        trials_layout.addWidget(self.trials_widget, 1)
        trials_layout.addWidget(self.trials_legend)
        self.trials_box.hide()
        curves_row = QSplitter(Qt.Orientation.Horizontal)
        curves_row.addWidget(self.loss_widget)
        curves_row.addWidget(self.acc_widget)
        legend_row = QHBoxLayout()
        legend_row.addWidget(self.curves_legend, 1)
        legend_row.addWidget(QLabel("x axis:"))
        legend_row.addWidget(self.axis_choice)
        curves_box = QWidget()
        curves_layout = QVBoxLayout(curves_box)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addWidget(curves_row, 1)
        curves_layout.addLayout(legend_row)
        self.plots_splitter = plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.trials_box)
        plots.addWidget(curves_box)
        plots.setStretchFactor(0, 1)
        plots.setStretchFactor(1, 1)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(LOG_LINES)
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.log_view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.log_view.setPlaceholderText("The log of the first selected job appears here.")

        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(plots)
        right.addWidget(self.log_view)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 2)
        right.setSizes([480, 260])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(right)
        main.setStretchFactor(1, 1)
        main.setSizes([280, 1000])

        layout = QVBoxLayout(self)
        layout.addWidget(self.status_label)
        layout.addWidget(main, 1)

    # --- public API ----------------------------------------------------------------------
    def show_job(self, job_id: str) -> None:
        """Watch this job alone (the queue panel's selection drives this). Until a job is
        chosen, the newest running one is shown."""
        self._select([job_id])

    def add_overlay(self, job_id: str) -> None:
        """Also draw this job's curves over the ones shown."""
        if job_id not in self.selected:
            self._select([*self.selected, job_id])

    def shutdown(self) -> None:
        """Stop polling and wait for a read in flight (before the widget goes)."""
        self._closed = True
        self._timer.stop()
        QThreadPool.globalInstance().waitForDone(5000)

    # --- job list ------------------------------------------------------------------------
    def _select(self, ids: list[str]) -> None:
        for job_id in ids:
            if job_id not in self.rows:  # not listed yet (just submitted): follow it anyway
                self.rows[job_id] = JobRow(job_id, "", "", f"job {job_id}")
                self._row_order.insert(0, self.rows[job_id])
        self._fill_list(ids)
        self._selection_changed()

    def _fill_list(self, selected: list[str]) -> None:
        """(Re)build the list in ``_row_order``, selecting ``selected``."""
        self.job_list.blockSignals(True)
        self.job_list.clear()
        for row in self._row_order:
            when = time.strftime("%H:%M", time.localtime(row.when)) if row.when else ""
            item = QListWidgetItem(f"{row.label}\n{row.state or '…'} {when}  ·  {row.short_id}")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setToolTip(f"job {row.id}")
            if row.state:
                item.setForeground(QBrush(QColor(status_colour(row.state))))
            self.job_list.addItem(item)
            if row.id in selected:
                flag = QItemSelectionModel.SelectionFlag.Select
                self.job_list.setCurrentItem(item, flag)
        self.job_list.blockSignals(False)
        self._mark_colours()

    def _mark_colours(self) -> None:
        """When jobs are overlaid, a swatch of its curves' colour beside each of them."""
        for i in range(self.job_list.count()):
            item = self.job_list.item(i)
            job_id = item.data(Qt.ItemDataRole.UserRole)
            if job_id in self.selected and len(self.selected) > 1:
                swatch = QPixmap(12, 12)
                swatch.fill(QColor(self._colour(job_id)))
                item.setIcon(QIcon(swatch))
            else:
                item.setIcon(QIcon())

    def _update_rows(self, rows: list[JobRow]) -> None:
        running = [row.id for row in rows if row.state == "running"]
        started = [job_id for job_id in running if job_id not in self._seen_running]
        self._seen_running.update(running)
        opening, self._rows_seen = not self._rows_seen, True
        # nothing chosen: show the newest running job (on opening, or when one starts); on
        # opening with none running, the latest job that ran
        shown = started[:1]
        if opening and not shown:  # never one cancelled before it ran: nothing to watch
            shown = [row.id for row in rows if row.state != "pending" and row.started][:1]
        if not self.selected and shown:
            self.rows = {row.id: row for row in rows}
            self._row_order = list(rows)
            self._select(shown)
            return
        listed = {row.id for row in rows}
        kept = [self.rows[j] for j in self.selected if j not in listed and j in self.rows]
        order = rows + kept
        if order == self._row_order:
            return
        self._row_order = order
        self.rows = {row.id: row for row in order}
        self._fill_list(self.selected)

    def _selection_changed(self) -> None:
        chosen = [
            self.job_list.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(self.job_list.count())
            if self.job_list.item(i).isSelected()
        ]
        # keep the order in which jobs were chosen: the first one stays the log's job
        ids = [j for j in self.selected if j in chosen] + [
            j for j in chosen if j not in self.selected
        ]
        if ids == self.selected:
            return
        primary_changed = ids[:1] != self.selected[:1]
        self.selected = ids
        for job_id in list(self.feeds):
            if job_id not in ids:
                del self.feeds[job_id]
        for job_id in ids:
            if job_id not in self.feeds:
                self.feeds[job_id] = JobFeed(self.workspace.logs_dir, job_id)
        for n, job_id in enumerate(ids):
            self.feeds[job_id].follow_log(n == 0)
        self._mark_colours()
        if primary_changed:
            self.log_view.clear()
        self._redraw_all = True
        if not self._busy:  # a read in flight may be changing the metrics: wait for it
            self._show_status()
        QTimer.singleShot(0, self._tick)

    # --- polling -------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._tick)

    def _tick(self) -> None:
        if self._busy or self._closed or not self.isVisible():
            return
        self._busy = True
        feeds = list(self.feeds.values())
        workspace = self.workspace
        read_jobs = self._ticks % JOB_LIST_EVERY == 0
        self._ticks += 1

        def work() -> tuple[list[JobRow] | None, list[tuple[JobFeed, FeedUpdate]]]:
            rows = list_jobs(workspace) if read_jobs else None
            return rows, [(feed, feed.poll()) for feed in feeds]

        run_in_background(work, self._apply, self._failed)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        if self._closed:
            return
        self.status_label.setText(
            f"<span style='color:#c62828'>cannot read the jobs: {escaped(exc)}</span>"
        )

    def _apply(self, result: tuple[list[JobRow] | None, list[tuple[JobFeed, FeedUpdate]]]) -> None:
        self._busy = False
        if self._closed:
            return
        rows, updates = result
        if rows is not None:
            self._update_rows(rows)
        more = False
        for feed, update in updates:
            if self.feeds.get(update.job_id) is not feed:
                continue  # no longer followed (or followed anew since)
            more = more or update.more
            if self.selected and update.job_id == self.selected[0]:
                self._append_log(update)
        self._redraw()
        if not self._loaded and rows is not None:
            self._loaded = True
            self.sig_loaded.emit()
        if more:
            QTimer.singleShot(0, self._tick)

    def _append_log(self, update: FeedUpdate) -> None:
        if update.log_reset:
            self.log_view.clear()
            if update.log_skipped:
                self.log_view.appendPlainText(f"[… {update.log_skipped:,} earlier bytes not shown]")
        if not update.log_text:
            return
        bar = self.log_view.verticalScrollBar()
        at_end = bar.value() >= bar.maximum() - 2
        lines = update.log_text.rstrip("\n").split("\n")
        self.log_view.appendPlainText("\n".join(lines[-LOG_LINES:]))
        if at_end:
            bar.setValue(bar.maximum())

    # --- drawing -------------------------------------------------------------------------
    def _colour(self, job_id: str) -> str:
        return JOB_COLOURS[self.selected.index(job_id) % len(JOB_COLOURS)]

    def _label(self, job_id: str) -> str | None:
        """The job's name in overlaid legends: its title, with the short id when two
        overlaid jobs share a title."""
        if len(self.selected) == 1:
            return None
        row = self.rows.get(job_id)
        if row is None or not row.kind:  # not listed yet
            return job_id[-6:]
        titles = [self.rows[j].label for j in self.selected if j in self.rows]
        return row.label if titles.count(row.label) == 1 else f"{row.label} {row.short_id}"

    def _axis_changed(self, axis: str) -> None:
        self.curves.set_axis(axis)
        if not self._busy:  # else the read in flight redraws when it lands
            self._redraw()

    def _restyle(self) -> None:
        """Palette changed: status colours and legends again."""
        self._fill_list(self.selected)
        self._titles.clear()
        self._legends = ("", "")
        self._redraw_all = True  # marks coloured when drawn (failed trials) are drawn anew
        if not self._busy:  # else the read in flight redraws when it lands
            self._redraw()

    def _redraw(self) -> None:
        if self._redraw_all:
            self.curves.clear()
            self.trials.clear()
            self._redraw_all = False
        studies = []
        self.curves.new_items_allowed(NEW_ITEMS_PER_REFRESH)
        for job_id in self.selected:
            feed = self.feeds[job_id]
            metrics = feed.metrics
            colour, label = self._colour(job_id), self._label(job_id)
            self.curves.update(job_id, metrics.current, colour, label)
            row = self.rows.get(job_id)
            if metrics.is_study or (row is not None and row.is_study):
                studies.append(job_id)
                self.trials.update(job_id, metrics, colour, label)
        if bool(studies) != self.trials_box.isVisibleTo(self):
            self.trials_box.setVisible(bool(studies))
            height = self.plots_splitter.height()
            self.plots_splitter.setSizes([height // 2, height - height // 2])
        self._show_titles(studies)
        self._show_legends()
        self._show_status()
        for widget in (self.loss_widget, self.acc_widget, self.trials_widget):
            # the new ranges now, not while painting: a range set during a paint asks for
            # a second paint of the whole plot
            widget.getPlotItem().getViewBox().prepareForPaint()

    def _show_titles(self, studies: list[str]) -> None:
        trial = ""
        if len(studies) == 1 and len(self.selected) == 1:
            run = self.feeds[studies[0]].metrics.current
            trial = "" if run.trial is None else f" — trial {run.trial}"
        self._set_title(self.loss_widget, f"Loss{trial}")
        self._set_title(self.acc_widget, f"Accuracy{trial}")
        if studies:
            metrics = self.feeds[studies[0]].metrics
            name = metrics.metric or "value"
            if self._set_title(self.trials_widget, f"Trials: {name} ({metrics.direction})"):
                self.trials_widget.getPlotItem().setLabel("left", name)

    def _set_title(self, widget: QWidget, text: str) -> bool:
        """A title changes the plot's layout: set it only when it changed."""
        if self._titles.get(widget) == text:
            return False
        self._titles[widget] = text
        widget.getPlotItem().setTitle(
            text, color=widget.palette().text().color().name(), size="11pt"
        )
        return True

    def _show_legends(self) -> None:
        legends = (
            legend_html(self.curves.legend_entries()),
            legend_html(self.trials.legend_entries()),
        )
        if legends != self._legends:
            self._legends = legends
            self.curves_legend.setText(legends[0])
            self.trials_legend.setText(legends[1])

    def _show_status(self) -> None:
        if not self.selected:
            self._set_status(
                "Select a job on the left to watch it live."
                if self._row_order
                else "No jobs in this workspace yet: submit a training or a study (`cockpit "
                "submit train --theme NAME`) and it appears here, live."
            )
            return
        job_id = self.selected[0]
        row = self.rows.get(job_id)
        feed = self.feeds.get(job_id)
        parts = [f"<b>{escaped(row.label if row else job_id)}</b>"]
        if row and row.state:
            colour = status_colour(row.state)
            parts.append(f"<span style='color:{colour}'>{row.state}</span>")
        parts.append(f"job {job_id}")
        if feed is not None:
            parts += _summary(feed, row)
        if len(self.selected) > 1:
            parts.append(f"+ {len(self.selected) - 1} overlaid")
        self._set_status(" · ".join(parts))

    def _set_status(self, text: str) -> None:
        if self.status_label.text() != text:
            self.status_label.setText(text)


def _summary(feed: JobFeed, row: JobRow | None) -> list[str]:
    metrics = feed.metrics
    if not metrics.lines:
        if row is not None and row.state == "running":
            return [STARTING]
        return [
            "waiting in the queue" if row is not None and row.state == "pending" else "no metrics"
        ]
    run = metrics.current
    parts: list[str] = []
    if metrics.is_study:
        done = len(metrics.trials)
        total = f"/{metrics.n_trials}" if metrics.n_trials else ""
        parts.append(f"{done}{total} trials")
        best = metrics.best_trial()
        if best is not None and best.value is not None:
            parts.append(f"best {best.value:.4f} (trial {best.number})")
        if run.trial is not None:
            parts.append(f"trial {run.trial}")
    if run.epoch is not None:
        parts.append(f"epoch {run.epoch}")
    for name in ("valid_loss", "valid_acc"):
        value = run.curves[name].last()
        if value is not None:
            parts.append(f"{name.replace('_', ' ')} {value:.4f}")
    for name, value in sorted(run.results.items()):
        if name.startswith("test_"):
            parts.append(f"{name.replace('_', ' ')} {value:.4f}")
    return parts

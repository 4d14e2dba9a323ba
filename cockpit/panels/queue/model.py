"""The job table: one row per job of the chosen states, updated by minimal diffs so the
selection, the scroll position and a drag in progress survive each refresh."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor

from cockpit.richtext import plain_rich
from core.jobs.progress import Progress, duration_text
from core.jobs.model import Job

JOB_IDS_MIME = "application/x-cockpit-job-ids"
JobIdRole = Qt.ItemDataRole.UserRole + 1
StateRole = Qt.ItemDataRole.UserRole + 2
FractionRole = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex

COLUMNS = [
    "State",
    "Name",
    "Job",
    "Kind",
    "Theme",
    "Model",
    "Experiment / study",
    "Progress",
    "ETA",
    "Device",
    "Prio",
    "Time",
]
PROGRESS_COLUMN = COLUMNS.index("Progress")
STATE_COLOURS = {
    "pending": "#616161",
    "running": "#1565c0",
    "finished": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#ef6c00",
}
DISPLAY_ORDER = {"running": 0, "pending": 1, "failed": 2, "cancelled": 2, "finished": 2}


@dataclass(frozen=True)
class JobRow:
    job: Job
    progress: Progress | None = None

    @property
    def id(self) -> str:
        return self.job.id

    def same_as(self, other: JobRow) -> bool:
        return (self.job is other.job or self.job == other.job) and self.progress == other.progress


def sort_key(job: Job) -> tuple:
    """Running first (oldest first), then pending in run order, then ended, newest first."""
    group = DISPLAY_ORDER[job.state]
    if job.state == "pending":
        return (group, *job.order_key())
    if job.state == "running":
        return (group, job.started_at or 0.0, 0.0, 0.0)
    return (group, -(job.finished_at or job.started_at or job.created_at), 0.0, 0.0)


def _clock(timestamp: float | None) -> str:
    if not timestamp:
        return ""
    moment = dt.datetime.fromtimestamp(timestamp)
    if moment.date() == dt.date.today():
        return moment.strftime("%H:%M:%S")
    return moment.strftime("%m-%d %H:%M")


def experiment_text(job: Job) -> str:
    if job.kind == "tune":
        return f"study {job.args.get('study_name') or '?'}"
    if job.kind == "plot":
        return str(job.args.get("experiment_id") or "")
    return job.experiment_id or ""


def time_text(job: Job) -> str:
    if job.state == "pending":
        return f"queued {_clock(job.created_at)}"
    if job.state == "running":
        return f"started {_clock(job.started_at)}"
    took = (
        f" ({duration_text(job.finished_at - job.started_at)})"
        if job.finished_at and job.started_at
        else ""
    )
    return f"{job.state} {_clock(job.finished_at)}{took}"


class JobTableModel(QAbstractTableModel):
    #: job ids dragged, 1-based position among the pending jobs they were dropped at
    sig_move_requested = Signal(list, int)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[JobRow] = []
        self.states: set[str] | None = None  # None: all states

    # --- updates ---------------------------------------------------------------------
    def rows_for(self, jobs: list[Job], progress: dict[str, Progress]) -> list[JobRow]:
        shown = [j for j in jobs if self.states is None or j.state in self.states]
        shown.sort(key=sort_key)
        return [JobRow(j, progress.get(j.id)) for j in shown]

    def apply(self, target: list[JobRow]) -> int:
        """Make ``rows`` equal ``target`` with removes, moves, inserts and dataChanged
        only where something differs. Returns the number of rows touched."""
        touched = 0
        wanted = {row.id for row in target}
        end = len(self.rows) - 1
        while end >= 0:  # removals, in contiguous blocks from the bottom
            if self.rows[end].id in wanted:
                end -= 1
                continue
            start = end
            while start > 0 and self.rows[start - 1].id not in wanted:
                start -= 1
            self.beginRemoveRows(QModelIndex(), start, end)
            del self.rows[start : end + 1]
            self.endRemoveRows()
            touched += end - start + 1
            end = start - 1
        ids = [row.id for row in self.rows]
        present = set(ids)
        changed: list[int] = []
        position = 0
        while position < len(target):
            row = target[position]
            if position < len(ids) and ids[position] == row.id:
                if not self.rows[position].same_as(row):
                    changed.append(position)
                self.rows[position] = row  # equal or not: the newest objects compare fastest
                position += 1
                continue
            if row.id in present:
                source = ids.index(row.id, position)
                self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), position)
                self.rows.insert(position, self.rows.pop(source))
                ids.insert(position, ids.pop(source))
                self.endMoveRows()
                if not self.rows[position].same_as(row):
                    self.rows[position] = row
                    changed.append(position)
                touched += 1
                position += 1
                continue
            last = position  # a block of new rows goes in with one insert
            while last + 1 < len(target) and target[last + 1].id not in present:
                last += 1
            self.beginInsertRows(QModelIndex(), position, last)
            self.rows[position:position] = target[position : last + 1]
            ids[position:position] = [r.id for r in target[position : last + 1]]
            self.endInsertRows()
            touched += last - position + 1
            position = last + 1
        touched += len(changed)
        for first, last in _ranges(changed):
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))
        return touched

    # --- Qt model ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        job, column = row.job, index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == JobIdRole:
            return job.id
        if role == StateRole:
            return job.state
        if role == FractionRole:
            return row.progress.fraction if row.progress else None
        if role == Qt.ItemDataRole.ForegroundRole and column == 0:
            return QColor(STATE_COLOURS[job.state])
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(job)
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[column] in ("Prio", "ETA"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _text(row: JobRow, column: int) -> str:
        job, name = row.job, COLUMNS[column]
        if name == "State":
            if job.state == "running" and job.cancel_requested:
                return "cancelling"
            return job.state
        if name == "Name":
            return job.name or job.label  # an older job file has no name
        if name == "Job":
            return job.id
        if name == "Kind":
            return job.kind
        if name == "Theme":
            return job.theme or ""
        if name == "Model":
            return str(job.params.get("model") or "")
        if name == "Experiment / study":
            return experiment_text(job)
        if name == "Progress":
            return row.progress.text() if row.progress else ""
        if name == "ETA":
            return duration_text(row.progress.eta_s) if row.progress else ""
        if name == "Device":
            return job.where or ""
        if name == "Prio":
            return str(job.priority)
        return time_text(job)

    @staticmethod
    def _tooltip(job: Job) -> str:
        lines = [f"{job.kind} job {job.id}: {job.state}", f"attempts: {job.attempts}"]
        if job.name:
            lines.insert(0, job.name)
        if job.pid:
            lines.append(f"pid {job.pid} on {job.host or '?'}")
        if job.error:
            lines.append(job.error.strip()[-1200:])
        return plain_rich("\n".join(lines))

    # --- drag and drop: pending rows reorder -------------------------------------------
    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        if not index.isValid():
            return base | Qt.ItemFlag.ItemIsDropEnabled
        if self.rows[index.row()].job.state == "pending":
            return base | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
        return base

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def supportedDragActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:
        return [JOB_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        rows = sorted({i.row() for i in indexes if i.isValid()})
        ids = [self.rows[r].id for r in rows if self.rows[r].job.state == "pending"]
        data = QMimeData()
        data.setData(JOB_IDS_MIME, ",".join(ids).encode())
        return data

    def canDropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        return data.hasFormat(JOB_IDS_MIME) and self._drop_row(row, parent) is not None

    def _drop_row(self, row: int, parent: Index) -> int | None:
        """The row the dropped jobs go before; None outside the pending block."""
        if row < 0:
            row = parent.row() if parent.isValid() else len(self.rows)
        pending = [i for i, r in enumerate(self.rows) if r.job.state == "pending"]
        if not pending or row < pending[0] or row > pending[-1] + 1:
            return None
        return row

    def dropMimeData(
        self, data: QMimeData, action: Qt.DropAction, row: int, column: int, parent: Index
    ) -> bool:
        if not data.hasFormat(JOB_IDS_MIME):
            return False
        ids = [i for i in bytes(data.data(JOB_IDS_MIME).data()).decode().split(",") if i]
        before = self._drop_row(row, parent)
        if not ids or before is None:
            return False
        moving = set(ids)
        pending = [r for r in self.rows[:before] if r.job.state == "pending"]
        position = 1 + sum(1 for r in pending if r.id not in moving)
        by_id = {r.id: r for r in self.rows}
        dragged = [by_id[i] for i in ids if i in by_id]
        # shown at once; the queue files follow in the background and a refresh confirms
        rest = [r for r in self.rows if r.id not in moving]
        insert_at = before - sum(1 for r in self.rows[:before] if r.id in moving)
        self.apply(rest[:insert_at] + dragged + rest[insert_at:])
        self.sig_move_requested.emit(ids, position)
        return False  # nothing for the view to remove: the rows were moved here


def _ranges(rows: list[int]) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    for row in sorted(rows):
        if spans and row == spans[-1][1] + 1:
            spans[-1] = (spans[-1][0], row)
        else:
            spans.append((row, row))
    return spans

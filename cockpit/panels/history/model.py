"""The history table: one row per HistoryEntry, and a proxy that filters with the core's
``matches`` (the same rules as ``cockpit history list``) and sorts numbers as numbers,
unknown values last in both directions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from cockpit.richtext import plain_rich
from core.history import HistoryEntry, HistoryFilter, format_duration, matches, sort_key

Index = QModelIndex | QPersistentModelIndex
EntryRole = Qt.ItemDataRole.UserRole + 1

#: (header, sort key of HistoryEntry.value)
COLUMNS: list[tuple[str, str]] = [
    ("Status", "status"),
    ("Theme", "theme"),
    ("Model", "model"),
    ("Experiment", "experiment"),
    ("Started", "started"),
    ("Duration", "duration"),
    ("Epochs", "epochs"),
    ("Best valid loss", "valid_loss"),
    ("Best valid acc", "valid_acc"),
    ("Test acc", "test_acc"),
    ("Job", "job"),
]
STATUS_COLOURS = {
    "finished": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#757575",
    "incomplete": "#ef6c00",
    "pruned": "#8d6e63",
}
_NUMERIC = {"started", "duration", "epochs", "valid_loss", "valid_acc", "test_acc"}


def format_value(entry: HistoryEntry, key: str) -> str:
    value = entry.value(key)
    if value is None:
        if key == "job" and entry.kind == "train" and entry.experiment_id:
            return "(foreground)"
        return entry.kind if key == "model" else ""
    if key == "started":
        return dt.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M")
    if key == "duration":
        return format_duration(value)
    if key.endswith("_acc"):
        return f"{value:.1%}"
    if key.endswith("_loss"):
        return f"{value:.4f}"
    if key == "epochs" and entry.max_epochs and entry.max_epochs != value:
        return f"{value}/{entry.max_epochs}"
    return str(value)


class HistoryTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.entries: list[HistoryEntry] = []

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.entries)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.entries[index.row()]
        key = COLUMNS[index.column()][1]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_value(entry, key)
        if role == EntryRole:
            return entry
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and key == "status":
            return QBrush(QColor(STATUS_COLOURS.get(entry.status, "#000000")))
        if role == Qt.ItemDataRole.ToolTipRole:
            if entry.error:
                return plain_rich(entry.error)
            if key == "experiment" and entry.run_id:
                return f"MLflow run {entry.run_id}"
        return None


class HistoryProxy(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.spec = HistoryFilter(kinds=("train", "tune"))

    def set_filter(self, spec: HistoryFilter) -> None:
        self.beginFilterChange()
        self.spec = spec
        self.endFilterChange()

    def entry(self, row: int) -> HistoryEntry:
        return self.data(self.index(row, 0), EntryRole)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        source = self.sourceModel()
        return matches(source.entries[source_row], self.spec)

    def lessThan(self, left: Index, right: Index) -> bool:
        source = self.sourceModel()
        key = COLUMNS[left.column()][1]
        a = sort_key(source.entries[left.row()].value(key))
        b = sort_key(source.entries[right.row()].value(key))
        if a[0] != b[0]:  # exactly one is unknown: it goes last, whatever the order
            left_unknown = a[0] == 1
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return not left_unknown if ascending else left_unknown
        return a[1] < b[1] if a[0] == 0 else False

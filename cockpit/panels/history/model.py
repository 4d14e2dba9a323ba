"""The history tree: one row per HistoryEntry (a study's trials as children of its tune
job's row), fixed columns plus chosen parameter columns, and a proxy that filters with the
core's ``matches`` (the same rules as ``cockpit history list``) and sorts numbers as
numbers, unknown values last in both directions."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from cockpit.richtext import plain_rich
from core.history import (
    METRICS,
    PARAM_PREFIX,
    HistoryEntry,
    HistoryFilter,
    format_duration,
    format_metric,
    matches,
    nest_trials,
    sort_key,
)

Index = QModelIndex | QPersistentModelIndex
EntryRole = Qt.ItemDataRole.UserRole + 1

#: the fixed columns: (header, sort key of HistoryEntry.value); parameter columns follow
#: (the parameter columns are shown right after the name; then what runs are compared by)
COLUMNS: list[tuple[str, str]] = [
    ("Status", "status"),
    ("Name", "name"),
    ("Best valid loss", "valid_loss"),
    ("Best valid acc", "valid_acc"),
    ("Test acc", "test_acc"),
    ("Epochs", "epochs"),
    ("Duration", "duration"),
    ("Started", "started"),
    ("Theme", "theme"),
    ("Model", "model"),
    ("Experiment", "experiment"),
    ("Job", "job"),
]
STATUS_COLOURS = {
    "finished": "#2e7d32",
    "failed": "#c62828",
    "cancelled": "#757575",
    "incomplete": "#ef6c00",
    "pruned": "#8d6e63",
}
_NUMERIC = {"started", "duration", "epochs", *METRICS}


def param_value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    return value if isinstance(value, str) else json.dumps(value)


def format_value(entry: HistoryEntry, key: str) -> str:
    value = entry.value(key)
    if key.startswith(PARAM_PREFIX):
        return param_value_text(value)
    if value is None:
        if key == "job" and entry.kind == "train" and entry.experiment_id:
            return entry.origin or "(foreground)"
        if key == "job" and entry.origin:
            return entry.origin
        return entry.kind if key == "model" else ""
    if key == "started":
        return dt.datetime.fromtimestamp(value).strftime("%Y-%m-%d %H:%M")
    if key == "duration":
        return format_duration(value)
    if key in METRICS:
        return format_metric(value)
    if key == "epochs" and entry.max_epochs and entry.max_epochs != value:
        return f"{value}/{entry.max_epochs}"
    return str(value)


def metric_tooltip(entry: HistoryEntry, key: str) -> str:
    what = key.replace("_", " ")
    if entry.kind == "tune" and entry.best_trial is not None:
        value = format_metric(entry.value(key))
        return f"{what} of the best trial (trial {entry.best_trial}): {value}"
    return f"{what} of the best weights: {format_metric(entry.value(key))}"


@dataclass(eq=False)
class Node:
    entry: HistoryEntry | None  # None: the invisible root
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    row: int = 0


class HistoryTreeModel(QAbstractItemModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.entries: list[HistoryEntry] = []
        self.root = Node(None)
        self.param_keys: list[str] = []

    @property
    def columns(self) -> list[tuple[str, str]]:
        return COLUMNS + [(key, PARAM_PREFIX + key) for key in self.param_keys]

    def set_entries(self, entries: list[HistoryEntry]) -> None:
        self.beginResetModel()
        self.entries = list(entries)
        self.root = Node(None)
        for row, (entry, children) in enumerate(nest_trials(self.entries)):
            node = Node(entry, self.root, row=row)
            node.children = [Node(c, node, row=i) for i, c in enumerate(children)]
            self.root.children.append(node)
        self.endResetModel()

    def set_param_keys(self, keys: list[str]) -> None:
        if keys == self.param_keys:
            return
        first = len(COLUMNS)
        if self.param_keys:
            self.beginRemoveColumns(QModelIndex(), first, first + len(self.param_keys) - 1)
            self.param_keys = []
            self.endRemoveColumns()
        if keys:
            self.beginInsertColumns(QModelIndex(), first, first + len(keys) - 1)
            self.param_keys = list(keys)
            self.endInsertColumns()

    def all_nodes(self) -> list[Node]:
        found = []
        for node in self.root.children:
            found.append(node)
            found.extend(node.children)
        return found

    def top_entries(self) -> list[HistoryEntry]:
        return [node.entry for node in self.root.children if node.entry is not None]

    # --- the tree -------------------------------------------------------------------------
    def _node(self, index: Index) -> Node:
        return index.internalPointer() if index.isValid() else self.root

    def index(
        self,
        row: int,
        column: int,
        parent: Index = QModelIndex(),  # noqa: B008
    ) -> QModelIndex:
        node = self._node(parent)
        if not (0 <= row < len(node.children)) or not (0 <= column < len(self.columns)):
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid():
            return QModelIndex()
        node: Node = index.internalPointer()
        if node.parent is None or node.parent is self.root:
            return QModelIndex()
        return self.createIndex(node.parent.row, 0, node.parent)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        if parent.isValid() and parent.column() != 0:
            return 0
        return len(self._node(parent).children)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or section >= len(self.columns):
            return None
        header, key = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return header
        if role == Qt.ItemDataRole.ToolTipRole:
            if key.startswith(PARAM_PREFIX):
                return plain_rich(f"parameter {header} (right-click to choose columns)")
            return "right-click to choose the columns"
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._node(index).entry
        if entry is None:
            return None
        key = self.columns[index.column()][1]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_value(entry, key)
        if role == EntryRole:
            return entry
        if role == Qt.ItemDataRole.TextAlignmentRole and (
            key in _NUMERIC or isinstance(entry.value(key), (int, float))
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and key == "status":
            return QBrush(QColor(STATUS_COLOURS.get(entry.status, "#000000")))
        if role == Qt.ItemDataRole.ToolTipRole:
            if entry.error:
                return plain_rich(entry.error)
            if key in METRICS and entry.value(key) is not None:
                return plain_rich(metric_tooltip(entry, key))
            if key == "name" and entry.name:
                return plain_rich(entry.name)
            if key == "experiment" and entry.run_id:
                return f"MLflow run {entry.run_id}"
        return None


class HistoryProxy(QSortFilterProxyModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.spec = HistoryFilter(kinds=("train", "tune"))
        self.setRecursiveFilteringEnabled(True)  # a study stays while a trial matches

    def set_filter(self, spec: HistoryFilter) -> None:
        self.beginFilterChange()
        self.spec = spec
        self.endFilterChange()

    def entry(self, row: int, parent: Index = QModelIndex()) -> HistoryEntry:  # noqa: B008
        return self.data(self.index(row, 0, parent), EntryRole)

    def filterAcceptsRow(self, source_row: int, source_parent: Index) -> bool:
        source = self.sourceModel()
        entry = source.data(source.index(source_row, 0, source_parent), EntryRole)
        return entry is not None and matches(entry, self.spec)

    def lessThan(self, left: Index, right: Index) -> bool:
        source = self.sourceModel()
        key = source.columns[left.column()][1]
        a = sort_key(source.data(left, EntryRole).value(key))
        b = sort_key(source.data(right, EntryRole).value(key))
        if a[0] != b[0]:  # exactly one is unknown: it goes last, whatever the order
            left_unknown = a[0] == 1
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return not left_unknown if ascending else left_unknown
        if a[0] == 0 and isinstance(a[1], str) != isinstance(b[1], str):
            return str(a[1]) < str(b[1])  # a parameter that is text in one run, a number in another
        return a[1] < b[1] if a[0] == 0 else False

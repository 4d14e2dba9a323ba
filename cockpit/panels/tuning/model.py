"""The trials table: one row per trial, one column per parameter, sortable by value."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from cockpit.theme_colors import status_colour
from core.tuning.results import StudyDetails, TrialRow

FIXED_COLUMNS = ["#", "State", "Value", "Duration"]
SortRole = Qt.ItemDataRole.UserRole + 1
Index = QModelIndex | QPersistentModelIndex


def format_value(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}:{seconds:02d} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d} h"


class TrialsModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.trials: list[TrialRow] = []
        self.params: list[str] = []
        self.best: int | None = None

    def row_of(self, number: int) -> int | None:
        return next((row for row, t in enumerate(self.trials) if t.number == number), None)

    def set_details(self, details: StudyDetails | None) -> None:
        self.beginResetModel()
        self.trials = list(details.trials) if details else []
        self.params = [axis.name for axis in details.axes] if details else []
        self.best = details.summary.best_trial if details else None
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 (Qt signature)
        return 0 if parent.isValid() else len(self.trials)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self.params)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if role != Qt.ItemDataRole.DisplayRole or orientation != Qt.Orientation.Horizontal:
            return None
        names = FIXED_COLUMNS + self.params
        return names[section] if section < len(names) else None

    def _cell(self, trial: TrialRow, column: int) -> tuple[str, tuple]:
        """Text and sort key (missing values sort first)."""
        if column == 0:
            return str(trial.number), (1, trial.number)
        if column == 1:
            return trial.state, (1, trial.state)
        if column == 2:
            return format_value(trial.value), (trial.value is not None, trial.value or 0.0)
        if column == 3:
            return format_duration(trial.duration), (
                trial.duration is not None,
                trial.duration or 0.0,
            )
        name = self.params[column - len(FIXED_COLUMNS)]
        value = trial.params.get(name)
        key = (1, value) if isinstance(value, int | float) else (1, float("inf"), str(value))
        return format_value(value), (0, 0.0) if value is None else key

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        trial = self.trials[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._cell(trial, index.column())[0]
        if role == SortRole:
            return self._cell(trial, index.column())[1]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            return QColor(status_colour(trial.state))
        if role == Qt.ItemDataRole.FontRole and trial.number == self.best:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() != 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            started = f"started {trial.started:%Y-%m-%d %H:%M:%S}" if trial.started else "waiting"
            experiment = f", experiment {trial.experiment_id}" if trial.experiment_id else ""
            return f"trial {trial.number}: {started}{experiment}"
        return None


class TrialsSortProxy(QSortFilterProxyModel):
    """Sorts by the Python sort keys of SortRole (numbers as numbers, missing first)."""

    def lessThan(self, left: Index, right: Index) -> bool:
        a, b = left.data(SortRole), right.data(SortRole)
        try:
            return a < b
        except TypeError:
            return str(a) < str(b)

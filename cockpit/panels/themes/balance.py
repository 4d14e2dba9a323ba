"""A table cell that draws a label's images per split as a stacked bar."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

SPLIT_COLOURS = {"train": "#1565c0", "valid": "#ef6c00", "test": "#2e7d32", "none": "#9e9e9e"}
BalanceRole = Qt.ItemDataRole.UserRole + 1  # (counts per split, largest label total)


class BalanceDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        data = index.data(BalanceRole)
        if not data:
            return
        counts, largest = data
        area = option.rect.adjusted(4, 5, -4, -5)
        x = area.left()
        painter.save()
        for split, colour in SPLIT_COLOURS.items():
            width = int(area.width() * counts.get(split, 0) / max(1, largest))
            if width:
                painter.fillRect(QRect(x, area.top(), width, area.height()), QColor(colour))
                x += width
        painter.restore()

"""The grid's model: one row per image of the current filter; thumbnails on demand."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractListModel, QMimeData, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from cockpit.panels.labeling.thumbnails import ThumbnailCache
from cockpit.richtext import plain_rich
from core.data.browse import ImageRow

IMAGE_IDS_MIME = "application/x-cockpit-image-ids"
IdRole = Qt.ItemDataRole.UserRole + 1
LabelRole = Qt.ItemDataRole.UserRole + 2
# the label badge drawn on a thumbnail: (text, QColor) or None; the delegate draws every
# role in its ``badge_roles`` (a model suggestion can add a second, ghost, badge)
BadgeRole = Qt.ItemDataRole.UserRole + 3
Index = QModelIndex | QPersistentModelIndex


class ImageGridModel(QAbstractListModel):
    def __init__(self, thumbnails: ThumbnailCache, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[ImageRow] = []
        self.label_names: dict[int, str] = {}
        self.label_colours: dict[int, QColor] = {}
        self.row_of: dict[int, int] = {}
        self.thumbnails = thumbnails
        self.thumbnails.sig_ready.connect(self._thumbnail_ready)

    def set_rows(
        self,
        rows: list[ImageRow],
        label_names: dict[int, str],
        label_colours: dict[int, QColor] | None = None,
    ) -> None:
        self.beginResetModel()
        self.thumbnails.clear_pending()
        self.rows = rows
        self.label_names = label_names
        self.label_colours = label_colours or {}
        self.row_of = {row.id: i for i, row in enumerate(rows)}
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.label_names.get(row.label_id, "—") if row.label_id else "unlabeled"
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnails.get(row.id, row.image_path)  # None until decoded
        if role == Qt.ItemDataRole.ToolTipRole:
            return plain_rich(f"{row.original_name}\nsplit: {row.split or 'none'}")
        if role == IdRole:
            return row.id
        if role == LabelRole:
            return row.label_id
        if role == BadgeRole:
            if row.label_id is None:
                return None
            colour = self.label_colours.get(row.label_id, QColor("#808080"))
            return self.label_names.get(row.label_id, "—"), colour
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        base = super().flags(index)
        return base | Qt.ItemFlag.ItemIsDragEnabled if index.isValid() else base

    def mimeTypes(self) -> list[str]:
        return [IMAGE_IDS_MIME]

    def mimeData(self, indexes: list[QModelIndex]) -> QMimeData:
        data = QMimeData()
        ids = ",".join(str(self.rows[i.row()].id) for i in indexes if i.isValid())
        data.setData(IMAGE_IDS_MIME, ids.encode())
        return data

    def set_labels(self, labels: dict[int, int | None]) -> None:
        """Show new labels of some images (after a label action or its undo)."""
        touched = [self.row_of[i] for i in labels if i in self.row_of]
        for image_id, label_id in labels.items():
            position = self.row_of.get(image_id)
            if position is not None:
                old = self.rows[position]
                self.rows[position] = ImageRow(
                    old.id, old.image_path, label_id, old.split, old.original_name
                )
        if touched:
            self.dataChanged.emit(self.index(min(touched)), self.index(max(touched)))

    def _thumbnail_ready(self, image_ids: list[int]) -> None:
        # one update per row: a single range from the smallest to the largest row would
        # make the view revisit every item in between (thousands after a fast scroll)
        for image_id in image_ids:
            position = self.row_of.get(image_id)
            if position is not None:
                index = self.index(position)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

"""The plot images of an experiment as a gallery of large thumbnails; double-click opens
the file with the system's image viewer."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QIcon, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from cockpit.richtext import plain, plain_rich

ICON = QSize(360, 250)


def read_images(paths: list[Path]) -> list[tuple[Path, bytes]]:
    """File contents, read off the GUI thread (decoding happens on the GUI thread: QPixmap
    may not be made elsewhere)."""
    found = []
    for path in paths:
        try:
            found.append((path, path.read_bytes()))
        except OSError:
            continue
    return found


class PlotGallery(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = plain(QLabel("select a run to see its plots; Plot renders them"))
        self.status.setWordWrap(True)
        self.list = QListWidget()
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setIconSize(ICON)
        self.list.setGridSize(QSize(ICON.width() + 16, ICON.height() + 30))
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setWordWrap(True)
        self.list.itemDoubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)

    def show_images(self, images: list[tuple[Path, bytes]], status: str) -> None:
        self.list.clear()
        for path, data in images:
            pixmap = QPixmap()
            if not pixmap.loadFromData(data):
                continue
            scaled = pixmap.scaled(
                ICON, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
            item = QListWidgetItem(QIcon(scaled), path.stem.replace("_", " "))
            item.setData(Qt.ItemDataRole.UserRole, str(path))
            item.setToolTip(plain_rich(path))
            self.list.addItem(item)
        self.status.setText(status)

    def image_count(self) -> int:
        return self.list.count()

    def _open(self, item: QListWidgetItem) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(item.data(Qt.ItemDataRole.UserRole)))

"""Read-only views of the editor: the experiment preview with its diff table, and the
grid of augmented images."""

from __future__ import annotations

import html
import time
from typing import Any

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QImage, QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QHeaderView,
    QLabel,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cockpit.richtext import plain, plain_rich
from core.history.preview import ROW_NAMES, ExperimentPreview

MODE_COLOURS = {
    "new": "#1565c0",
    "resume": "#b26a00",
    "extend": "#2e7d32",
    "complete": "#616161",
}
THUMB = 96


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "[" + ", ".join(_text(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) and value == "" else str(value)


class PreviewView(QWidget):
    """new experiment / resume / adds epochs / already complete, the id, the diff."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.headline = plain(QLabel("—"))
        self.headline.setObjectName("preview_headline")
        font = QFont(self.headline.font())
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.headline.setFont(font)
        self.identity = QLabel()
        self.identity.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.compared = QLabel()
        self.compared.setWordWrap(True)
        self.diff = QTableWidget(0, 3)
        self.diff.setHorizontalHeaderLabels(["Parameter", "Earlier", "This configuration"])
        self.diff.verticalHeader().hide()
        self.diff.verticalHeader().setDefaultSectionSize(self.diff.fontMetrics().height() + 6)
        self.diff.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.diff.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.headline)
        layout.addWidget(self.identity)
        layout.addWidget(self.detail)
        layout.addWidget(self.compared)
        layout.addWidget(self.diff, 1)
        layout.addStretch(0)

    def show_message(self, headline: str, detail: str) -> None:
        """``detail`` is rich text: escape what comes from outside."""
        self.headline.setText(headline)
        self.headline.setStyleSheet("color: #c62828;" if headline != "—" else "")
        self.identity.setText("")
        self.identity.hide()
        self.detail.setText(detail)
        self.compared.setText("")
        self.diff.setRowCount(0)
        self.diff.hide()

    def show_preview(self, preview: ExperimentPreview) -> None:
        self.headline.setText(preview.headline)
        self.headline.setStyleSheet(f"color: {MODE_COLOURS[preview.mode]};")
        shown_id = preview.experiment_id or "assigned at submit"
        theme = html.escape(preview.theme, quote=False)
        self.identity.setText(f"experiment id <b>{shown_id}</b> · theme {theme}")
        self.identity.show()
        notes = [f"<i>{html.escape(note, quote=False)}</i>" for note in preview.notes]
        self.detail.setText("<br>".join([html.escape(preview.detail, quote=False), *notes]))
        nearest = preview.nearest
        if nearest is None:
            self.compared.setText(f"<qt>No earlier experiment of theme {theme!r} to compare.</qt>")
            self.diff.setRowCount(0)
            self.diff.hide()
            return
        when = time.strftime("%Y-%m-%d %H:%M", time.localtime(nearest.modified))
        same = nearest.experiment_id == preview.experiment_id
        what = "this experiment as recorded" if same else "nearest earlier experiment"
        changes = preview.changes
        summary = f"{len(changes)} difference(s)" if changes else "no difference"
        self.compared.setText(
            f"Compared with {what} <b>{nearest.experiment_id}</b> ({when}): {summary}"
        )
        self.diff.setRowCount(len(changes))
        self.diff.setVisible(bool(changes))
        for row, change in enumerate(changes):
            key = ROW_NAMES.get(change.key, change.key)
            for column, text in enumerate((key, _text(change.earlier), _text(change.current))):
                self.diff.setItem(row, column, QTableWidgetItem(text))


def to_qimage(array: np.ndarray) -> QImage:
    """An HxWxC uint8 array (C = 1 or 3) as a QImage that owns its pixels."""
    array = np.ascontiguousarray(array)
    height, width = array.shape[:2]
    if array.ndim == 2 or array.shape[2] == 1:
        grey = np.ascontiguousarray(array.reshape(height, width))
        return QImage(grey.data, width, height, width, QImage.Format.Format_Grayscale8).copy()
    return QImage(array.data, width, height, 3 * width, QImage.Format.Format_RGB888).copy()


class AugmentationGrid(QScrollArea):
    """One row per real image: the image as the network gets it, then its augmentations."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.tiles: list[QLabel] = []
        self.show_message("Open this tab to see augmented images of the theme.")

    def show_message(self, text: str, error: bool = False) -> None:
        label = QLabel(text)
        label.setWordWrap(True)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        if error:
            label.setStyleSheet("color: #c62828;")
        self.tiles = []
        self.setWidget(label)

    def show_samples(self, samples: list[Any]) -> None:
        body = QWidget()
        grid = QGridLayout(body)
        self.tiles = []
        for row, sample in enumerate(samples):
            images = [("as trained on", sample.original)] + [
                (f"augmented {i + 1}", v) for i, v in enumerate(sample.variants)
            ]
            for column, (caption, array) in enumerate(images):
                tile = QLabel()
                pixmap = QPixmap.fromImage(to_qimage(array)).scaled(
                    THUMB,
                    THUMB,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,
                )
                tile.setPixmap(pixmap)
                tile.setToolTip(plain_rich(f"{sample.image_path} · {sample.label} · {caption}"))
                tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(tile, row * 2, column)
                note = plain(QLabel(f"{sample.label} · original" if column == 0 else caption))
                note.setAlignment(Qt.AlignmentFlag.AlignCenter)
                grid.addWidget(note, row * 2 + 1, column)
                if column:
                    self.tiles.append(tile)
        grid.setRowStretch(len(samples) * 2, 1)
        self.setWidget(body)

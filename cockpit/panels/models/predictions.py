"""Predictions of dropped images: thumbnail, top class and the next ones with their
probabilities."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QColor, QImageReader, QPixmap
from PySide6.QtWidgets import QListWidget, QListWidgetItem

THUMB = 56
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".gif", ".webp"}


def image_files(paths: list[Path]) -> list[Path]:
    """Dropped files as they are; folders give the image files inside them."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES))
        else:
            found.append(path)
    return found


def thumbnail(path: str) -> QPixmap:
    reader = QImageReader(path)
    size = reader.size()
    if size.isValid() and max(size.width(), size.height()) > THUMB:
        reader.setScaledSize(size.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        return QPixmap()
    # tiny images are shown enlarged, pixel for pixel
    return QPixmap.fromImage(image).scaled(
        THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation
    )


class PredictionList(QListWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setIconSize(QSize(THUMB, THUMB))
        self.setSpacing(2)
        self.setAlternatingRowColors(True)
        self.setAcceptDrops(False)  # the panel takes the drop

    def show_report(self, report: dict[str, Any]) -> None:
        self.clear()
        for entry in report["predictions"]:
            name = Path(entry["path"]).name
            if entry.get("error"):
                text = f"{name}\n    {entry['error']}"
            else:
                rest = "   ".join(f"{label} {p:.1%}" for label, p in entry["top"][1:])
                text = f"{name}  →  {entry['label']}  {entry['probability']:.1%}\n    {rest}"
            item = QListWidgetItem(text)
            item.setIcon(thumbnail(entry["path"]))
            item.setSizeHint(QSize(0, THUMB + 6))
            item.setToolTip(entry["path"])
            item.setData(Qt.ItemDataRole.UserRole, entry)
            if entry.get("error"):
                item.setForeground(QColor("#c62828"))
            self.addItem(item)

    def labels(self) -> list[str | None]:
        return [self.item(r).data(Qt.ItemDataRole.UserRole)["label"] for r in range(self.count())]

"""Label chips: one coloured button per label with its hotkey and image count.

A chip is bound to its label (the id), not to its place: filtering the chips never moves
a key to another label. Keys go 1-9, 0, then a-z in the labels' creation order; a label
whose name is one of those characters (labels named "0" to "9") gets that very key, so
adding such a label can take its key from a label that had it by order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QPushButton, QSizePolicy, QWidget

from cockpit.panels.labeling.model import IMAGE_IDS_MIME
from cockpit.richtext import plain_rich

HOTKEYS = "1234567890abcdefghijklmnopqrstuvwxyz"
UNLABEL_KEYS = "Del"

# a qualitative palette (Tableau 10, then its light partners): distinct hues, each strong
# enough for a badge on light and on dark backgrounds
_PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#86bcb6",
    "#d37295",
    "#a0cbe8",
    "#ffbe7d",
    "#8cd17d",
    "#f1ce63",
)


def label_colour(position: int) -> QColor:
    """The colour of a theme's ``position``-th label (creation order): the palette, then
    golden-angle hues, so any number of labels stay apart."""
    if position < len(_PALETTE):
        return QColor(_PALETTE[position])
    hue = (position * 0.618033988749895) % 1.0
    return QColor.fromHsvF(hue, 0.55, 0.85)


def text_colour_on(background: QColor) -> QColor:
    """Black or white, whichever reads better on ``background`` (relative luminance)."""
    r, g, b = (c / 255 for c in (background.red(), background.green(), background.blue()))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return QColor("#000000") if luminance > 0.5 else QColor("#ffffff")


def assign_hotkeys(names: Sequence[str]) -> list[str | None]:
    """Each label's key (in the order given), None once the keys run out. A label named
    as a key character gets that key; the others take the free keys in order."""
    keys: list[str | None] = [None] * len(names)
    taken: set[str] = set()
    for i, name in enumerate(names):
        own = name.strip().lower()
        if len(own) == 1 and own in HOTKEYS and own not in taken:
            keys[i] = own
            taken.add(own)
    free = iter(k for k in HOTKEYS if k not in taken)
    for i in range(len(names)):
        if keys[i] is None:
            keys[i] = next(free, None)
    return keys


def key_of_event(key: int, text: str) -> str | None:
    """The hotkey character a key press means (digits and letters, any keyboard case)."""
    if Qt.Key.Key_0 <= key <= Qt.Key.Key_9:
        return chr(key)
    if Qt.Key.Key_A <= key <= Qt.Key.Key_Z:
        return chr(key).lower()
    return text.lower() if len(text) == 1 and text.lower() in HOTKEYS else None


class LabelChip(QPushButton):
    """One label: click labels the selection, thumbnails dropped on it get the label,
    image files or folders dropped on it are imported with the label."""

    sig_dropped = Signal(object, list)  # label id (None = unlabel), image ids
    sig_files_dropped = Signal(object, list)  # label id (None = unlabeled), paths

    def __init__(
        self,
        label_id: int | None,
        name: str,
        key: str | None,
        colour: QColor | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.label_id, self.name, self.key, self.colour = label_id, name, key, colour
        self.count = 0
        self.setAcceptDrops(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys belong to the grid
        edge = colour.name() if colour is not None else "palette(mid)"
        self.setStyleSheet(
            "QPushButton { text-align: left; padding: 4px 6px; border-radius: 4px;"
            " background: palette(button); color: palette(button-text);"
            f" border: 1px solid palette(mid); border-left: 10px solid {edge}; }}"
            " QPushButton:hover { background: palette(midlight); }"
            " QPushButton:pressed { background: palette(dark); }"
        )
        self.set_count(0)

    def set_count(self, count: int) -> None:
        self.count = count
        key = f"[{self.key}]" if self.key else "[ ]"
        self.setText(f"{key}  {self.name}  ({count})")
        what = "remove the label of" if self.label_id is None else f"label {self.name!r}"
        hint = f" (key {self.key})" if self.key else ""
        self.setToolTip(
            plain_rich(
                f"click{hint}: {what} the selected images\n"
                "drop thumbnails here to give them this label\n"
                "drop image files or folders here to import them "
                + ("unlabeled" if self.label_id is None else "with this label")
            )
        )

    def _accepts(self, event: QDragEnterEvent | QDragMoveEvent | QDropEvent) -> bool:
        data = event.mimeData()
        return data.hasFormat(IMAGE_IDS_MIME) or any(u.isLocalFile() for u in data.urls())

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._accepts(event):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        if data.hasFormat(IMAGE_IDS_MIME):
            raw = bytes(data.data(IMAGE_IDS_MIME)).decode()
            self.sig_dropped.emit(self.label_id, [int(part) for part in raw.split(",") if part])
        else:
            paths = [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]
            if not paths:
                return
            self.sig_files_dropped.emit(self.label_id, paths)
        event.acceptProposedAction()

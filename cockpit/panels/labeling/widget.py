"""Labeling: a virtualised thumbnail grid of a theme's images with coloured label badges.
Import with the Import… button or by dropping files or folders (on the grid: unlabeled; on
a label chip: with that label); label the selection with a chip's key (1-9, 0, then
letters; Delete unlabels), by clicking a chip or by dragging thumbnails onto it; undo/redo;
filter by label, split and name; a large preview decoded in the background with zoom;
assign splits."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
    QShowEvent,
    QUndoStack,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMenu,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.labeling.assist import AssistBar, AssistDelegate, handle_key
from cockpit.panels.labeling.chips import (
    UNLABEL_KEYS,
    LabelChip,
    assign_hotkeys,
    key_of_event,
    label_colour,
)
from cockpit.panels.labeling.commands import LabelCommand, SerialWriter
from cockpit.panels.labeling.delegate import CELL
from cockpit.panels.labeling.model import ImageGridModel, LabelRole
from cockpit.panels.labeling.preview import ImagePreview, PreviewLoader
from cockpit.panels.labeling.thumbnails import THUMB_SIZE, ThumbnailCache
from cockpit.richtext import escaped, plain_rich
from cockpit.workers import run_in_background
from core.workspace import Workspace

ALL, UNLABELED = -2, -1


def _load_rows(
    workspace: Workspace, theme: str, label: int, split: str | None, search: str
) -> dict[str, Any]:
    from sqlalchemy import select

    from core.data.browse import UNLABELED as NO_LABEL
    from core.data.browse import ImageFilter, list_images
    from core.data.labeling import label_counts
    from core.data.themes import get_theme
    from core.db import Theme, open_database

    db = open_database(workspace)
    with db.session() as session:
        found = get_theme(session, theme)
        labels = [(lb.id, lb.label_name) for lb in found.labels]
        theme_id = found.id
        themes = list(session.scalars(select(Theme.name).order_by(Theme.name)))
    label_filter = None if label == ALL else (NO_LABEL if label == UNLABELED else label)
    spec = ImageFilter(theme_id, label_filter, split, search)
    return {
        "theme": theme,
        "themes": themes,
        "theme_id": theme_id,
        "labels": labels,
        "counts": label_counts(db, theme_id),
        "rows": list_images(db, spec, 0, 10_000_000),
    }


def _load_themes(workspace: Workspace) -> list[str]:
    from sqlalchemy import select

    from core.db import Theme, open_database

    with open_database(workspace).session() as session:
        return list(session.scalars(select(Theme.name).order_by(Theme.name)))


class ImportCancelled(Exception):
    """Raised in the importer's progress callback when the user cancels: the importer
    keeps the batches it committed and removes the files of the unfinished one."""


class _ImportProgress(QObject):
    """Carries the importer's progress callback (a worker thread) to the progress bar."""

    sig_progress = Signal(int, int)


class LabelingPanel(QWidget):
    sig_loaded = Signal()
    sig_data_changed = Signal()
    sig_import_finished = Signal(object)  # ImportReport
    sig_theme_selected = Signal(str)  # the user chose another theme in the panel's picker

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.theme: str | None = None
        self.theme_id: int | None = None
        self.labels: list[tuple[int, str]] = []
        self.counts: dict[int | None, int] = {}
        self.chips: dict[int | None, LabelChip] = {}  # label id (None = unlabel) -> chip
        self.hotkeys: dict[str, int] = {}  # key character -> label id
        self._preview_key: object = None  # the image the preview shows
        self._generation = 0  # a load answered after a newer one started is dropped
        self._import_cancel: threading.Event | None = None
        self.undo_stack = QUndoStack(self)
        self.writer = SerialWriter(self)
        self.writer.sig_failed.connect(self._write_failed)
        self.thumbnails = ThumbnailCache(
            workspace.root, workspace.root / "output" / "thumbnails", self
        )
        self.model = ImageGridModel(self.thumbnails, self)
        self.previews = PreviewLoader(self)
        self.previews.sig_ready.connect(self._preview_ready)
        self.setAcceptDrops(True)
        # model-assisted labeling (assist.py): suggestion bar, ghost badges, Enter accepts
        self.assist = AssistBar(workspace, self)
        self._build()

    # --- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.theme_picker = QComboBox()
        self.theme_picker.setToolTip("the theme whose images are being labeled")
        self.theme_picker.setMinimumContentsLength(12)
        self.theme_picker.activated.connect(self._theme_picked)
        self.label_filter = QComboBox()
        self.label_filter.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.label_filter.setToolTip("show the images of one label, or the unlabeled ones")
        self.split_filter = QComboBox()
        self.split_filter.setToolTip("show the images of one split")
        for text, value in (
            ("any split", None),
            ("train", "train"),
            ("valid", "valid"),
            ("test", "test"),
            ("not split", "none"),
        ):
            self.split_filter.addItem(text, value)
        self.search = QLineEdit(placeholderText="search file names")
        self.search.setToolTip("show images whose original file name contains this text")
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(self._search_timer.start)
        self.label_filter.activated.connect(self.reload)
        self.split_filter.activated.connect(self.reload)
        import_button = QPushButton("Import…")
        import_button.setToolTip(
            "import image files or folders into this theme, unlabeled (class folders give "
            "labels); drop files on a label chip to import them with that label"
        )
        menu = QMenu(import_button)
        self.import_files_action = menu.addAction("Image files…", self.choose_files)
        self.import_folder_action = menu.addAction("Folder…", self.choose_folder)
        import_button.setMenu(menu)
        split_button = QPushButton("Assign splits")
        split_button.setToolTip(
            "train/valid/test for labeled images without a split "
            "(0.7/0.15/0.15, stratified; existing splits kept)"
        )
        split_button.clicked.connect(self.assign_splits)
        undo = QPushButton("Undo")
        undo.setToolTip("undo the last label change (Ctrl+Z)")
        undo.clicked.connect(self.undo_stack.undo)
        redo = QPushButton("Redo")
        redo.setToolTip("redo the label change undone (Ctrl+Shift+Z)")
        redo.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(undo.setEnabled)
        self.undo_stack.canRedoChanged.connect(redo.setEnabled)
        undo.setEnabled(False)
        redo.setEnabled(False)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo_stack.undo)
        QShortcut(QKeySequence.StandardKey.Redo, self, self.undo_stack.redo)
        self.count = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Theme"))
        bar.addWidget(self.theme_picker)
        bar.addSpacing(12)
        for widget in (QLabel("Show"), self.label_filter, self.split_filter, self.search):
            bar.addWidget(widget)
        bar.addWidget(self.count, 1)
        for widget in (import_button, split_button, undo, redo):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the grid
            bar.addWidget(widget)

        self.grid = QListView()
        self.grid.setModel(self.model)
        self.grid.setItemDelegate(AssistDelegate(self.assist, self.grid))  # + ghost badges
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)  # lay out 20k items in slices
        self.grid.setBatchSize(400)
        self.grid.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.grid.setGridSize(CELL)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setDragEnabled(True)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.grid.setMouseTracking(True)
        self.grid.installEventFilter(self)
        self.grid.selectionModel().currentChanged.connect(self._show_preview)
        self.setFocusProxy(self.grid)

        # the label column: progress, a filter for long label sets, the chips
        self.progress_text = QLabel()
        self.progress_text.setTextFormat(Qt.TextFormat.PlainText)
        self.labeled_bar = QProgressBar()
        self.labeled_bar.setTextVisible(False)
        self.labeled_bar.setMaximumHeight(8)
        self.chip_filter = QLineEdit(placeholderText="filter labels ( / )")
        self.chip_filter.setToolTip(
            "type to show only matching labels; Enter gives the selection the first one "
            "shown, Esc goes back to the grid"
        )
        self.chip_filter.setClearButtonEnabled(True)
        self.chip_filter.textChanged.connect(self._filter_chips)
        self.chip_filter.returnPressed.connect(self._apply_first_chip)
        self.chip_filter.installEventFilter(self)
        self.chip_box = QWidget()
        self.chip_layout = QVBoxLayout(self.chip_box)
        self.chip_layout.setContentsMargins(0, 0, 0, 0)
        self.chip_layout.setSpacing(3)
        chip_scroll = QScrollArea()
        chip_scroll.setWidget(self.chip_box)
        chip_scroll.setWidgetResizable(True)
        chip_scroll.setFrameShape(QFrame.Shape.NoFrame)
        chip_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.unlabel_chip = LabelChip(None, "unlabel", UNLABEL_KEYS, None)
        self._connect_chip(self.unlabel_chip)
        self.chip_layout.addWidget(self.unlabel_chip)
        self.chip_layout.addStretch(1)
        labels_column = QWidget()
        column = QVBoxLayout(labels_column)
        column.setContentsMargins(0, 0, 4, 0)
        column.addWidget(self.progress_text)
        column.addWidget(self.labeled_bar)
        column.addWidget(self.chip_filter)
        column.addWidget(chip_scroll, 1)
        labels_column.setMinimumWidth(190)

        self.preview = ImagePreview()
        self.preview.setToolTip("wheel: zoom, drag: move, double-click: fit")
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(25, 800)
        self.zoom.setValue(100)
        self.zoom.setToolTip("zoom (100 % = the image fitted to the preview)")
        self.zoom.valueChanged.connect(lambda value: self.preview.set_zoom(value / 100))
        self.preview.sig_zoom_changed.connect(lambda z: self.zoom.setValue(round(z * 100)))
        self.preview_caption = QLabel()
        self.preview_caption.setTextFormat(Qt.TextFormat.PlainText)
        self.preview_caption.setWordWrap(True)
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.setContentsMargins(4, 0, 0, 0)
        preview_layout.addWidget(self.preview, 1)
        preview_layout.addWidget(self.preview_caption)
        zoom_row = QHBoxLayout()
        zoom_row.addWidget(QLabel("zoom"))
        zoom_row.addWidget(self.zoom, 1)
        preview_layout.addLayout(zoom_row)

        self.progress = QProgressBar()
        self._import_progress = _ImportProgress(self)
        self._import_progress.sig_progress.connect(self._show_progress)
        self.cancel_import = QPushButton("Cancel import")
        self.cancel_import.setToolTip("stop importing; the images already imported are kept")
        self.cancel_import.clicked.connect(self._cancel_import)
        self.import_row = QWidget()
        import_layout = QHBoxLayout(self.import_row)
        import_layout.setContentsMargins(0, 0, 0, 0)
        import_layout.addWidget(self.progress, 1)
        import_layout.addWidget(self.cancel_import)
        self.import_row.hide()
        self.message = QLabel(
            "drop image files or folders on the grid to import them unlabeled, "
            "or on a label to import them with that label"
        )
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        splitter = QSplitter()
        splitter.addWidget(labels_column)
        splitter.addWidget(self.grid)
        splitter.addWidget(preview_box)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([220, 700, 360])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        self.assist.sig_labels_changed.connect(self.reload)
        self.assist.sig_view_changed.connect(self.reload)
        layout.addWidget(self.assist)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.import_row)
        layout.addWidget(self.message)

    def shutdown(self) -> None:
        """Finish background work before the window goes: label writes, thumbnails,
        previews; a running import is cancelled."""
        if self._import_cancel is not None:
            self._import_cancel.set()
        self.writer.wait()
        self.thumbnails.stop()
        self.previews.stop()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # entering the tab: the keys label at once, no click on the grid first
        QTimer.singleShot(0, self._focus_grid)

    def _focus_grid(self) -> None:
        if self.isVisible() and not self.chip_filter.hasFocus() and not self.search.hasFocus():
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- loading ---------------------------------------------------------------------------
    def set_theme(self, name: str | None) -> None:
        if name != self.theme:
            self.theme = name
            self.theme_id = None
            self.undo_stack.clear()
            self.label_filter.setCurrentIndex(0)
            self.preview.set_levels([])
            self.preview_caption.clear()
            self.model.set_rows([], {})  # never the old theme's images under the new name
            self.assist.set_theme(name)
        self.reload()

    def _theme_picked(self, _index: int) -> None:
        name = self.theme_picker.currentText()
        if name and name != self.theme:
            self.set_theme(name)
            self.sig_theme_selected.emit(name)
        self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

    def reload(self) -> None:
        self._generation += 1
        generation = self._generation
        workspace = self.workspace
        if not self.theme:
            self.model.set_rows([], {})
            self.count.setText("no theme chosen: pick one, or create one in Themes & Labels")
            run_in_background(
                lambda: _load_themes(workspace),
                lambda themes: self._show_themes(themes, None),
                self._failed,
            )
            self.sig_loaded.emit()
            return
        label = self.label_filter.currentData()
        theme = self.theme
        split, search = self.split_filter.currentData(), self.search.text().strip()
        run_in_background(
            lambda: _load_rows(workspace, theme, ALL if label is None else label, split, search),
            lambda data: self._show_rows(data, generation),
            lambda exc: self._load_failed(exc, generation),
        )

    def _show_themes(self, themes: list[str], current: str | None) -> None:
        self.theme_picker.blockSignals(True)
        self.theme_picker.clear()
        self.theme_picker.addItems(themes)
        self.theme_picker.setCurrentIndex(self.theme_picker.findText(current) if current else -1)
        self.theme_picker.blockSignals(False)

    def _show_rows(self, data: dict[str, Any], generation: int) -> None:
        if generation != self._generation or data["theme"] != self.theme:
            return  # a newer load is on its way
        self._show_themes(data["themes"], data["theme"])
        self.theme_id = data["theme_id"]
        self.counts = dict(data["counts"])
        if data["labels"] != self.labels or not self.chips:
            self.labels = data["labels"]
            self._rebuild_label_controls()
        current = self.grid.currentIndex()
        current_id = self.model.rows[current.row()].id if current.isValid() else None
        rows = self.assist.arrange(data["rows"])  # sort/filter by the suggestions
        self.model.set_rows(rows, dict(self.labels), self.label_colours())
        self._show_counts()
        self.count.setText(f"{len(rows)} image(s) shown")
        if self.model.rowCount():
            # the image the user was on stays current; else the first one, so keys work
            row = self.model.row_of.get(current_id, 0) if current_id is not None else 0
            self.grid.setCurrentIndex(self.model.index(row))
            self.grid.scrollTo(self.model.index(row))
        self.sig_loaded.emit()

    def label_colours(self) -> dict[int, QColor]:
        return {label_id: label_colour(i) for i, (label_id, _name) in enumerate(self.labels)}

    def _rebuild_label_controls(self) -> None:
        current = self.label_filter.currentData()
        self.label_filter.clear()
        self.label_filter.addItem("all images", ALL)
        self.label_filter.addItem("unlabeled", UNLABELED)
        for label_id, name in self.labels:
            self.label_filter.addItem(f"label: {name}", label_id)
        found = self.label_filter.findData(current)
        self.label_filter.setCurrentIndex(max(0, found))
        for chip in [c for c in self.chips.values() if c is not self.unlabel_chip]:
            self.chip_layout.removeWidget(chip)
            chip.deleteLater()
        while self.chip_layout.count():  # the unlabel chip and the stretch (no widget)
            self.chip_layout.takeAt(0)
        self.chips = {None: self.unlabel_chip}
        self.hotkeys = {}
        keys = assign_hotkeys([name for _id, name in self.labels])
        colours = self.label_colours()
        for (label_id, name), key in zip(self.labels, keys, strict=True):
            chip = LabelChip(label_id, name, key, colours[label_id])
            self._connect_chip(chip)
            self.chip_layout.addWidget(chip)
            self.chips[label_id] = chip
            if key is not None:
                self.hotkeys[key] = label_id
        self.chip_layout.addSpacing(6)
        self.chip_layout.addWidget(self.unlabel_chip)
        self.chip_layout.addStretch(1)
        self._filter_chips(self.chip_filter.text())

    def _connect_chip(self, chip: LabelChip) -> None:
        chip.clicked.connect(lambda _checked=False, c=chip: self.label_selection(c.label_id))
        chip.sig_dropped.connect(self.label_images)
        chip.sig_files_dropped.connect(self._import_on_chip)

    def _import_on_chip(self, label_id: int | None, paths: list[Path]) -> None:
        self.import_paths(paths, dict(self.labels).get(label_id) if label_id else None)

    def _show_counts(self) -> None:
        total = sum(self.counts.values())
        labeled = total - self.counts.get(None, 0)
        for label_id, chip in self.chips.items():
            chip.set_count(self.counts.get(label_id, 0))
        share = f" ({100 * labeled / total:.0f} %)" if total else ""
        self.progress_text.setText(f"{self.theme}: labeled {labeled} of {total}{share}")
        self.labeled_bar.setRange(0, max(total, 1))
        self.labeled_bar.setValue(labeled)

    def _filter_chips(self, text: str) -> None:
        wanted = text.strip().lower()
        for label_id, chip in self.chips.items():
            if label_id is not None:
                chip.setVisible(not wanted or wanted in chip.name.lower())

    def _apply_first_chip(self) -> None:
        shown = [c for i, c in self.chips.items() if i is not None and not c.isHidden()]
        if shown and shown[0].label_id is not None:
            self._label_by_key(shown[0].label_id)
        self.chip_filter.clear()
        self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(f"<span style='color:#c62828'>{escaped(exc)}</span>")
        self.sig_loaded.emit()

    def _load_failed(self, exc: BaseException, generation: int) -> None:
        if generation == self._generation:
            self._failed(exc)

    def _write_failed(self, text: str) -> None:
        self.message.setText(
            f"<span style='color:#c62828'>could not save labels: {escaped(text)}</span>"
        )
        self.undo_stack.clear()
        self.reload()

    # --- labeling ----------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        return [self.model.rows[r].id for r in rows]

    def label_selection(self, label_id: int | None) -> None:
        self.label_images(label_id, self.selected_ids())

    def label_images(self, label_id: int | None, ids: list[int]) -> None:
        if not ids or self.theme_id is None:
            return
        previous = {
            i: self.model.rows[self.model.row_of[i]].label_id for i in ids if i in self.model.row_of
        }
        name = dict(self.labels).get(label_id, "unlabeled") if label_id else "unlabeled"
        text = f"label {len(ids)} image(s) {name}"
        self.undo_stack.push(
            LabelCommand(text, dict.fromkeys(ids, label_id), previous, self._apply_labels)
        )

    def _apply_labels(self, labels: dict[int, int | None], restoring: bool) -> None:
        from core.data.labeling import restore_labels, set_labels
        from core.db import open_database

        for image_id, label_id in labels.items():
            position = self.model.row_of.get(image_id)
            if position is not None:
                old = self.model.rows[position].label_id
                self.counts[old] = self.counts.get(old, 0) - 1
                self.counts[label_id] = self.counts.get(label_id, 0) + 1
        self.model.set_labels(labels)
        self._show_counts()
        self._show_caption(self.grid.currentIndex())
        db, theme_id = open_database(self.workspace), self.theme_id
        if restoring:
            self.writer.submit(lambda: restore_labels(db, theme_id, labels))
        else:
            [label_id] = set(labels.values())
            self.writer.submit(lambda: set_labels(db, theme_id, list(labels), label_id))
        self.sig_data_changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress:
            return super().eventFilter(watched, event)
        if watched is self.chip_filter and event.key() == Qt.Key.Key_Escape:
            self.chip_filter.clear()
            self.grid.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return True
        if watched is self.grid:
            modifiers = event.modifiers() & ~(
                Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier
            )
            if modifiers != Qt.KeyboardModifier.NoModifier:
                return False  # Ctrl+A, Ctrl+Z, …
            if handle_key(self.assist, event, self.selected_ids()):
                return True  # Enter: accept the selection's suggestions
            key = event.key()
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.label_selection(None)
                return True
            if key == Qt.Key.Key_Slash:
                self.chip_filter.setFocus(Qt.FocusReason.ShortcutFocusReason)
                return True
            character = key_of_event(key, event.text())
            if character is not None and character in self.hotkeys:
                self._label_by_key(self.hotkeys[character])
                return True
            if character is not None:  # not the view's jump-to-name search: say why not
                self.message.setText(
                    plain_rich(
                        f"no label has the key {character}"
                        + ("" if self.labels else "; add labels in Themes & Labels")
                    )
                )
                return True
        return super().eventFilter(watched, event)

    def _label_by_key(self, label_id: int) -> None:
        """Label the selection; with one image selected, go on to the next one."""
        selected = self.selected_ids()
        if not selected:
            self.message.setText("select images first (click, Shift/Ctrl+click or drag)")
            return
        self.label_selection(label_id)
        current = self.grid.currentIndex()
        if len(selected) == 1 and current.isValid() and current.row() + 1 < self.model.rowCount():
            following = self.model.index(current.row() + 1)
            self.grid.setCurrentIndex(following)
            self.grid.scrollTo(following)

    # --- preview ----------------------------------------------------------------------------
    def _show_preview(self, index: Any, _previous: Any = None) -> None:
        if not index.isValid():
            return
        row = self.model.rows[index.row()]
        self._show_caption(index)
        self._preview_key = None
        self.preview.set_levels([], "decoding…")  # never the last image under this caption
        self.previews.request(row.image_path, self.workspace.root / row.image_path)

    def _show_caption(self, index: Any) -> None:
        if not index.isValid():
            return
        row = self.model.rows[index.row()]
        label = dict(self.labels).get(index.data(LabelRole), "unlabeled")
        self.preview_caption.setText(f"{row.original_name}: {label}, split {row.split or 'none'}")

    def _preview_ready(self, key: object, levels: list) -> None:
        same = key == self._preview_key
        self._preview_key = key
        self.preview.provisional = not self.previews.complete  # the smallest level first
        self.preview.set_levels(levels, "" if levels else "cannot read this image", same_image=same)

    # --- splits and import -------------------------------------------------------------------
    def assign_splits(self) -> None:
        from core.data.splits import assign_splits
        from core.db import open_database

        if not self.theme:
            return
        db, theme = open_database(self.workspace), self.theme
        self.writer.wait()
        run_in_background(lambda: assign_splits(db, theme), self._splits_done, self._failed)

    def _splits_done(self, report: Any) -> None:
        self.message.setText(
            f"assigned {report.newly_assigned} image(s) to splits; existing assignments kept"
        )
        self.sig_data_changed.emit()
        self.reload()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and self.theme:
            event.acceptProposedAction()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls() and self.theme:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.import_paths(paths)
            event.acceptProposedAction()

    def choose_files(self) -> None:
        dialog = QFileDialog(self, "Import image files")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(
            "Images (*.png *.jpg *.jpeg *.bmp *.gif *.tif *.tiff *.webp);;All files (*)"
        )
        dialog.filesSelected.connect(lambda files: self.import_paths([Path(f) for f in files]))
        dialog.open()

    def choose_folder(self) -> None:
        dialog = QFileDialog(self, "Import a folder of images")
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        dialog.filesSelected.connect(lambda files: self.import_paths([Path(f) for f in files]))
        dialog.open()

    def import_paths(self, paths: list[Path], label: str | None = None) -> None:
        """Import files and folders into the theme, labeled ``label`` when given; in the
        background, with progress and a cancel button."""
        from core.data.importer import import_images
        from core.db import open_database

        if not self.theme:
            self.message.setText("choose a theme before importing")
            return
        if self._import_cancel is not None:
            self.message.setText("an import is running: wait for it or cancel it first")
            return
        db, workspace, theme = open_database(self.workspace), self.workspace, self.theme
        cancel = self._import_cancel = threading.Event()
        self.progress.setRange(0, 0)
        self.import_row.show()
        what = f" as {label!r}" if label else ""
        self.message.setText(plain_rich(f"importing {len(paths)} item(s){what}…"))
        signal = self._import_progress.sig_progress

        def progress(done: int, total: int, _path: Path) -> None:
            if cancel.is_set():
                raise ImportCancelled
            signal.emit(done, total)

        run_in_background(
            lambda: import_images(
                db,
                workspace,
                theme,
                paths,
                label=label,
                # dropped on a label: every image gets it, whatever its folder is named
                imagefolder=False if label else None,
                progress=progress,
            ),
            self._import_done,
            self._import_failed,
        )

    def _cancel_import(self) -> None:
        if self._import_cancel is not None:
            self._import_cancel.set()
            self.message.setText("cancelling the import…")

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.setFormat("%v of %m files")

    def _import_done(self, report: Any) -> None:
        self._import_cancel = None
        self.import_row.hide()
        lines = [
            f"imported {report.imported} image(s); {len(report.duplicates)} duplicate(s), "
            f"{len(report.rejected)} skipped"
        ]
        if report.splits_line():
            lines.append(report.splits_line())
        lines += [f"skipped {p.name}: {reason}" for p, reason in report.rejected[:20]]
        if len(report.rejected) > 20:
            lines.append(f"… and {len(report.rejected) - 20} more")
        self.message.setText(plain_rich("\n".join(lines)))
        self.sig_import_finished.emit(report)
        self.sig_data_changed.emit()
        self.reload()

    def _import_failed(self, exc: BaseException) -> None:
        self._import_cancel = None
        self.import_row.hide()
        if isinstance(exc, ImportCancelled):
            self.message.setText("import cancelled; the images imported before it stopped are kept")
            self.sig_import_finished.emit(None)
            self.sig_data_changed.emit()
            self.reload()
            return
        self._failed(exc)

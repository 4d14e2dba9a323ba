"""Labeling: a virtualised thumbnail grid of a theme's images. Drop files or folders to
import them; label the selection with keys 1-9 (0 or Delete unlabels), the label buttons,
or by dragging thumbnails onto a label button; undo/redo; filter by label, split and
name; a large preview with zoom; assign splits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeySequence, QPixmap, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.labeling.commands import LabelCommand, SerialWriter
from cockpit.panels.labeling.model import IMAGE_IDS_MIME, ImageGridModel, LabelRole
from cockpit.panels.labeling.thumbnails import ThumbnailCache
from cockpit.richtext import escaped, plain_rich
from cockpit.workers import run_in_background
from core.workspace import Workspace

ALL, UNLABELED = -2, -1


def _load_rows(
    workspace: Workspace, theme: str, label: int, split: str | None, search: str
) -> dict[str, Any]:
    from core.data.browse import UNLABELED as NO_LABEL
    from core.data.browse import ImageFilter, list_images
    from core.data.themes import get_theme
    from core.db import open_database

    db = open_database(workspace)
    with db.session() as session:
        found = get_theme(session, theme)
        labels = [(lb.id, lb.label_name) for lb in found.labels]
        theme_id = found.id
    label_filter = None if label == ALL else (NO_LABEL if label == UNLABELED else label)
    spec = ImageFilter(theme_id, label_filter, split, search)
    return {"theme_id": theme_id, "labels": labels, "rows": list_images(db, spec, 0, 10_000_000)}


class LabelBin(QPushButton):
    """A label button: click labels the selection, thumbnails dropped on it get the label,
    files or folders dropped on it are imported with the label."""

    sig_dropped = Signal(object, list)  # label id (None = unlabel), image ids
    sig_files_dropped = Signal(object, list)  # label id, paths

    def __init__(self, text: str, label_id: int | None, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.label_id = label_id
        self.setAcceptDrops(True)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(IMAGE_IDS_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        raw = bytes(event.mimeData().data(IMAGE_IDS_MIME)).decode()
        ids = [int(part) for part in raw.split(",") if part]
        self.sig_dropped.emit(self.label_id, ids)
        event.acceptProposedAction()


class _ImportProgress(QObject):
    """Carries the importer's progress callback (a worker thread) to the progress bar."""

    sig_progress = Signal(int, int)


class LabelingPanel(QWidget):
    sig_loaded = Signal()
    sig_data_changed = Signal()
    sig_import_finished = Signal(object)  # ImportReport

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.theme: str | None = None
        self.theme_id: int | None = None
        self.labels: list[tuple[int, str]] = []
        self.undo_stack = QUndoStack(self)
        self.writer = SerialWriter(self)
        self.writer.sig_failed.connect(self._write_failed)
        self.thumbnails = ThumbnailCache(
            workspace.root, workspace.root / "output" / "thumbnails", self
        )
        self.model = ImageGridModel(self.thumbnails, self)
        self.setAcceptDrops(True)
        self._build()

    # --- layout --------------------------------------------------------------------------
    def _build(self) -> None:
        self.label_filter = QComboBox()
        self.split_filter = QComboBox()
        for text, value in (
            ("any split", None),
            ("train", "train"),
            ("valid", "valid"),
            ("test", "test"),
            ("not split", "none"),
        ):
            self.split_filter.addItem(text, value)
        self.search = QLineEdit(placeholderText="search file names")
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(self._search_timer.start)
        self.label_filter.activated.connect(self.reload)
        self.split_filter.activated.connect(self.reload)
        split_button = QPushButton("Assign splits")
        split_button.setToolTip(
            "train/valid/test for labeled images without a split "
            "(0.7/0.15/0.15, stratified; existing splits kept)"
        )
        split_button.clicked.connect(self.assign_splits)
        undo = QPushButton("Undo")
        undo.clicked.connect(self.undo_stack.undo)
        redo = QPushButton("Redo")
        redo.clicked.connect(self.undo_stack.redo)
        self.undo_stack.canUndoChanged.connect(undo.setEnabled)
        self.undo_stack.canRedoChanged.connect(redo.setEnabled)
        undo.setEnabled(False)
        redo.setEnabled(False)
        QShortcut(QKeySequence.StandardKey.Undo, self, self.undo_stack.undo)
        QShortcut(QKeySequence.StandardKey.Redo, self, self.undo_stack.redo)
        self.count = QLabel()
        bar = QHBoxLayout()
        for widget in (QLabel("Show"), self.label_filter, self.split_filter, self.search):
            bar.addWidget(widget)
        bar.addWidget(self.count, 1)
        for widget in (split_button, undo, redo):
            bar.addWidget(widget)

        self.grid = QListView()
        self.grid.setModel(self.model)
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setUniformItemSizes(True)
        self.grid.setLayoutMode(QListView.LayoutMode.Batched)  # lay out 20k items in slices
        self.grid.setBatchSize(400)
        self.grid.setIconSize(QSize(96, 96))
        self.grid.setGridSize(QSize(116, 126))
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.grid.setDragEnabled(True)
        self.grid.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.grid.installEventFilter(self)
        self.grid.selectionModel().currentChanged.connect(self._show_preview)

        self.bins = QHBoxLayout()
        self.bins_box = QWidget()
        self.bins_box.setLayout(self.bins)

        self.preview = QLabel("select an image")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        scroll = QScrollArea()
        scroll.setWidget(self.preview)
        scroll.setWidgetResizable(True)
        self.zoom = QSlider(Qt.Orientation.Horizontal)
        self.zoom.setRange(25, 800)
        self.zoom.setValue(100)
        self.zoom.valueChanged.connect(lambda _v: self._show_preview(self.grid.currentIndex()))
        preview_box = QWidget()
        preview_layout = QVBoxLayout(preview_box)
        preview_layout.addWidget(scroll, 1)
        preview_layout.addWidget(QLabel("zoom"))
        preview_layout.addWidget(self.zoom)

        self.progress = QProgressBar()
        self.progress.hide()
        self._import_progress = _ImportProgress(self)
        self._import_progress.sig_progress.connect(self._show_progress)
        self.message = QLabel("drop image files or folders here to import them")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        splitter = QSplitter()
        splitter.addWidget(self.grid)
        splitter.addWidget(preview_box)
        splitter.setSizes([800, 300])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.bins_box)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)

    def shutdown(self) -> None:
        """Finish background work before the window goes: label writes, thumbnails."""
        self.writer.wait()
        self.thumbnails.stop()

    # --- loading ---------------------------------------------------------------------------
    def set_theme(self, name: str | None) -> None:
        if name != self.theme:
            self.theme = name
            self.undo_stack.clear()
            self.label_filter.setCurrentIndex(0)
        self.reload()

    def reload(self) -> None:
        if not self.theme:
            self.model.set_rows([], {})
            self.count.setText("no theme selected")
            self.sig_loaded.emit()
            return
        label = self.label_filter.currentData()
        workspace, theme = self.workspace, self.theme
        split, search = self.split_filter.currentData(), self.search.text().strip()
        run_in_background(
            lambda: _load_rows(workspace, theme, ALL if label is None else label, split, search),
            self._show_rows,
            self._failed,
        )

    def _show_rows(self, data: dict[str, Any]) -> None:
        self.theme_id = data["theme_id"]
        if data["labels"] != self.labels:
            self.labels = data["labels"]
            self._rebuild_label_controls()
        self.model.set_rows(data["rows"], dict(self.labels))
        self.count.setText(f"{len(data['rows'])} image(s)")
        self.sig_loaded.emit()

    def _rebuild_label_controls(self) -> None:
        current = self.label_filter.currentData()
        self.label_filter.clear()
        self.label_filter.addItem("all images", ALL)
        self.label_filter.addItem("unlabeled", UNLABELED)
        for label_id, name in self.labels:
            self.label_filter.addItem(f"label: {name}", label_id)
        found = self.label_filter.findData(current)
        self.label_filter.setCurrentIndex(max(0, found))
        while self.bins.count():
            self.bins.takeAt(0).widget().deleteLater()
        for number, (label_id, name) in enumerate(self.labels[:9], 1):
            self._add_bin(f"{number}  {name}", label_id)
        self._add_bin("0  unlabel", None)
        self.bins.addStretch(1)

    def _add_bin(self, text: str, label_id: int | None) -> None:
        button = LabelBin(text, label_id)
        button.clicked.connect(lambda _checked=False, lid=label_id: self.label_selection(lid))
        button.sig_dropped.connect(self.label_images)
        button.sig_files_dropped.connect(
            lambda label_id, paths: self.import_paths(paths, dict(self.labels).get(label_id))
        )
        self.bins.addWidget(button)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(f"<span style='color:#c62828'>{escaped(exc)}</span>")
        self.sig_loaded.emit()

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

        self.model.set_labels(labels)
        db, theme_id = open_database(self.workspace), self.theme_id
        if restoring:
            self.writer.submit(lambda: restore_labels(db, theme_id, labels))
        else:
            [label_id] = set(labels.values())
            self.writer.submit(lambda: set_labels(db, theme_id, list(labels), label_id))
        self.sig_data_changed.emit()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.grid and event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_0, Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self.label_selection(None)
                return True
            if Qt.Key.Key_1 <= key <= Qt.Key.Key_9:
                index = key - Qt.Key.Key_1
                if index < len(self.labels):
                    self.label_selection(self.labels[index][0])
                return True
        return super().eventFilter(watched, event)

    # --- preview ----------------------------------------------------------------------------
    def _show_preview(self, index: Any, _previous: Any = None) -> None:
        if not index.isValid():
            return
        row = self.model.rows[index.row()]
        pixmap = QPixmap(str(self.workspace.root / row.image_path))
        if pixmap.isNull():
            self.preview.setText("cannot read this image")
            return
        # 100 % zoom = the image fitted to the preview area
        area = self.preview.parentWidget().size()
        fit = min(area.width() / pixmap.width(), area.height() / pixmap.height())
        size = pixmap.size() * (fit * self.zoom.value() / 100)
        self.preview.setPixmap(
            pixmap.scaled(
                size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
            )
        )
        label = dict(self.labels).get(index.data(LabelRole), "unlabeled")
        self.preview.setToolTip(
            plain_rich(f"{row.original_name}: {label}, split {row.split or 'none'}")
        )

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

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            self.import_paths(paths)
            event.acceptProposedAction()

    def import_paths(self, paths: list[Path], label: str | None = None) -> None:
        """Import files and folders into the theme, labeled ``label`` when given."""
        from core.data.importer import import_images
        from core.db import open_database

        if not self.theme:
            self.message.setText("choose a theme before importing")
            return
        db, workspace, theme = open_database(self.workspace), self.workspace, self.theme
        self.progress.setRange(0, 0)
        self.progress.show()
        self.message.setText(f"importing {len(paths)} item(s)…")
        signal = self._import_progress.sig_progress
        run_in_background(
            lambda: import_images(
                db,
                workspace,
                theme,
                paths,
                label=label,
                progress=lambda done, total, _path: signal.emit(done, total),
            ),
            self._import_done,
            self._import_failed,
        )

    def _show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _import_done(self, report: Any) -> None:
        self.progress.hide()
        lines = [
            f"imported {report.imported} image(s); {len(report.duplicates)} duplicate(s), "
            f"{len(report.rejected)} skipped"
        ]
        lines += [f"skipped {p.name}: {reason}" for p, reason in report.rejected[:20]]
        if len(report.rejected) > 20:
            lines.append(f"… and {len(report.rejected) - 20} more")
        self.message.setText(plain_rich("\n".join(lines)))
        self.sig_import_finished.emit(report)
        self.sig_data_changed.emit()
        self.reload()

    def _import_failed(self, exc: BaseException) -> None:
        self.progress.hide()
        self._failed(exc)

"""Themes & Labels: create, rename and delete themes and labels (the data layer's checks
shown inline), images per label and split with a class-balance bar."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from cockpit.panels.themes.balance import SPLIT_COLOURS, BalanceDelegate, BalanceRole
from cockpit.richtext import escaped, plain, plain_rich
from cockpit.workers import run_in_background
from core.workspace import Workspace

COLUMNS = ["Label", "Images", "Train", "Valid", "Test", "Not split", "Balance (train/valid/test/–)"]


def _load(workspace: Workspace, theme: str | None) -> dict[str, Any]:
    from core.data.themes import label_split_counts, list_themes
    from core.db import open_database

    db = open_database(workspace)
    themes = list_themes(db)
    names = [t.name for t in themes]
    chosen = theme if theme in names else (names[0] if names else None)
    counts = label_split_counts(db, chosen) if chosen else {}
    return {"themes": themes, "theme": chosen, "counts": counts}


class ThemesPanel(QWidget):
    sig_theme_selected = Signal(str)  # theme name
    sig_data_changed = Signal()
    sig_loaded = Signal()

    def __init__(self, workspace: Workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self.current_theme: str | None = None
        self._announced: str | None = None  # the theme sig_theme_selected last named
        self._filling = False

        self.theme_list = QListWidget()
        self.theme_list.currentItemChanged.connect(self._theme_clicked)
        self.new_theme = QLineEdit(placeholderText="new theme name")
        self.new_theme.returnPressed.connect(self._create_theme)
        add_theme = QPushButton("Create")
        add_theme.setToolTip("create a theme with the name typed beside it")
        add_theme.clicked.connect(self._create_theme)
        rename_theme = QPushButton("Rename…")
        rename_theme.setToolTip("rename the selected theme (its images and runs stay)")
        rename_theme.clicked.connect(self._rename_theme)
        delete_theme = QPushButton("Delete…")
        delete_theme.setToolTip("delete the selected theme after a confirmation")
        delete_theme.clicked.connect(self._delete_theme)
        left = QVBoxLayout()
        left.addWidget(QLabel("<b>Themes</b>"))
        left.addWidget(self.theme_list, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_theme, 1)
        row.addWidget(add_theme)
        left.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(rename_theme)
        row.addWidget(delete_theme)
        left.addLayout(row)

        self.title = QLabel("<b>Labels</b>")
        self.labels = QTableWidget(0, len(COLUMNS))
        self.labels.setHorizontalHeaderLabels(COLUMNS)
        self.labels.verticalHeader().hide()
        self.labels.horizontalHeader().setSectionResizeMode(
            len(COLUMNS) - 1, QHeaderView.ResizeMode.Stretch
        )
        self.labels.setItemDelegateForColumn(len(COLUMNS) - 1, BalanceDelegate(self.labels))
        self.labels.itemChanged.connect(self._label_edited)
        self.new_label = QLineEdit(placeholderText="new label name")
        self.new_label.returnPressed.connect(self._add_label)
        add_label = QPushButton("Add label")
        add_label.setToolTip("add the label typed beside it to the selected theme")
        add_label.clicked.connect(self._add_label)
        delete_label = QPushButton("Delete label…")
        delete_label.setToolTip(
            "delete the selected label after a confirmation; its images become unlabeled"
        )
        delete_label.clicked.connect(self._delete_label)
        self.message = plain(QLabel())
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        legend = "  ".join(
            f"<span style='color:{c}'>■</span> {s if s != 'none' else 'not split'}"
            for s, c in SPLIT_COLOURS.items()
        )
        right = QVBoxLayout()
        right.addWidget(self.title)
        right.addWidget(self.labels, 1)
        right.addWidget(QLabel(legend))
        row = QHBoxLayout()
        row.addWidget(self.new_label, 1)
        row.addWidget(add_label)
        row.addWidget(delete_label)
        right.addLayout(row)
        right.addWidget(self.message)

        left_box, right_box = QWidget(), QWidget()
        left_box.setLayout(left)
        right_box.setLayout(right)
        splitter = QSplitter()
        splitter.addWidget(left_box)
        splitter.addWidget(right_box)
        splitter.setSizes([260, 700])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.reload()

    # --- data ------------------------------------------------------------------------
    def reload(self) -> None:
        workspace, theme = self.workspace, self.current_theme
        run_in_background(lambda: _load(workspace, theme), self._show, self._failed)

    def _run(self, action: Any, success: str) -> None:
        """A data-layer change off the GUI thread; its CockpitError is shown inline."""

        def done(_result: Any) -> None:
            self.show_message(success)
            self.sig_data_changed.emit()
            self.reload()

        run_in_background(action, done, self._failed)

    def show_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #c62828;" if error else "color: #2e7d32;")
        self.message.setText(text)

    def _failed(self, exc: BaseException) -> None:
        self.show_message(str(exc), error=True)
        self.sig_loaded.emit()

    def _db(self) -> Any:
        from core.db import open_database

        return open_database(self.workspace)

    # --- views -----------------------------------------------------------------------
    def _show(self, data: dict[str, Any]) -> None:
        self._filling = True
        self.theme_list.clear()
        for summary in data["themes"]:
            item = QListWidgetItem(
                f"{summary.name}   ({summary.images} images, {summary.unlabeled} unlabeled)"
            )
            item.setData(Qt.ItemDataRole.UserRole, summary.name)
            self.theme_list.addItem(item)
            if summary.name == data["theme"]:
                self.theme_list.setCurrentItem(item)
        # a theme created, renamed or deleted here changes the theme being labeled too
        changed = data["theme"] != self._announced
        self.current_theme = data["theme"]
        self.title.setText(
            f"<b>Labels of {escaped(data['theme'])}</b>"
            if data["theme"]
            else "<b>No theme yet</b>: create one on the left"
        )
        counts = data["counts"]
        largest = max((sum(c.values()) for c in counts.values()), default=0)
        self.labels.setRowCount(len(counts))
        for row, (name, splits) in enumerate(counts.items()):
            total = sum(splits.values())
            values = [name, total, splits["train"], splits["valid"], splits["test"], splits["none"]]
            for column, value in enumerate(values):
                cell = QTableWidgetItem(str(value))
                if column:
                    cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
                    cell.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                else:
                    cell.setData(Qt.ItemDataRole.UserRole, name)
                    cell.setToolTip("double-click to rename")
                self.labels.setItem(row, column, cell)
            bar = QTableWidgetItem()
            bar.setFlags(Qt.ItemFlag.ItemIsEnabled)
            bar.setData(BalanceRole, (splits, largest))
            self.labels.setItem(row, len(COLUMNS) - 1, bar)
        self.labels.resizeColumnsToContents()
        self.labels.horizontalHeader().setStretchLastSection(True)
        self._filling = False
        if changed and self.current_theme:
            self._announced = self.current_theme
            self.sig_theme_selected.emit(self.current_theme)
        self.sig_loaded.emit()

    def select_theme(self, name: str) -> None:
        """Show ``name`` (chosen elsewhere, e.g. in Labeling's picker) as the current
        theme."""
        if name and name != self.current_theme:
            self.current_theme = self._announced = name  # the sender knows already
            self.reload()

    def _theme_clicked(self, item: QListWidgetItem | None, _previous: Any) -> None:
        if self._filling or item is None:
            return
        self.current_theme = self._announced = item.data(Qt.ItemDataRole.UserRole)
        self.sig_theme_selected.emit(self.current_theme)
        self.reload()

    # --- actions -----------------------------------------------------------------------
    def _create_theme(self) -> None:
        from core.data.themes import create_theme

        name = self.new_theme.text().strip()
        if not name:
            self.show_message("type a theme name first", error=True)
            return
        self.current_theme = name
        self.new_theme.clear()
        db = self._db()
        self._run(lambda: create_theme(db, name), f"created theme {name!r}")

    def _rename_theme(self) -> None:
        from core.data.themes import rename_theme

        old = self.current_theme
        if not old:
            return
        new, ok = QInputDialog.getText(self, "Rename theme", "New name:", text=old)
        if ok and new.strip() and new.strip() != old:
            self.current_theme = new.strip()
            db = self._db()
            self._run(lambda: rename_theme(db, old, new.strip()), f"renamed to {new.strip()!r}")

    def _delete_theme(self) -> None:
        from core.data.themes import delete_theme

        name = self.current_theme
        if not name:
            return
        answer = QMessageBox.question(
            self,
            "Delete theme",
            plain_rich(f"Delete theme {name!r}, its labels and all its images?"),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.current_theme = None
            db, workspace = self._db(), self.workspace
            self._run(lambda: delete_theme(db, workspace, name), f"deleted theme {name!r}")

    def _add_label(self) -> None:
        from core.data.themes import add_labels

        name, theme = self.new_label.text().strip(), self.current_theme
        if not theme or not name:
            self.show_message("choose a theme and type a label name", error=True)
            return
        self.new_label.clear()
        db = self._db()
        self._run(lambda: add_labels(db, theme, [name]), f"added label {name!r}")

    def _label_edited(self, item: QTableWidgetItem) -> None:
        from core.data.themes import rename_label

        if self._filling or item.column() != 0 or not self.current_theme:
            return
        old, new, theme = (
            item.data(Qt.ItemDataRole.UserRole),
            item.text().strip(),
            self.current_theme,
        )
        if new and new != old:
            db = self._db()
            self._run(lambda: rename_label(db, theme, old, new), f"renamed label to {new!r}")

    def selected_label(self) -> str | None:
        row = self.labels.currentRow()
        item = self.labels.item(row, 0) if row >= 0 else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def delete_selected_label(self, *, unlabel: bool = False) -> None:
        """Delete the selected label; the data layer refuses a label still in use."""
        from core.data.themes import delete_label

        name, theme = self.selected_label(), self.current_theme
        if not name or not theme:
            self.show_message("select a label first", error=True)
            return
        db = self._db()
        self._run(lambda: delete_label(db, theme, name, unlabel=unlabel), f"deleted label {name!r}")

    def _delete_label(self) -> None:
        self.delete_selected_label()

"""Labeling with real widgets on a real workspace: drop files, keys, drag, undo, filters."""

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, Qt
from PySide6.QtGui import QDropEvent
from sqlalchemy import select

from cockpit.panels.labeling.model import IMAGE_IDS_MIME
from core.data.themes import create_theme
from core.db import Label, TrainData, open_database
from tests.cockpit.panels.conftest import drop_files
from tests.imaging import make_image, make_imagefolder


def make_panel(qtbot, workspace, theme="pets"):
    from cockpit.panels.labeling import LabelingPanel

    panel = LabelingPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1100, 700)
    panel.show()
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.set_theme(theme)
    return panel


def db_labels(workspace):
    with open_database(workspace).session() as session:
        names = dict(session.execute(select(Label.id, Label.label_name)).all())
        rows = session.execute(select(TrainData.original_name, TrainData.label_id)).all()
    return {name: names.get(label_id) for name, label_id in rows}


def select_rows(panel, rows):
    selection = panel.grid.selectionModel()
    panel.grid.setCurrentIndex(panel.model.index(rows[0]))
    selection.clearSelection()
    for row in rows:
        selection.select(panel.model.index(row), QItemSelectionModel.SelectionFlag.Select)


def test_drop_label_by_keyboard_and_drag_then_undo(qtbot, workspace, tmp_path, screenshot_dir):
    create_theme(open_database(workspace), "pets", ["cat", "dog"])
    panel = make_panel(qtbot, workspace)
    folder = tmp_path / "drop"
    for i in range(5):
        make_image(folder / f"img_{i}.png", i)
    (folder / "notes.png").write_text("not an image")
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60_000) as report:
        drop_files(panel, [folder])
    assert report.args[0].imported == 5
    assert "skipped notes.png" in panel.message.text()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 5, timeout=30_000)
    assert set(db_labels(workspace).values()) == {None}

    select_rows(panel, [0, 1])
    qtbot.keyClick(panel.grid, Qt.Key.Key_1)
    assert panel.writer.wait()
    labels = db_labels(workspace)
    assert [labels[f"img_{i}.png"] for i in range(5)] == ["cat", "cat", None, None, None]

    dog_bin = next(
        panel.bins.itemAt(i).widget()
        for i in range(panel.bins.count())
        if panel.bins.itemAt(i).widget() and "dog" in panel.bins.itemAt(i).widget().text()
    )
    data = QMimeData()
    data.setData(IMAGE_IDS_MIME, ",".join(str(r.id) for r in panel.model.rows[2:4]).encode())
    dog_bin.dropEvent(
        QDropEvent(
            QPoint(5, 5),
            Qt.DropAction.CopyAction,
            data,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
    )
    assert panel.writer.wait()
    assert [db_labels(workspace)[f"img_{i}.png"] for i in range(5)] == [
        "cat",
        "cat",
        "dog",
        "dog",
        None,
    ]

    panel.undo_stack.undo()
    assert panel.writer.wait()
    assert [db_labels(workspace)[f"img_{i}.png"] for i in range(5)] == [
        "cat",
        "cat",
        None,
        None,
        None,
    ]
    panel.undo_stack.redo()
    select_rows(panel, [0])
    qtbot.keyClick(panel.grid, Qt.Key.Key_Delete)
    assert panel.writer.wait()
    assert [db_labels(workspace)[f"img_{i}.png"] for i in range(5)] == [
        None,
        "cat",
        "dog",
        "dog",
        None,
    ]
    assert panel.model.data(panel.model.index(0)) == "unlabeled"
    qtbot.waitUntil(lambda: len(panel.thumbnails.images) >= 5, timeout=30_000)
    panel.grab().save(str(screenshot_dir / "panel_labeling.png"))


def test_filters_by_label_split_and_name(qtbot, workspace, tmp_path):
    from core.data.importer import import_images

    db = open_database(workspace)
    create_theme(db, "pets")
    make_imagefolder(tmp_path / "src", {"cat": 6, "dog": 3})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    panel = make_panel(qtbot, workspace)
    assert panel.model.rowCount() == 9
    cat = panel.label_filter.findText("label: cat")
    panel.label_filter.setCurrentIndex(cat)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.reload()
    assert panel.model.rowCount() == 6
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.assign_splits()
    qtbot.waitUntil(lambda: "assigned 9 image(s)" in panel.message.text(), timeout=30_000)
    panel.split_filter.setCurrentIndex(panel.split_filter.findData("train"))
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.reload()
    assert 0 < panel.model.rowCount() < 6
    panel.label_filter.setCurrentIndex(0)
    panel.split_filter.setCurrentIndex(0)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.search.setText("0001")
    assert panel.model.rowCount() == 2  # cat/0001.png and dog/0001.png

"""Labeling with real widgets on a real workspace, driven through Qt's event delivery: keys
and clicks with QTest on the shown window, drops sent to the window so that Qt itself picks
the widget under the cursor; several themes and twelve labels."""

import threading

import pytest
import shiboken6
from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QHBoxLayout, QTabWidget, QWidget
from sqlalchemy import select

from cockpit.panels.labeling.chips import assign_hotkeys, label_colour, text_colour_on
from cockpit.panels.labeling.model import IMAGE_IDS_MIME, BadgeRole
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import Label, TrainData, open_database
from tests.cockpit.palettes import dark_palette
from tests.imaging import make_image, make_imagefolder

TWELVE = [
    "cat",
    "dog",
    "bird",
    "fish",
    "horse",
    "sheep",
    "cow",
    "frog",
    "deer",
    "truck",
    "plane",
    "ship",
]


def make_panel(qtbot, workspace, theme="pets", size=(1280, 800)):
    from cockpit.panels.labeling import LabelingPanel

    panel = LabelingPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(*size)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.set_theme(theme)
    return panel


@pytest.fixture
def panels(qtbot):
    """Panels to shut down after the test (label writes, thumbnail and preview threads)."""
    made = []
    yield made
    for panel in made:
        if shiboken6.isValid(panel):
            panel.shutdown()


def db_labels(workspace):
    with open_database(workspace).session() as session:
        names = dict(session.execute(select(Label.id, Label.label_name)).all())
        rows = session.execute(select(TrainData.original_name, TrainData.label_id)).all()
    return {name: names.get(label_id) for name, label_id in rows}


def click_row(panel, row, modifier=Qt.KeyboardModifier.NoModifier):
    rect = panel.grid.visualRect(panel.model.index(row))
    QTest.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def deliver_drop(target, data, local=None):
    """Drag ``data`` over ``target`` and drop it, sent to the window as the windowing
    system does: Qt chooses the widget under the point and walks up to one that accepts."""
    window = target.window()
    point = target.mapTo(window, local if local is not None else target.rect().center())
    handle = window.windowHandle()
    for kind in (QDragEnterEvent, QDragMoveEvent):
        QApplication.sendEvent(
            handle,
            kind(
                point,
                Qt.DropAction.CopyAction,
                data,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            ),
        )
    drop = QDropEvent(
        QPointF(point),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(handle, drop)
    return drop.isAccepted()


def file_drop(paths):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return data


def chip_named(panel, name):
    return next(c for c in panel.chips.values() if c.name == name)


def test_hotkeys_are_bound_to_labels():
    assert assign_hotkeys(TWELVE) == list("1234567890ab")
    # labels named by a key keep their own key, the rest take the free ones in order
    assert assign_hotkeys([str(d) for d in range(10)]) == list("0123456789")
    assert assign_hotkeys(["x", "cat", "2"]) == ["x", "1", "2"]
    assert assign_hotkeys([f"l{i}" for i in range(38)])[-2:] == [None, None]


def test_badge_text_reads_on_every_label_colour():
    for position in range(40):
        colour = label_colour(position)
        text = text_colour_on(colour)
        # WCAG contrast ratio of the badge text against the badge
        lum = [
            0.2126 * c.redF() ** 2.2 + 0.7152 * c.greenF() ** 2.2 + 0.0722 * c.blueF() ** 2.2
            for c in (colour, text)
        ]
        assert (max(lum) + 0.05) / (min(lum) + 0.05) >= 3.0, colour.name()


def test_import_label_by_keys_chips_drops_and_undo(qtbot, workspace, tmp_path, panels):
    create_theme(open_database(workspace), "pets", TWELVE)
    panel = make_panel(qtbot, workspace)
    panels.append(panel)
    assert [c.key for c in panel.chips.values() if c.label_id] == list("1234567890ab")
    assert panel.progress_text.text() == "pets: labeled 0 of 0"

    # files dropped on the grid: imported unlabeled (the window picks the drop target)
    folder = tmp_path / "drop"
    for i in range(6):
        make_image(folder / f"img_{i}.png", i)
    (folder / "notes.png").write_text("not an image")
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60_000) as report:
        assert deliver_drop(panel.grid.viewport(), file_drop([folder]))
    assert report.args[0].imported == 6
    assert "skipped notes.png" in panel.message.text()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 6, timeout=30_000)
    assert set(db_labels(workspace).values()) == {None}
    assert panel.grid.hasFocus()

    # a folder dropped on a chip: imported with that label, whatever its sub-folders say
    make_image(tmp_path / "more" / "cat" / "ship_1.png", 100)
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60_000):
        assert deliver_drop(chip_named(panel, "ship"), file_drop([tmp_path / "more"]))
    qtbot.waitUntil(lambda: panel.model.rowCount() == 7, timeout=30_000)
    assert db_labels(workspace)["ship_1.png"] == "ship"
    assert chip_named(panel, "ship").text() == "[b]  ship  (1)"

    # keys: 1 on two selected images, then 0 (the tenth label), then b (the twelfth)
    click_row(panel, 0)
    click_row(panel, 1, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(panel.grid, Qt.Key.Key_1)
    click_row(panel, 2)
    QTest.keyClick(panel.grid, Qt.Key.Key_0)  # one image: labels it and moves on
    assert panel.grid.currentIndex().row() == 3
    QTest.keyClick(panel.grid, Qt.Key.Key_B)
    assert panel.writer.wait()
    labels = db_labels(workspace)
    assert [labels[f"img_{i}.png"] for i in range(6)] == ["cat", "cat", "truck", "ship"] + [
        None
    ] * 2
    assert panel.progress_text.text() == "pets: labeled 5 of 7 (71 %)"
    assert chip_named(panel, "cat").count == 2
    badge_text, badge_colour = panel.model.data(panel.model.index(2), BadgeRole)
    assert badge_text == "truck" and badge_colour == label_colour(TWELVE.index("truck"))

    # thumbnails dragged onto a chip (the grid's own drag data) get its label
    ids = [panel.model.rows[r].id for r in (4, 5)]
    data = QMimeData()
    data.setData(IMAGE_IDS_MIME, ",".join(map(str, ids)).encode())
    assert deliver_drop(chip_named(panel, "dog"), data)
    assert panel.writer.wait()
    assert [db_labels(workspace)[f"img_{i}.png"] for i in (4, 5)] == ["dog", "dog"]

    panel.undo_stack.undo()
    assert panel.writer.wait()
    assert [db_labels(workspace)[f"img_{i}.png"] for i in (4, 5)] == [None, None]
    assert panel.progress_text.text() == "pets: labeled 5 of 7 (71 %)"
    panel.undo_stack.redo()
    click_row(panel, 0)
    QTest.keyClick(panel.grid, Qt.Key.Key_Delete)
    assert panel.writer.wait()
    assert db_labels(workspace)["img_0.png"] is None
    assert panel.model.data(panel.model.index(0), BadgeRole) is None


def test_a_dropped_split_layout_keeps_classes_and_splits(qtbot, workspace, tmp_path, panels):
    """A dataset folder laid out as train/<class>, val/<class> dropped on the grid: its
    class folders are the labels, its split folders the splits, and the panel says so."""
    create_theme(open_database(workspace), "pets", TWELVE)
    panel = make_panel(qtbot, workspace)
    panels.append(panel)
    dataset = tmp_path / "published"
    make_imagefolder(dataset / "train", {"cat": 3, "dog": 2}, start_seed=700)
    make_imagefolder(dataset / "val", {"cat": 1, "dog": 1}, start_seed=800)
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60_000) as report:
        assert deliver_drop(panel.grid.viewport(), file_drop([dataset]))
    assert report.args[0].imported == 7
    assert "splits from the split folders: train 5, valid 2" in panel.message.text()
    with open_database(workspace).session() as session:
        rows = session.execute(
            select(Label.label_name, TrainData.split).join(
                Label, TrainData.label_id == Label.id
            )
        ).all()
    assert sorted(rows) == [("cat", "train")] * 3 + [("cat", "valid")] + [
        ("dog", "train")
    ] * 2 + [("dog", "valid")]


def test_keys_follow_the_chip_not_its_place(qtbot, workspace, tmp_path, panels):
    db = open_database(workspace)
    create_theme(db, "digits", [str(d) for d in (9, 8, 7, 6, 5, 4, 3, 2, 1, 0)] + ["other"])
    make_imagefolder(tmp_path / "src", {"x": 3})
    import_images(db, workspace, "digits", [tmp_path / "src"], imagefolder=False)
    panel = make_panel(qtbot, workspace, "digits")
    panels.append(panel)
    assert chip_named(panel, "3").key == "3" and chip_named(panel, "other").key == "a"
    click_row(panel, 0)
    QTest.keyClick(panel.grid, Qt.Key.Key_3)
    # the type-to-filter box hides chips; the keys stay with their labels
    QTest.keyClick(panel.grid, Qt.Key.Key_Slash)
    assert panel.chip_filter.hasFocus()
    QTest.keyClicks(panel.chip_filter, "oth")
    assert [c.name for c in panel.chips.values() if c.label_id and not c.isHidden()] == ["other"]
    QTest.keyClick(panel.chip_filter, Qt.Key.Key_Return)  # labels the selection "other"
    assert panel.grid.hasFocus() and panel.chip_filter.text() == ""
    click_row(panel, 2)
    QTest.keyClick(panel.grid, Qt.Key.Key_7)
    assert panel.writer.wait()
    labels = db_labels(workspace)
    assert [labels[f"{i:04d}.png"] for i in range(3)] == ["3", "other", "7"]


def test_theme_switches_in_either_panel_keep_labeling_working(qtbot, workspace, tmp_path, panels):
    """Regression: switching themes rebuilt the label buttons into an AttributeError (a
    layout stretch has no widget) on every second switch."""
    from cockpit.panels.labeling import LabelingPanel
    from cockpit.panels.themes.widget import ThemesPanel

    db = open_database(workspace)
    themes = {"animals": TWELVE, "cells": ["healthy", "infected"], "digits": list("0123456789")}
    for seed, (name, labels) in enumerate(themes.items()):
        create_theme(db, name, labels)
        make_imagefolder(tmp_path / name, {"x": 2}, start_seed=10 * seed)
        import_images(db, workspace, name, [tmp_path / name], imagefolder=False)
    window = QWidget()
    qtbot.addWidget(window)
    themes_panel, labeling = ThemesPanel(workspace), LabelingPanel(workspace)
    row = QHBoxLayout(window)
    row.addWidget(themes_panel)
    row.addWidget(labeling, 2)
    # the main window's wiring, both ways
    themes_panel.sig_theme_selected.connect(labeling.set_theme)
    labeling.sig_theme_selected.connect(themes_panel.select_theme)
    with qtbot.waitSignal(labeling.sig_loaded, timeout=30_000):
        window.resize(1600, 800)
        window.show()
    qtbot.waitUntil(lambda: labeling.theme == "animals" and labeling.model.rowCount() == 2)

    def click_theme(name):
        listing = themes_panel.theme_list
        item = next(
            listing.item(i)
            for i in range(listing.count())
            if listing.item(i).data(Qt.ItemDataRole.UserRole) == name
        )
        QTest.mouseClick(
            listing.viewport(), Qt.MouseButton.LeftButton, pos=listing.visualItemRect(item).center()
        )

    for name in ["cells", "animals", "digits", "cells", "digits", "animals"]:
        click_theme(name)
        qtbot.waitUntil(
            lambda name=name: (
                labeling.theme == name
                and [c.name for c in labeling.chips.values() if c.label_id] == themes[name]
                and labeling.model.rowCount() == 2
                and labeling.theme_picker.currentText() == name
            ),
            timeout=30_000,
        )
        assert labeling.progress_text.text().startswith(f"{name}: labeled")
        click_row(labeling, 0)
        last = themes[name][-1]
        QTest.keyClick(labeling.grid, chip_named(labeling, last).key)
        assert labeling.writer.wait()
        with open_database(workspace).session() as session:
            labeled = session.execute(
                select(Label.label_name).join(TrainData, TrainData.label_id == Label.id)
            ).scalars()
            assert last in set(labeled)

    # and the other way: the Labeling panel's picker moves Themes & Labels along
    picker = labeling.theme_picker
    assert picker.currentText() == "animals" and picker.currentIndex() == 0
    picker.setFocus()
    QTest.keyClick(picker, Qt.Key.Key_Down)
    qtbot.waitUntil(
        lambda: (
            themes_panel.current_theme == labeling.theme == "cells"
            and themes_panel.theme_list.currentItem().data(Qt.ItemDataRole.UserRole) == "cells"
            and [c.name for c in labeling.chips.values() if c.label_id] == themes["cells"]
        ),
        timeout=30_000,
    )


def test_grid_has_focus_on_entering_the_tab(qtbot, workspace, tmp_path, panels):
    from cockpit.panels.labeling import LabelingPanel

    db = open_database(workspace)
    create_theme(db, "pets", ["cat", "dog"])
    make_imagefolder(tmp_path / "src", {"x": 2})
    import_images(db, workspace, "pets", [tmp_path / "src"], imagefolder=False)
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    other = QWidget()
    panel = LabelingPanel(workspace)
    panels.append(panel)
    tabs.addTab(other, "Other")
    tabs.addTab(panel, "Labeling")
    tabs.resize(1280, 800)
    tabs.show()
    qtbot.waitExposed(tabs)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.set_theme("pets")
    tabs.setFocus()
    QTest.keyClick(tabs, Qt.Key.Key_Tab, Qt.KeyboardModifier.ControlModifier)  # next tab
    assert tabs.currentWidget() is panel
    qtbot.waitUntil(lambda: QApplication.focusWidget() is panel.grid)
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_2)  # the first image is current
    assert panel.writer.wait()
    assert db_labels(workspace)["0000.png"] == "dog"


def test_preview_decodes_off_the_gui_thread(qtbot, workspace, tmp_path, panels):
    from PIL import Image

    big = tmp_path / "src" / "big.jpg"
    big.parent.mkdir()
    gradient = Image.linear_gradient("L").resize((6000, 4000))
    Image.merge(
        "RGB", (gradient, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT), gradient)
    ).save(big, quality=80)
    small = make_image(tmp_path / "small.png", 1, size=16)
    db = open_database(workspace)
    create_theme(db, "photos", ["a", "b"])
    import_images(db, workspace, "photos", [small])
    import_images(db, workspace, "photos", [big])
    panel = make_panel(qtbot, workspace, "photos")
    panels.append(panel)
    small_row, big_row = 0, 1
    assert panel.model.rows[big_row].original_name == "big.jpg"
    # the first image is current on entering: its preview comes first
    qtbot.waitUntil(lambda: bool(panel.preview.levels) and not panel.previews.busy)

    ticks = []  # the width the preview showed at each tick of a GUI-thread timer
    timer = QTimer(interval=5)
    timer.timeout.connect(
        lambda: ticks.append(panel.preview.levels[0].width() if panel.preview.levels else 0)
    )
    timer.start()
    arrived = []
    panel.previews.sig_ready.connect(lambda _key, levels: arrived.append(levels[0].width()))
    with qtbot.waitSignal(
        panel.previews.sig_ready,
        timeout=60_000,
        check_params_cb=lambda _key, levels: levels[0].width() == 6000,
    ) as ready:
        click_row(panel, big_row)
    timer.stop()
    levels = ready.args[1]
    assert (levels[0].width(), levels[0].height()) == (6000, 4000)
    assert len(levels) >= 4 and max(levels[-1].width(), levels[-1].height()) < 1024
    assert arrived[0] == levels[-1].width()  # the smallest level was shown first
    assert threading.get_ident() not in panel.previews.decode_threads
    assert [t for t in ticks if t != 6000]  # the event loop ran while the image decoded
    decodes = len(panel.previews.decode_threads)
    panel.preview.grab()
    assert panel.preview.last_smooth is True  # shown smaller than its pixels
    for value in (200, 400, 800, 100):
        panel.zoom.setValue(value)
        panel.preview.grab()
    assert len(panel.previews.decode_threads) == decodes  # zoom only redraws

    with qtbot.waitSignal(panel.previews.sig_ready, timeout=30_000):
        click_row(panel, small_row)
    panel.preview.grab()
    assert panel.preview.last_smooth is False  # a 16 px image upscaled: nearest neighbour
    with qtbot.waitSignal(panel.previews.sig_ready, timeout=30_000):
        click_row(panel, big_row)  # both from the cache
    assert len(panel.previews.decode_threads) == decodes


def test_import_button_and_cancel(qtbot, workspace, tmp_path, panels):
    from PySide6.QtWidgets import QFileDialog

    create_theme(open_database(workspace), "pets", ["cat"])
    panel = make_panel(qtbot, workspace)
    panels.append(panel)
    paths = [make_image(tmp_path / "pick" / f"p{i}.png", i) for i in range(3)]
    panel.import_files_action.trigger()
    dialog = panel.findChild(QFileDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.setDirectory(str(tmp_path / "pick"))
    dialog.selectFile(" ".join(f'"{p.name}"' for p in paths[:2]))
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60_000) as report:
        dialog.accept()
    assert report.args[0].imported == 2
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=30_000)

    many = tmp_path / "many"
    for i in range(300):
        make_image(many / f"m{i}.png", 1000 + i, size=8)
    with qtbot.waitSignal(panel.sig_import_finished, timeout=60_000) as report:
        panel.import_paths([many])
        assert panel.import_row.isVisible()
        QTest.mouseClick(panel.cancel_import, Qt.MouseButton.LeftButton)
    assert report.args[0] is None and "import cancelled" in panel.message.text()
    assert not panel.import_row.isVisible()
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=30_000)
    assert set(db_labels(workspace)) == {"p0.png", "p1.png"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_populated(qtbot, workspace, tmp_path, panels, screenshot_dir, scheme):
    app = QApplication.instance()
    old_style, old_palette = app.style().name(), app.palette()
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    try:
        db = open_database(workspace)
        create_theme(db, "animals", TWELVE)
        create_theme(db, "cells", ["healthy", "infected"])
        make_imagefolder(tmp_path / "src", {name: 3 for name in TWELVE[:8]})
        for i in range(12):
            make_image(tmp_path / "loose" / f"photo_{i:02d}.png", 500 + i, size=48)
        import_images(db, workspace, "animals", [tmp_path / "src"])
        import_images(db, workspace, "animals", [tmp_path / "loose"])
        panel = make_panel(qtbot, workspace, "animals")
        panels.append(panel)
        click_row(panel, 8)
        qtbot.waitUntil(lambda: bool(panel.preview.levels), timeout=30_000)
        qtbot.waitUntil(lambda: len(panel.thumbnails.images) >= 24, timeout=30_000)
        qtbot.wait(100)
        text = panel.palette().color(QPalette.ColorRole.WindowText)
        assert (text.lightness() > 128) == (scheme == "dark")
        panel.grab().save(str(screenshot_dir / f"labeling_{scheme}.png"))
    finally:
        app.setPalette(old_palette)
        app.setStyle(old_style)


def test_filters_by_label_split_and_name(qtbot, workspace, tmp_path, panels):
    db = open_database(workspace)
    create_theme(db, "pets")
    make_imagefolder(tmp_path / "src", {"cat": 6, "dog": 3})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    panel = make_panel(qtbot, workspace)
    panels.append(panel)
    assert panel.model.rowCount() == 9
    assert panel.progress_text.text() == "pets: labeled 9 of 9 (100 %)"
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


def test_long_label_sets_filter_and_scroll(qtbot, workspace, tmp_path, panels, screenshot_dir):
    names = [f"species {i:02d}" for i in range(40)]
    db = open_database(workspace)
    create_theme(db, "plankton", names)
    make_imagefolder(tmp_path / "src", {"x": 4})
    import_images(db, workspace, "plankton", [tmp_path / "src"], imagefolder=False)
    panel = make_panel(qtbot, workspace, "plankton")
    panels.append(panel)
    keys = [panel.chips[label_id].key for label_id, _ in panel.labels]
    assert keys[:36] == list("1234567890abcdefghijklmnopqrstuvwxyz") and keys[36:] == [None] * 4
    # a label without a key is reached through the filter
    QTest.keyClick(panel.grid, Qt.Key.Key_Slash)
    QTest.keyClicks(panel.chip_filter, "39")
    shown = [c.name for c in panel.chips.values() if c.label_id and not c.isHidden()]
    assert shown == ["species 39"]
    QTest.keyClick(panel.chip_filter, Qt.Key.Key_Return)
    assert panel.writer.wait()
    assert db_labels(workspace)["0000.png"] == "species 39"
    assert panel.grid.currentIndex().row() == 1  # on to the next image, as with a key
    QTest.keyClick(panel.grid, Qt.Key.Key_Z)
    assert panel.writer.wait()
    assert db_labels(workspace)["0001.png"] == "species 35"
    panel.grid.clearSelection()
    QTest.keyClick(panel.grid, Qt.Key.Key_1)
    assert "select images first" in panel.message.text()
    click_row(panel, 0)
    assert panel.preview_caption.text() == "0000.png: species 39, split none"
    QTest.keyClick(panel.grid, Qt.Key.Key_Slash)
    QTest.keyClicks(panel.chip_filter, "species 1")
    qtbot.waitUntil(lambda: len(panel.thumbnails.images) >= 4, timeout=30_000)
    panel.grab().save(str(screenshot_dir / "labeling_filtered_labels.png"))
    QTest.keyClick(panel.chip_filter, Qt.Key.Key_Escape)
    assert panel.grid.hasFocus() and not [c for c in panel.chips.values() if c.isHidden()]


def test_picking_a_theme_in_the_panel(qtbot, workspace, panels):
    from cockpit.panels.labeling import LabelingPanel

    db = open_database(workspace)
    create_theme(db, "cells", ["healthy", "infected"])
    create_theme(db, "pets", ["cat", "dog"])
    panel = LabelingPanel(workspace)
    panels.append(panel)
    qtbot.addWidget(panel)
    panel.resize(1280, 800)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.show()
        panel.reload()
    qtbot.waitUntil(lambda: panel.theme_picker.count() == 2, timeout=30_000)
    assert "pick one" in panel.count.text() and panel.theme_picker.currentIndex() == -1
    with qtbot.waitSignal(panel.sig_theme_selected, timeout=10_000) as picked:
        panel.theme_picker.setFocus()
        QTest.keyClick(panel.theme_picker, Qt.Key.Key_Down)
    assert picked.args == ["cells"]
    qtbot.waitUntil(
        lambda: [c.name for c in panel.chips.values() if c.label_id] == ["healthy", "infected"],
        timeout=30_000,
    )
    assert panel.progress_text.text() == "cells: labeled 0 of 0"
    assert panel.grid.hasFocus()
    QTest.keyClick(panel.grid, Qt.Key.Key_7)  # two labels: keys 1 and 2 only
    assert panel.message.text() == "<qt>no label has the key 7</qt>"

"""Model-assisted labeling in the Labeling panel, through Qt's event delivery on the shown
panel with twelve labels (so the letters are label hotkeys too): ghost badges, Enter
accepting the selection's suggestions, accept all >= p with its preview count, undo, sort
by uncertainty, the "model disagrees" filter, the review dialog's keys, and screenshots on
a light and a dark palette."""

from __future__ import annotations

import shutil

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from core.assist.issues import find_label_issues
from core.assist.suggest import suggest
from core.data.themes import add_labels, get_theme
from core.db import Label, TrainData, open_database
from core.workspace import Workspace
from tests.cockpit.palettes import dark_palette
from tests.cockpit.panels.labeling.test_labeling_panel import click_row
from tests.core.training.shapes import tiny_params

# shapes' three labels come first (keys 1-3); these take 4-9, 0 and the letter a
MORE = ["cat", "dog", "bird", "fish", "horse", "sheep", "cow", "frog", "deer"]


def quiet(_line: str) -> None:
    pass


@pytest.fixture
def twelve(assisted, tmp_path):
    """A copy of the assisted workspace (suggestions computed by ``shapes_model``/1) whose
    theme got nine more labels after the suggestion run: twelve labels, the 11th on key a."""
    suggest(assisted.workspace, "shapes", "shapes_model", every=True, echo=quiet)
    root = tmp_path / "ws"
    shutil.copytree(assisted.workspace.root, root, ignore=shutil.ignore_patterns("thumbnails"))
    ws = Workspace(root)
    add_labels(open_database(ws), "shapes", MORE)
    return ws


def make_panel(qtbot, workspace, panels):
    from cockpit.panels.labeling import LabelingPanel

    panel = LabelingPanel(workspace)
    qtbot.addWidget(panel)
    panels.append(panel)
    panel.resize(1280, 800)
    panel.show()
    qtbot.waitExposed(panel)
    with qtbot.waitSignal(panel.assist.sig_loaded, timeout=30_000):
        panel.set_theme("shapes")
    qtbot.waitUntil(
        lambda: panel.model.rowCount() == 30 and len(panel.labels) == 12, timeout=30_000
    )
    return panel


@pytest.fixture
def panels():
    made = []
    yield made
    for panel in made:
        panel.shutdown()


def labels_by(workspace):
    with open_database(workspace).session() as session:
        return dict(session.execute(select(TrainData.id, TrainData.labeled_by)).all())


def label_names(workspace):
    with open_database(workspace).session() as session:
        names = dict(session.execute(select(Label.id, Label.label_name)).all())
        rows = session.execute(select(TrainData.id, TrainData.label_id)).all()
    return {image_id: names.get(label_id) for image_id, label_id in rows}


def select_only(panel, image_id):
    click_row(panel, panel.model.row_of[image_id])
    assert panel.selected_ids() == [image_id]


def test_badges_enter_accepts_accept_all_undo_sort_and_filter(qtbot, twelve, panels):
    from cockpit.panels.labeling.assist import AssistDelegate, SuggestionRole

    ws = twelve
    panel = make_panel(qtbot, ws, panels)
    bar = panel.assist
    assert len(bar.by_image) == 30
    unlabeled = [r.id for r in panel.model.rows if r.label_id is None]
    assert len(unlabeled) == 6

    # the ghost badge goes through the panel's thumbnail delegate
    delegate = panel.grid.itemDelegate()
    assert isinstance(delegate, AssistDelegate) and SuggestionRole in delegate.badge_roles
    index = panel.model.index(panel.model.row_of[unlabeled[0]])
    shown = bar.suggested(unlabeled[0])
    text, colour, style = delegate.badge(index, SuggestionRole)
    assert text == AssistDelegate.badge_text(shown) and text.startswith(shown.label + "? ")
    assert (
        style == "ghost"
        and colour == panel.label_colours()[dict((n, i) for i, n in panel.labels)[shown.label]]
    )
    agreeing = next(
        r.id
        for r in panel.model.rows
        if r.label_id is not None and not bar.by_image[r.id].disagrees
    )
    assert delegate.badge(panel.model.index(panel.model.row_of[agreeing]), SuggestionRole) is None
    panel.grid.viewport().repaint()  # the delegate paints without error

    # preview count follows the threshold
    bar.min_prob.setValue(0.0)
    assert bar.accept_all.text() == "Accept 6"
    bar.min_prob.setValue(1.0)
    assert bar.preview_count() == sum(1 for i in unlabeled if bar.by_image[i].probability >= 1.0)

    # the letter a is the 11th label's key, not an accept key: it labels the image "frog"...
    first = unlabeled[0]
    select_only(panel, first)
    assert panel.hotkeys["a"] == dict((n, i) for i, n in panel.labels)["frog"]
    QTest.keyClick(panel.grid, Qt.Key.Key_A)
    qtbot.waitUntil(lambda: label_names(ws)[first] == "frog", timeout=30_000)
    # ... and Enter accepts the selection's suggestion instead
    panel.undo_stack.undo()
    qtbot.waitUntil(lambda: label_names(ws)[first] is None, timeout=30_000)
    select_only(panel, first)
    with qtbot.waitSignal(bar.sig_labels_changed, timeout=30_000):
        QTest.keyClick(panel.grid, Qt.Key.Key_Return)
    assert labels_by(ws)[first] == "model:shapes_model/1"
    assert label_names(ws)[first] == shown.label
    second = unlabeled[1]
    qtbot.waitUntil(lambda: second in panel.model.row_of, timeout=30_000)
    select_only(panel, second)
    with qtbot.waitSignal(bar.sig_labels_changed, timeout=30_000):
        QTest.keyClick(panel.grid, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert labels_by(ws)[second] == "model:shapes_model/1"

    # accept all >= 0 takes the other four; undo puts them back, then the two of Enter
    bar.min_prob.setValue(0.0)
    qtbot.waitUntil(lambda: bar.preview_count() == 4, timeout=30_000)
    with qtbot.waitSignal(bar.sig_labels_changed, timeout=30_000):
        QTest.mouseClick(bar.accept_all, Qt.MouseButton.LeftButton)
    assert sum(1 for v in labels_by(ws).values() if v == "model:shapes_model/1") == 6
    for _ in range(3):
        with qtbot.waitSignal(bar.sig_labels_changed, timeout=30_000):
            QTest.mouseClick(bar.undo, Qt.MouseButton.LeftButton)
    assert sum(1 for v in labels_by(ws).values() if v == "model:shapes_model/1") == 0

    # most uncertain first; then only images whose label the model disagrees with
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        QTest.mouseClick(bar.sort_uncertain, Qt.MouseButton.LeftButton)
    margins = [bar.by_image[r.id].margin for r in panel.model.rows]
    assert margins == sorted(margins)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        QTest.mouseClick(bar.only_disagree, Qt.MouseButton.LeftButton)
    names = dict(panel.labels)
    for r in panel.model.rows:
        assert r.label_id is not None and names[r.label_id] != bar.by_image[r.id].label
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        QTest.mouseClick(bar.only_disagree, Qt.MouseButton.LeftButton)
    assert panel.model.rowCount() == 30


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_screenshot_with_suggestions(qtbot, twelve, panels, screenshot_dir, scheme):
    app = QApplication.instance()
    old_style, old_palette = app.style().name(), app.palette()
    app.setStyle("Fusion")
    app.setPalette(dark_palette() if scheme == "dark" else app.style().standardPalette())
    try:
        with open_database(twelve).session() as session:  # a disagreement to show
            theme = get_theme(session, "shapes")  # other tests add themes of their own
            image = session.scalars(
                select(TrainData).where(
                    TrainData.theme_id == theme.id, TrainData.label_id.is_not(None)
                )
            ).first()
            shapes = {label.label_name: label.id for label in theme.labels}
        panel = make_panel(qtbot, twelve, panels)
        suggested = panel.assist.by_image[image.id].label
        other = next(n for n in ("circle", "square", "triangle") if n in shapes and n != suggested)
        panel.label_images(shapes[other], [image.id])
        qtbot.waitUntil(
            lambda: any(r.id == image.id and r.label_id == shapes[other] for r in panel.model.rows),
            timeout=30_000,
        )
        with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
            QTest.mouseClick(panel.assist.sort_uncertain, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: len(panel.thumbnails.images) >= 24, timeout=30_000)
        qtbot.wait(100)
        text = panel.palette().color(QPalette.ColorRole.WindowText)
        assert (text.lightness() > 128) == (scheme == "dark")
        assert "could not" not in panel.message.text(), panel.message.text()
        panel.grab().save(str(screenshot_dir / f"labeling_suggestions_{scheme}.png"))
    finally:
        app.setPalette(old_palette)
        app.setStyle(old_style)


def test_review_dialog_keeps_relabels_and_unlabels_by_key(qtbot, shapes_workspace):
    from cockpit.panels.labeling.assist import ReviewDialog

    ws = shapes_workspace
    outcome = find_label_issues(ws, "shapes", tiny_params(ws), folds=2, echo=quiet)
    dialog = ReviewDialog(ws, "shapes")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sig_loaded, timeout=30_000):
        dialog.show()
    # two epochs on 16x16 images: an inaccurate model, so labels are suspected
    assert len(outcome.label_issues) >= 2
    first = dialog.current()
    assert first["image_id"] == outcome.label_issues[0].image_id
    # the picture is read on a worker thread and shown for the image still current
    if dialog.image.pixmap().isNull():
        with qtbot.waitSignal(dialog.sig_image_shown, timeout=30_000) as shown:
            pass
        assert shown.args == [first["image_id"]]
    picture = dialog.image.pixmap()
    assert not picture.isNull() and max(picture.width(), picture.height()) == 256
    assert first["given"] in dialog.given.text() and first["suggested"] in dialog.suggested.text()
    qtbot.keyClick(dialog, Qt.Key.Key_K)
    assert dialog.decisions[first["image_id"]] == "kept"
    second = dialog.current()
    with qtbot.waitSignal(dialog.sig_saved, timeout=30_000):
        qtbot.keyClick(dialog, Qt.Key.Key_R)
    with open_database(ws).session() as session:
        image = session.get(TrainData, second["image_id"])
        assert image.labeled_by == "review"
        assert image.label_id == dialog.labels[second["suggested"]]
    if len(dialog.issues) > 2:
        third = dialog.current()
        with qtbot.waitSignal(dialog.sig_saved, timeout=30_000):
            qtbot.keyClick(dialog, Qt.Key.Key_U)
        with open_database(ws).session() as session:
            assert session.get(TrainData, third["image_id"]).label_id is None


def test_a_large_photo_is_decoded_at_the_review_size(tmp_path, qtbot):
    from PIL import Image as PilImage

    from cockpit.panels.labeling.assist import REVIEW_SIZE, _review_image

    photo = tmp_path / "photo.jpg"
    PilImage.new("RGB", (4000, 3000), (200, 40, 40)).save(photo, quality=80)
    image = _review_image(photo)
    assert (image.width(), image.height()) == (REVIEW_SIZE, REVIEW_SIZE * 3 // 4)
    assert _review_image(tmp_path / "missing.png").isNull()

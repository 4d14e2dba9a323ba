"""Themes & Labels on a real workspace database."""

from core.data.importer import import_images
from core.data.themes import create_theme, list_themes
from core.db import open_database
from tests.imaging import make_imagefolder


def loaded(qtbot, panel, action=None):
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        if action:
            action()
    return panel


def make_panel(qtbot, workspace):
    from cockpit.panels.themes import ThemesPanel

    panel = ThemesPanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    panel.show()
    return loaded(qtbot, panel)


def test_create_theme_and_labels_with_inline_validation(qtbot, workspace, screenshot_dir):
    panel = make_panel(qtbot, workspace)
    panel.new_theme.setText("cells")
    loaded(qtbot, panel, panel._create_theme)
    assert panel.current_theme == "cells"
    for name in ("healthy", "infected"):
        panel.new_label.setText(name)
        loaded(qtbot, panel, panel._add_label)
    assert panel.labels.rowCount() == 2
    panel.new_label.setText("healthy")
    loaded(qtbot, panel, panel._add_label)
    assert "label 'healthy' already exists" in panel.message.text()
    [summary] = list_themes(open_database(workspace))
    assert list(summary.labels) == ["healthy", "infected"]
    panel.grab().save(str(screenshot_dir / "panel_themes.png"))


def test_counts_per_split_and_delete_label_in_use_is_refused(qtbot, workspace, tmp_path):
    db = open_database(workspace)
    create_theme(db, "pets")
    make_imagefolder(tmp_path / "src", {"cat": 4, "dog": 2})
    import_images(db, workspace, "pets", [tmp_path / "src"])
    panel = make_panel(qtbot, workspace)
    rows = {
        panel.labels.item(r, 0).text(): panel.labels.item(r, 1).text()
        for r in range(panel.labels.rowCount())
    }
    assert rows == {"cat": "4", "dog": "2"}
    panel.labels.setCurrentCell(0, 0)
    panel.delete_selected_label()
    qtbot.waitUntil(lambda: "used by 4 image(s)" in panel.message.text(), timeout=30_000)
    assert list(list_themes(db)[0].labels) == ["cat", "dog"]

"""The Configure editor refuses what `cockpit config check` refuses: a duplicate YAML key
and an augmentation that cannot run, with the same message."""

from __future__ import annotations

import pytest

from cockpit.panels.editor import ConfigEditorPanel

pytestmark = pytest.mark.filterwarnings("ignore")


def settle(qtbot, panel):
    qtbot.waitUntil(lambda: panel.up_to_date, timeout=30_000)


def test_editor_flags_duplicate_keys_and_a_transform_that_cannot_run(qtbot, show_panel, workspace):
    panel = ConfigEditorPanel(workspace)
    panel.start_runner = False
    show_panel(panel)
    settle(qtbot, panel)
    assert not panel.problems.isVisible()

    panel.set_text("params", panel.text("params") + "lr: 0.5\n")
    settle(qtbot, panel)
    assert "duplicate key 'lr' (first given on line" in panel.problems.text()
    assert panel.tabs.tabText(0).startswith("⚠")

    panel.set_text("augments", "train:\n  - type: Lambda\n    image: not_a_function\n")
    settle(qtbot, panel)
    assert (
        "configs/augments.yaml: train[0] (Lambda): fails on a test image" in panel.problems.text()
    )
    assert panel.tabs.tabText(1).startswith("⚠")
    assert not panel.add_train.isEnabled()
    # saved, the file is still checked the same way
    panel.save("augments")
    qtbot.waitUntil(lambda: panel.unsaved_documents() == ["params"], timeout=10_000)
    panel.set_text("params", panel.text("params") + "dropout: 0.2\n")
    settle(qtbot, panel)
    assert "train[0] (Lambda): fails on a test image" in panel.problems.text()

"""Workspace > Open on a folder that is not a workspace: the same line as the command
line, the window stays, and nothing is created in that folder."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox


def test_opening_a_folder_that_is_not_a_workspace_is_refused(
    qtbot, workspace, tmp_path, monkeypatch
):
    from cockpit.main_window import MainWindow

    shown: list[str] = []
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda _parent, _title, text: shown.append(text))
    )
    window = MainWindow(workspace)
    qtbot.addWidget(window)
    elsewhere = tmp_path / "photos"
    elsewhere.mkdir()
    assert window.open_workspace(str(elsewhere)) is window
    assert window.workspace.root == workspace.root
    assert len(shown) == 1 and shown[0].startswith(f"{elsewhere} is not a workspace")
    assert "cockpit init" in shown[0] and "--workspace" in shown[0]
    assert list(elsewhere.iterdir()) == []

"""One package per panel. ``PANELS`` lists them in the order the main window shows them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from core.workspace import Workspace


def _workspace_panel(workspace: Workspace) -> QWidget:
    from cockpit.panels.workspace import WorkspacePanel

    return WorkspacePanel(workspace)


def _themes_panel(workspace: Workspace) -> QWidget:
    from cockpit.panels.themes import ThemesPanel

    return ThemesPanel(workspace)


def _labeling_panel(workspace: Workspace) -> QWidget:
    from cockpit.panels.labeling import LabelingPanel

    return LabelingPanel(workspace)


#: name -> (title, factory); names are what ``cockpit gui --panel NAME`` takes
PANELS: dict[str, tuple[str, Callable[[Workspace], QWidget]]] = {
    "themes": ("Themes && Labels", _themes_panel),
    "labeling": ("Labeling", _labeling_panel),
    "workspace": ("Configuration", _workspace_panel),
}

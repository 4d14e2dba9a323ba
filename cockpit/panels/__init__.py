"""One package per panel. ``PANELS`` lists them in the order the main window shows them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from core.workspace import Workspace


def panel_module(name: str) -> str:
    """The package of panel ``name`` (importing it may take a while: Qt widgets, plots)."""
    return f"cockpit.panels.{name}"


def _panel_factory(module: str, class_name: str) -> Callable[[Workspace], QWidget]:
    """A factory that imports the panel's package only when the window builds it."""

    def build(workspace: Workspace) -> QWidget:
        from importlib import import_module

        return getattr(import_module(panel_module(module)), class_name)(workspace)

    return build


#: name -> (title, factory); names are what ``cockpit gui --panel NAME`` takes
PANELS: dict[str, tuple[str, Callable[[Workspace], QWidget]]] = {
    "themes": ("Themes && Labels", _panel_factory("themes", "ThemesPanel")),
    "labeling": ("Labeling", _panel_factory("labeling", "LabelingPanel")),
    "editor": ("Configure", _panel_factory("editor", "ConfigEditorPanel")),
    "queue": ("Queue", _panel_factory("queue", "QueuePanel")),
    "live": ("Live", _panel_factory("live", "LivePanel")),
    "history": ("History", _panel_factory("history", "HistoryPanel")),
    "models": ("Models", _panel_factory("models", "ModelsPanel")),
    "tuning": ("Tuning", _panel_factory("tuning", "TuningPanel")),
    "workspace": ("Workspace", _panel_factory("workspace", "WorkspacePanel")),
}

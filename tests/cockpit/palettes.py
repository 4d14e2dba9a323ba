"""A dark palette, to check that panels stay readable in one (colours from the palette,
not hard-coded light ones)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette


def palette_of(colours: dict[QPalette.ColorRole, str], disabled_text: str) -> QPalette:
    """A palette of these role colours, with ``disabled_text`` for disabled text."""
    palette = QPalette()
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(disabled_text))
    return palette


def dark_palette() -> QPalette:
    role = QPalette.ColorRole
    return palette_of(
        {
            role.Window: "#2b2b2b",
            role.WindowText: "#e6e6e6",
            role.Base: "#1e1e1e",
            role.AlternateBase: "#2b2b2b",
            role.Text: "#e6e6e6",
            role.Button: "#3a3a3a",
            role.ButtonText: "#e6e6e6",
            role.Highlight: "#3d7bd9",
            role.HighlightedText: "#ffffff",
            role.Mid: "#555555",
            role.Midlight: "#4a4a4a",
            role.Dark: "#222222",
            role.PlaceholderText: "#9a9a9a",
            role.ToolTipBase: "#3a3a3a",
            role.ToolTipText: "#e6e6e6",
        },
        "#7a7a7a",
    )

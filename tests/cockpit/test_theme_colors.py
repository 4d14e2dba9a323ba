"""Plots, status colours and legends follow the application palette: with a dark palette
the plot background is the palette's dark base and every axis and text is light."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from cockpit.theme_colors import is_dark, plot_colors, status_colour
from tests.cockpit.palettes import palette_of


def dark_palette() -> QPalette:
    """Another dark scheme than tests/cockpit/palettes.py's (the colours asserted below)."""
    role = QPalette.ColorRole
    return palette_of(
        {
            role.Window: "#202124",
            role.WindowText: "#e8eaed",
            role.Base: "#17181a",
            role.AlternateBase: "#26272a",
            role.Text: "#e8eaed",
            role.Button: "#2b2c2f",
            role.ButtonText: "#e8eaed",
            role.Mid: "#5f6368",
            role.PlaceholderText: "#9aa0a6",
            role.Highlight: "#3d7bd9",
            role.HighlightedText: "#ffffff",
            role.ToolTipBase: "#2b2c2f",
            role.ToolTipText: "#e8eaed",
        },
        "#7f8084",
    )


@pytest.fixture
def dark_app(qapp):
    before = QPalette(qapp.palette())
    qapp.setPalette(dark_palette())
    yield qapp
    qapp.setPalette(before)


def _plot_colours(widget):
    item = widget.getPlotItem()
    axis = item.getAxis("bottom")
    return (
        widget.backgroundBrush().color().name(),
        axis.textPen().color().name(),
        axis.pen().color().name(),
        item.getAxis("left").labelStyle["color"],
    )


def test_a_plot_made_under_a_dark_palette_is_dark_with_light_text(qtbot, dark_app):
    from cockpit.panels.live.plots import make_plot

    widget = make_plot("Loss", "epoch", "loss")
    qtbot.addWidget(widget)
    background, text, axis, label = _plot_colours(widget)
    assert background == "#17181a"
    assert text == axis == label == "#e8eaed"
    assert is_dark()
    assert QColor(status_colour("failed")).lightnessF() > 0.6  # readable on dark


def test_a_shown_plot_follows_a_palette_switch(qtbot, qapp):
    from cockpit.panels.live.plots import make_plot

    before = QPalette(qapp.palette())
    widget = make_plot("Loss", "epoch", "loss")
    qtbot.addWidget(widget)
    widget.show()
    light = _plot_colours(widget)
    assert QColor(light[0]).lightnessF() > 0.5 and QColor(light[1]).lightnessF() < 0.5
    try:
        QApplication.setPalette(dark_palette())
        qtbot.waitUntil(lambda: _plot_colours(widget)[0] == "#17181a", timeout=2000)
        assert _plot_colours(widget)[1] == "#e8eaed"
        assert plot_colors().dark
    finally:
        QApplication.setPalette(before)
    qtbot.waitUntil(lambda: _plot_colours(widget) == light, timeout=2000)

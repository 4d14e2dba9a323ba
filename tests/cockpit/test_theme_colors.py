"""Plots, status colours and legends follow the application palette: with a dark palette
the plot background is the palette's dark base and every axis and text is light."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from cockpit.theme_colors import is_dark, plot_colors, status_colour


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#202124"),
        (QPalette.ColorRole.WindowText, "#e8eaed"),
        (QPalette.ColorRole.Base, "#17181a"),
        (QPalette.ColorRole.AlternateBase, "#26272a"),
        (QPalette.ColorRole.Text, "#e8eaed"),
        (QPalette.ColorRole.Button, "#2b2c2f"),
        (QPalette.ColorRole.ButtonText, "#e8eaed"),
        (QPalette.ColorRole.Mid, "#5f6368"),
        (QPalette.ColorRole.PlaceholderText, "#9aa0a6"),
        (QPalette.ColorRole.Highlight, "#3d7bd9"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.ToolTipBase, "#2b2c2f"),
        (QPalette.ColorRole.ToolTipText, "#e8eaed"),
    ):
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7f8084"))
    return palette


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

"""Colours that follow the application palette, for what Qt does not paint by itself:
pyqtgraph plots (background, axes, text, grid, legend), coloured status text and badges.

``style_plot(widget)`` sets a PlotWidget's colours from the palette and keeps them in step
when the palette changes (a dark theme switched on while the window is open). Status
colours (green for running, red for failed …) come in a light and a dark variant: the dark
variant is lighter, so it stays readable on a dark background.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QWidget

#: status name -> (on a light background, on a dark background)
STATUS = {
    "ok": ("#2e7d32", "#81c784"),
    "running": ("#2e7d32", "#81c784"),
    "complete": ("#2e7d32", "#81c784"),
    "finished": ("#1565c0", "#64b5f6"),
    "info": ("#1565c0", "#64b5f6"),
    "pending": ("#616161", "#bdbdbd"),
    "waiting": ("#616161", "#bdbdbd"),
    "pruned": ("#b26a00", "#ffb74d"),
    "cancelled": ("#b26a00", "#ffb74d"),
    "warning": ("#b26a00", "#ffb74d"),
    "failed": ("#c62828", "#ef9a9a"),
    "fail": ("#c62828", "#ef9a9a"),
    "error": ("#c62828", "#ef9a9a"),
}


@dataclass(frozen=True)
class PlotColors:
    background: QColor
    foreground: QColor  # axes, tick labels, titles, legend text
    muted: QColor  # secondary text and axis lines (parallel coordinates)
    grid: QColor
    legend_fill: QColor
    dark: bool


def _palette(palette: QPalette | None) -> QPalette:
    if palette is not None:
        return palette
    app = QApplication.instance()
    return app.palette() if isinstance(app, QApplication) else QPalette()


def is_dark(palette: QPalette | None = None) -> bool:
    """True when the palette's window background is dark (text lighter than the window)."""
    palette = _palette(palette)
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    return window.lightnessF() < text.lightnessF()


def plot_colors(palette: QPalette | None = None) -> PlotColors:
    palette = _palette(palette)
    background = QColor(palette.color(QPalette.ColorRole.Base))
    foreground = QColor(palette.color(QPalette.ColorRole.Text))
    dark = is_dark(palette)
    muted = _mix(foreground, background, 0.35)
    grid = QColor(foreground)
    legend = QColor(background)
    legend.setAlpha(215)
    return PlotColors(background, foreground, muted, grid, legend, dark)


def status_colour(name: str, palette: QPalette | None = None) -> str:
    """``#rrggbb`` of a status (running, failed, …) readable on the palette's background."""
    light, dark = STATUS.get(name, ("#424242", "#e0e0e0"))
    return dark if is_dark(palette) else light


def text_colour(palette: QPalette | None = None) -> str:
    return _palette(palette).color(QPalette.ColorRole.Text).name()


def muted_colour(palette: QPalette | None = None) -> str:
    return plot_colors(palette).muted.name()


def _mix(a: QColor, b: QColor, share_of_b: float) -> QColor:
    keep = 1.0 - share_of_b
    return QColor.fromRgbF(
        a.redF() * keep + b.redF() * share_of_b,
        a.greenF() * keep + b.greenF() * share_of_b,
        a.blueF() * keep + b.blueF() * share_of_b,
    )


def apply_plot_colors(widget: pg.PlotWidget, colors: PlotColors | None = None) -> PlotColors:
    """Background, axes, tick and axis-label text, title, grid and legend of ``widget``."""
    colors = colors or plot_colors(widget.palette())
    widget.setBackground(colors.background)
    item = widget.getPlotItem()
    for side in ("left", "bottom", "right", "top"):
        axis = item.getAxis(side)
        axis.setPen(colors.foreground)
        axis.setTextPen(colors.foreground)
    title = item.titleLabel
    if title.text:
        title.setText(title.text, color=colors.foreground.name())
    legend = item.legend
    if legend is not None:
        legend.setLabelTextColor(colors.foreground)
        legend.setBrush(pg.mkBrush(colors.legend_fill))
        legend.setPen(pg.mkPen(colors.muted))
    return colors


class _PaletteFollower(QObject):
    """Re-applies the colours when the plot's palette changes."""

    def __init__(self, widget: pg.PlotWidget, then: object = None) -> None:
        super().__init__(widget)
        self.widget = widget
        self.then = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # a closed PlotWidget has let go of its plot item
        if event.type() == QEvent.Type.PaletteChange and self.widget.getPlotItem() is not None:
            colors = apply_plot_colors(self.widget)
            if callable(self.then):
                self.then(colors)
        return False


def style_plot(widget: pg.PlotWidget, on_change: object = None) -> PlotColors:
    """Colour ``widget`` from the palette now and whenever the palette changes;
    ``on_change(colors)`` is called after a change (for items coloured by the caller)."""
    colors = apply_plot_colors(widget)
    follower = _PaletteFollower(widget, on_change)
    widget.installEventFilter(follower)
    return colors


def follow_palette(widget: QWidget, restyle: object) -> None:
    """Call ``restyle()`` whenever ``widget``'s palette changes (labels with coloured
    text, badges)."""

    class _Follower(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.PaletteChange and callable(restyle):
                restyle()
            return False

    widget.installEventFilter(_Follower(widget))

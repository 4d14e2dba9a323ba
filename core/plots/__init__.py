"""Plot jobs (multi-layer): dataset, adapter and model layers each declare the
figures they can draw; a plot job restores an experiment and renders them to PNG."""

from core.plots.base import BasePlot, PlotContext

__all__ = ["BasePlot", "PlotContext"]

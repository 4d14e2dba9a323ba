"""Figures of the ``images`` dataset layer."""

from core.plots.standard import SampleGridPlot

PLOTS = [SampleGridPlot]

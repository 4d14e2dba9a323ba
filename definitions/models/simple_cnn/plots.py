"""Figures of the model layer: how the trained network does."""

from core.plots.standard import ConfusionMatrixPlot, TrainingCurvesPlot

PLOTS = [ConfusionMatrixPlot, TrainingCurvesPlot]

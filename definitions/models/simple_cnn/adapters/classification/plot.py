"""Figures of the adapter layer: what the model is fed."""

from core.plots.standard import AugmentationPreviewPlot

PLOTS = [AugmentationPreviewPlot]

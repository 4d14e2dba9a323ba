"""Experiment Cockpit engine: workspace, configuration, data, training, queue, tracking.

Nothing in this package imports Qt; the GUI in ``cockpit`` builds on these functions.
"""

__version__ = "0.1.0"

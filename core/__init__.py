"""Experiment Cockpit engine: workspace, configuration, data, training, queue, tracking.

Nothing in this package imports Qt; the GUI in ``cockpit`` builds on these functions.
"""

__version__ = "0.1.0"

# A local tool sends nothing over the network: MLflow's usage telemetry is off wherever
# the engine is used (the command line, jobs, the GUI, scripts that import it). The user's
# own setting wins. (Its background thread also took about 4 % of a small training's CPU
# samples on two cores.)
import os as _os

_os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")

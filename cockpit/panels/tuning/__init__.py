from cockpit.panels.tuning.widget import TuningPanel

__all__ = ["TuningPanel"]

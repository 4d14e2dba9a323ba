from cockpit.panels.labeling.widget import LabelingPanel

__all__ = ["LabelingPanel"]

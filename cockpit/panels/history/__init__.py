from cockpit.panels.history.widget import HistoryPanel

__all__ = ["HistoryPanel"]

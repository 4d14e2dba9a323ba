from cockpit.panels.live.widget import LivePanel

__all__ = ["LivePanel"]

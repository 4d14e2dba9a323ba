from cockpit.panels.models.widget import ModelsPanel

__all__ = ["ModelsPanel"]

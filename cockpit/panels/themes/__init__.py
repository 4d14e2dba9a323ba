from cockpit.panels.themes.widget import ThemesPanel

__all__ = ["ThemesPanel"]

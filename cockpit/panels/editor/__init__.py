from cockpit.panels.editor.widget import ConfigEditorPanel

__all__ = ["ConfigEditorPanel"]

from cockpit.panels.workspace.widget import WorkspacePanel

__all__ = ["WorkspacePanel"]

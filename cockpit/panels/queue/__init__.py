from cockpit.panels.queue.widget import QueuePanel

__all__ = ["QueuePanel"]

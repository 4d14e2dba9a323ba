"""The ``cockpit`` command line (also ``python -m cockpit``)."""

from cockpit.cli.main import cli, main

__all__ = ["cli", "main"]

"""Run a function off the GUI thread and get its result back on the GUI thread."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from superqt.utils import create_worker


def run_in_background(
    func: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[BaseException], None],
) -> None:
    """Start ``func`` on Qt's thread pool (superqt worker).

    ``on_done`` and ``on_failed`` must be methods of a QObject living on the GUI thread
    (a widget's methods): Qt then queues the call to that thread, and drops it if the
    widget has been destroyed meanwhile.
    """
    worker = create_worker(func, _start_thread=False)
    worker.returned.connect(on_done)
    worker.errored.connect(on_failed)
    worker.start()

"""Run a function off the GUI thread and get its result back on the GUI thread."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

from superqt.utils import create_worker

# Imported once, in one thread, before any other background work: pydantic's lazy module
# attributes are not safe to import from several threads at the same moment.
ENGINE_MODULES = (
    "core.config",
    "core.db",
    "core.registry",
    "core.experiment",
    "core.data.browse",
    "core.data.themes",
    "core.data.importer",
    "core.data.labeling",
    "core.data.splits",
    "core.config.editing",
    "core.history.preview",
    "core.jobs.queue",
    "core.jobs.runner",
    "core.history",
    "core.tuning.results",
    "core.models.catalog",
)
_engine_ready = threading.Event()
_warm_up_started = threading.Lock()


def _warm_up() -> None:
    try:
        for name in ENGINE_MODULES:
            importlib.import_module(name)
    finally:
        _engine_ready.set()


def run_in_background(
    func: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[BaseException], None],
) -> None:
    """Start ``func`` on Qt's thread pool (superqt worker); the callbacks run on the GUI
    thread. The first call also starts the engine warm-up that every task waits for."""
    if _warm_up_started.acquire(blocking=False):
        create_worker(_warm_up, _start_thread=True)

    def task() -> Any:
        _engine_ready.wait()
        return func()

    # handing "errored" over keeps superqt from re-raising the error in the event loop
    create_worker(task, _start_thread=True, _connect={"returned": on_done, "errored": on_failed})

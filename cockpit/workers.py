"""Run a function off the GUI thread and get its result back on the GUI thread.

Qt's own thread pool and a queued signal, rather than superqt's workers: importing
superqt loads every superqt widget and qtpy's Qt modules (~0.4 s before the window could
be shown), and these callbacks need nothing more."""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

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


class _Relay(QObject):
    """Lives on the GUI thread; a signal emitted from the pool thread is queued to it."""

    sig_done = Signal(object)
    sig_failed = Signal(object)


_relays: set[_Relay] = set()  # alive until their result is delivered


class _Task(QRunnable):
    def __init__(self, func: Callable[[], Any], relay: _Relay | None) -> None:
        super().__init__()
        self.func, self.relay = func, relay

    def run(self) -> None:
        try:
            result = self.func()
        except BaseException as exc:  # handed to the GUI thread's callback, not lost
            if self.relay is not None:
                self.relay.sig_failed.emit(exc)
        else:
            if self.relay is not None:
                self.relay.sig_done.emit(result)


def run_in_background(
    func: Callable[[], Any],
    on_done: Callable[[Any], None],
    on_failed: Callable[[BaseException], None],
) -> None:
    """Start ``func`` on Qt's thread pool; the callbacks run on the GUI thread (call this
    from the GUI thread). The first call also starts the engine warm-up that every task
    waits for."""
    pool = QThreadPool.globalInstance()
    if _warm_up_started.acquire(blocking=False):
        pool.start(_Task(_warm_up, None))

    def task() -> Any:
        _engine_ready.wait()
        return func()

    relay = _Relay()
    _relays.add(relay)

    def release(*_args: Any) -> None:
        _relays.discard(relay)
        relay.deleteLater()

    relay.sig_done.connect(_while_alive(on_done))
    relay.sig_failed.connect(_while_alive(on_failed))
    relay.sig_done.connect(release)
    relay.sig_failed.connect(release)
    pool.start(_Task(task, relay))


def _while_alive(callback: Callable[[Any], None]) -> Callable[[Any], None]:
    """``callback``, skipped once a Qt object it is bound to or closes over (the ``self``
    of a panel's lambda) has been deleted: a result that arrives after its panel was
    closed is dropped, not delivered to a deleted widget."""
    owners: list[QObject] = []
    bound = getattr(callback, "__self__", None)
    if isinstance(bound, QObject):
        owners.append(bound)
    for cell in getattr(callback, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:  # a cell not filled yet
            continue
        if isinstance(value, QObject):
            owners.append(value)

    def call(value: Any) -> None:
        if all(shiboken6.isValid(owner) for owner in owners):
            callback(value)

    return call

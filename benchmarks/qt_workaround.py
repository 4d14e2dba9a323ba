"""PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call of a Qt
method that returns nothing (``painter.setPen(pen)``, ``label.setText(s)`` …): a few tens
of thousands of such calls later the interpreter aborts with "none_dealloc: deallocating
None" (the same for True and False, more rarely). Plotting benchmarks repaint thousands of times, so they raise None's reference
count out of reach first (Python 3.12+ makes None immortal for the same effect)."""

from __future__ import annotations

import ctypes
import sys


def keep_none_alive() -> None:
    if sys.version_info < (3, 12):
        for singleton in (None, True, False):
            ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40

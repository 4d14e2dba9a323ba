"""PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call of a Qt
method that returns nothing (``painter.setPen(pen)``, ``label.setText(s)`` …); a few tens
of thousands of such calls later the interpreter aborts with "none_dealloc: deallocating
None" (a bool result sometimes does the same to True or False). PySide6 6.11.3 has no such
leak. Plotting benchmarks repaint thousands of times, so they first raise the reference
counts of these singletons out of reach, which Python 3.12+ does for every process (they
are immortal there)."""

from __future__ import annotations

import ctypes
import sys


def keep_none_alive() -> None:
    if sys.version_info < (3, 12):
        for singleton in (None, True, False):
            ctypes.c_ssize_t.from_address(id(singleton)).value += 1 << 40

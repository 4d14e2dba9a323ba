"""The application collects garbage on its GUI thread only: automatic collection is off,
and the timer collects by Python's own generation thresholds."""

from __future__ import annotations

import gc


def test_collection_is_off_and_the_gui_thread_collects_by_the_thresholds(qtbot):
    from cockpit.collector import GuiThreadCollector

    collector = GuiThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        gc.collect()
        assert collector.collect() == -1  # nothing new yet

        class Cycle:
            def __init__(self) -> None:
                self.me = self

        for _ in range(collector.thresholds[0] + 50):
            Cycle()
        assert gc.get_count()[0] > collector.thresholds[0]  # automatic collection is off
        qtbot.waitUntil(lambda: gc.get_count()[0] < collector.thresholds[0], timeout=5_000)
    finally:
        collector.timer.stop()
        gc.enable()

"""Event-loop stalls of the Live panel while 4 jobs write 100 metric lines/s each.

    .venv/bin/python benchmarks/bench_live_stalls.py [SECONDS] [PREFILL]

Four writer processes append, every 10 ms, one step line (the format of
JobLoggingCallback) and one log line to their job's files, with an epoch line pair every
50 steps; each metrics file already holds PREFILL step lines (a long-running job). The
panel overlays the 4 jobs (the first one's log shown). A 5 ms QTimer records the gaps
between its ticks: a gap well over 5 ms is the event loop stalled. The baseline is the
same timer while the writers run and the panel is open but follows no job (the noise floor
of this machine and of the writers' own load); then the panel follows the 4 jobs.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QThreadPool, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cockpit.panels.live import LivePanel  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from tests.cockpit.panels.live.synthetic import TrainingWriter, running_job  # noqa: E402

WRITER = """
import sys, time
sys.path.insert(0, {root!r})
from tests.cockpit.panels.live.synthetic import TrainingWriter
from pathlib import Path
writer = TrainingWriter(Path({logs!r}), {job!r}, seed={seed})
writer.step = {prefill}
end = time.monotonic() + {seconds}
tick = time.monotonic()
while time.monotonic() < end:
    writer.write_steps(1)
    with open(writer.log, "a") as log:
        log.write(f"step {{writer.step}} loss ok\\n")
    tick += 0.01
    time.sleep(max(0.0, tick - time.monotonic()))
print(writer.step - {prefill})
"""


LOAD_ALLOWANCE_S = 15.0  # the writers keep writing while the panel loads the 4 files


def gaps_during(seconds: float) -> np.ndarray:
    """Gaps (ms) between the ticks of a precise 5 ms timer while a real event loop runs
    (QTest.qWait would sleep 10 ms slices of its own)."""
    clock = QElapsedTimer()
    clock.start()
    stamps: list[int] = []
    timer = QTimer(interval=5)
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(lambda: stamps.append(clock.nsecsElapsed()))
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    timer.start()
    loop.exec()
    timer.stop()
    return np.diff(np.array(stamps, dtype=float)) / 1e6


def report(name: str, gaps: np.ndarray) -> str:
    return (
        f"{name:40} max {gaps.max():6.1f} ms   p99 {np.percentile(gaps, 99):5.1f} ms   "
        f"p50 {np.percentile(gaps, 50):4.1f} ms   ticks {len(gaps)}"
    )


def main(seconds: float, prefill: int) -> None:
    _app = QApplication.instance() or QApplication([])

    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws").workspace
        jobs = [running_job(ws, model=f"model_{i}") for i in range(4)]
        for i, job in enumerate(jobs):
            TrainingWriter(ws.logs_dir, job.id, seed=i).write_steps(prefill)
        panel = LivePanel(ws)
        panel.resize(1280, 800)
        panel.show()
        QTest.qWait(1500)  # job list read, engine warm-up done
        baseline_s = min(seconds, 5.0)
        writers = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-c",
                    WRITER.format(
                        root=str(ROOT),
                        logs=str(ws.logs_dir),
                        job=job.id,
                        seed=i,
                        prefill=prefill,
                        seconds=baseline_s + LOAD_ALLOWANCE_S + seconds + 1.0,
                    ),
                ],
                stdout=subprocess.PIPE,
                text=True,
            )
            for i, job in enumerate(jobs)
        ]
        QTest.qWait(500)  # the writers' interpreters start
        idle = gaps_during(baseline_s)

        panel.show_job(jobs[0].id)
        for job in jobs[1:]:
            panel.add_overlay(job.id)
        start = time.perf_counter()
        while any(panel.curves.points(j.id, "train_step") < prefill for j in jobs):
            QTest.qWait(20)
        loaded = time.perf_counter() - start
        if loaded > LOAD_ALLOWANCE_S:
            raise RuntimeError(f"loading took {loaded:.1f} s: raise LOAD_ALLOWANCE_S")
        live = gaps_during(seconds)
        written = [int(w.communicate()[0]) for w in writers]
        start = time.perf_counter()
        expected = [prefill + n for n in written]
        while [panel.curves.points(j.id, "train_step") for j in jobs] != expected:
            QTest.qWait(10)
            if time.perf_counter() - start > 10:
                break
        caught_up = time.perf_counter() - start
        shown = [panel.curves.points(j.id, "train_step") - prefill for j in jobs]
        panel.shutdown()
        QThreadPool.globalInstance().waitForDone()

    print(
        f"4 jobs: {prefill:,} step lines each at the start, then 100 lines/s each "
        f"for {seconds:.0f} s"
    )
    print(f"first load of the 4 metrics files: {loaded:.2f} s (background)")
    print(report("writers running, panel idle (baseline)", idle))
    print(report("writers running, panel following all 4", live))
    print(f"step lines written per job: {written}; new points drawn: {shown}")
    print(f"last line on screen {caught_up * 1000:.0f} ms after the writers stopped")
    print("goal: max stall < 50 ms")


if __name__ == "__main__":
    main(
        float(sys.argv[1]) if len(sys.argv) > 1 else 10.0,
        int(sys.argv[2]) if len(sys.argv) > 2 else 25_000,
    )

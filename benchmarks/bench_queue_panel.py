"""The queue panel with 1,000 jobs, offscreen.

    .venv/bin/python benchmarks/bench_queue_panel.py [JOBS]

A realistic mix of job files (most finished, some failed and cancelled, a few hundred
pending, 4 running with growing metrics files), then:

1. background scan (worker thread): the first scan (every file parsed, every ended job's
   metrics tail read once) and a steady scan (nothing changed: stat only; running jobs'
   new metrics lines), vs a bare os.scandir + json.load of the same files;
2. GUI-thread part of a refresh (goal < 50 ms): the first fill, a refresh with nothing
   changed but the running jobs' progress, a refresh after one job moved to the top, each
   plus a synchronous repaint of the visible rows;
3. end to end: a change made by another process (JobQueue.move, what `cockpit queue move`
   calls) until the panel shows it, with the watcher and the fallback timer running
   (goal < 1 s).
"""

from __future__ import annotations

import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QThreadPool  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402
from timing import best_of  # noqa: E402

from cockpit.panels.queue import QueuePanel  # noqa: E402
from cockpit.panels.queue.status import scan_queue  # noqa: E402
from core.jobs.model import Job  # noqa: E402
from core.jobs.progress import ProgressTracker  # noqa: E402
from core.jobs.queue import JobQueue, QueueScanner  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.workspace import QUEUE_STATES  # noqa: E402

RUNNING = 4


def wait(condition, timeout: float = 60.0) -> float:
    start = time.perf_counter()
    while not condition():
        QTest.qWait(2)
        if time.perf_counter() - start > timeout:
            raise TimeoutError
    return time.perf_counter() - start


def make_jobs(ws, count: int) -> list[Job]:
    """Job files as the runner leaves them, written with the queue's own atomic write."""
    queue = JobQueue(ws)
    queue.ensure_folders()
    rng = random.Random(0)
    now = time.time()
    jobs = []
    for i in range(count):
        if i < RUNNING:
            state = "running"
        elif i < count * 0.3:
            state = "pending"
        else:
            state = rng.choices(["finished", "failed", "cancelled"], [0.8, 0.12, 0.08])[0]
        kind = "tune" if i % 10 == 0 else "train"
        started = now - rng.uniform(60, 86_400) if state != "pending" else None
        job = Job(
            kind=kind,
            state=state,
            workspace=str(ws.root),
            theme=f"theme{i % 7}",
            params={"model": "simple_cnn", "max_epochs": 30, "lr": 10 ** -rng.uniform(1, 4)},
            experiment_id=f"{rng.getrandbits(48):012x}",
            args={"n_trials": 20, "study_name": f"study{i}"} if kind == "tune" else {},
            position=float(i),
            created_at=now - 90_000 + i,
            started_at=started,
            finished_at=started + rng.uniform(30, 600) if state in ("finished", "failed") else None,
            device="cpu:0" if state != "pending" else None,
            error="exit code 1\nRuntimeError: out of memory" if state == "failed" else None,
        )
        queue.write(job)
        jobs.append(job)
    return jobs


def write_metrics(ws, jobs: list[Job], epochs: int) -> None:
    """Epoch lines for the running jobs (a few KB each, like a short training)."""
    for job in jobs[:RUNNING]:
        with open(ws.logs_dir / f"{job.id}.metrics.jsonl", "a") as handle:
            for epoch in range(epochs):
                for step in range(0, 50, 10):
                    record = {"kind": "step", "step": epoch * 50 + step, "epoch": epoch}
                    handle.write(json.dumps({**record, "loss": 0.5, "time": time.time()}) + "\n")
                record = {"kind": "epoch", "epoch": epoch, "split": "valid", "step": epoch * 50}
                handle.write(json.dumps({**record, "loss": 0.4, "time": time.time()}) + "\n")


def main(count: int) -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "ws").workspace
        jobs = make_jobs(ws, count)
        write_metrics(ws, jobs, 5)

        # 1. background scan
        def bare_scan() -> None:
            found = []
            for state in QUEUE_STATES:
                for entry in os.scandir(ws.queue_state_dir(state)):
                    with open(entry.path) as handle:
                        found.append(json.load(handle))

        scanner, tracker = QueueScanner(JobQueue(ws)), ProgressTracker(ws.logs_dir)
        start = time.perf_counter()
        first = scan_queue(ws, scanner, tracker)
        first_scan = time.perf_counter() - start
        steady_scan = best_of(lambda: scan_queue(ws, scanner, tracker), 10)
        bare = best_of(bare_scan)
        print(f"1. background scan, {len(first.jobs)} jobs ({RUNNING} running)")
        print(
            f"   first: {first_scan * 1e3:.1f} ms   steady (nothing changed): "
            f"{steady_scan * 1e3:.1f} ms   bare scandir+json.load of all files: "
            f"{bare * 1e3:.1f} ms"
        )

        # 2. GUI thread: the panel's apply step on the scans above
        panel = QueuePanel(ws)
        panel.resize(1280, 800)
        panel.show()
        wait(lambda: panel._loaded)
        panel.shutdown()  # from here on, only the refreshes timed below
        QThreadPool.globalInstance().waitForDone()
        panel.model.apply([])
        viewport = panel.table.viewport()

        applied = []

        def gui_refresh(result) -> float:
            start = time.perf_counter()
            panel.apply_scan(result)
            applied.append(time.perf_counter() - start)
            viewport.repaint()
            return time.perf_counter() - start

        fill = gui_refresh(first)
        steady = []
        for _ in range(10):
            write_metrics(ws, jobs, 1)  # the running jobs progress between refreshes
            steady.append(gui_refresh(scan_queue(ws, scanner, tracker)))
        queue = JobQueue(ws)
        moved = []
        for _ in range(5):
            last = queue.pending()[-1].id
            queue.move(last, 1)
            result = scan_queue(ws, scanner, tracker)
            moved.append(gui_refresh(result))
            assert panel.model.rows[RUNNING].id == last
        print(f"2. GUI thread per refresh (apply diff + repaint), {count} jobs   (goal < 50 ms)")
        print(
            f"   first fill: {fill * 1e3:.1f} ms   progress only: {min(steady) * 1e3:.2f} ms "
            f"(max {max(steady) * 1e3:.2f})   one job moved to the top: "
            f"{min(moved) * 1e3:.2f} ms (max {max(moved) * 1e3:.2f})"
        )
        print(
            f"   of which the model diff and labels (no paint): median "
            f"{sorted(applied[1:])[len(applied) // 2] * 1e3:.2f} ms"
        )
        panel.close()

        # 3. end to end, watcher and timer running
        live = QueuePanel(ws)
        live.resize(1280, 800)
        live.show()
        wait(lambda: live._loaded)
        latencies, applies = [], []
        for _ in range(5):
            QTest.qWait(300)
            last = queue.pending()[-1].id
            start = time.perf_counter()
            queue.move(last, 1)
            wait(lambda: live.model.rows[RUNNING].id == last, timeout=10)  # noqa: B023
            latencies.append(time.perf_counter() - start)
            applies.append(live.last_apply_s)
        live.shutdown()
        QThreadPool.globalInstance().waitForDone()
        print("3. another process moves a job -> the panel shows it   (goal < 1 s)")
        print(
            f"   median {sorted(latencies)[2] * 1e3:.0f} ms   max {max(latencies) * 1e3:.0f} ms"
            f"   (GUI-thread part of those refreshes: max {max(applies) * 1e3:.1f} ms)"
        )
        live.close()
    app.quit()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)

"""Job queue and runner costs, each beside its bare baseline in the same run.

    .venv/bin/python benchmarks/bench_queue.py

1. submit -> job process started (runner not running, so submit starts it), vs starting
   one bare Python process that prints a line;
2. 1,000 pending jobs: list in order, and move one job, vs reading the same files with a
   bare os.scandir + json.load loop;
3. runner overhead per trivial job (a "check" job): the runner running N jobs vs the same
   N job processes started one after another by hand.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import best_of  # noqa: E402

from core.config import resolve_params  # noqa: E402
from core.jobs.model import Job  # noqa: E402
from core.jobs.queue import JobQueue  # noqa: E402
from core.jobs.runner import Runner  # noqa: E402
from core.jobs.submit import submit_check  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402


def first_line_time(path: Path, timeout: float = 60) -> float:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if path.exists() and path.stat().st_size > 0:
            return time.time()
        time.sleep(0.005)
    raise TimeoutError(path)


def submit_latency(tmp: Path) -> None:
    ws = init_workspace(tmp / "latency").workspace
    params = resolve_params(ws)
    results = []
    for _ in range(3):
        start = time.time()
        job = submit_check(ws, params)
        started = first_line_time(ws.logs_dir / f"{job.id}.log")
        results.append(started - start)
        while JobQueue(ws).get(job.id).state != "finished":
            time.sleep(0.05)
        time.sleep(0.5)  # let the runner exit, so the next submit starts one again
    bare = []
    for _ in range(3):
        start = time.time()
        subprocess.run([sys.executable, "-c", "print('job')"], check=True, capture_output=True)
        bare.append(time.time() - start)
    ours, base = min(results), min(bare)
    print("1. submit -> job process running (runner started by submit)")
    print(
        f"   cockpit: {ours:.3f} s   bare python start: {base:.3f} s   ratio {ours / base:.1f}x"
        f"   (goal < 1 s)"
    )


def thousand_jobs(tmp: Path) -> None:
    ws = init_workspace(tmp / "thousand").workspace
    queue = JobQueue(ws)
    for _ in range(1000):
        queue.submit(Job(kind="check", workspace=str(ws.root)))
    folder = ws.queue_state_dir("pending")

    def bare_list() -> None:
        jobs = []
        for entry in os.scandir(folder):
            with open(entry.path) as handle:
                jobs.append(json.load(handle))
        jobs.sort(key=lambda j: (-j["priority"], j["position"]))

    listing = best_of(queue.pending)
    baseline = best_of(bare_list)
    last = queue.pending()[-1].id
    moving = best_of(lambda: queue.move(last, 1))
    print("2. 1,000 pending jobs")
    print(
        f"   list in order: {listing * 1e3:.1f} ms (bare scandir+json: {baseline * 1e3:.1f} ms,"
        f" ratio {listing / baseline:.1f}x)   move one to the front: {moving * 1e3:.1f} ms"
        f"   (goal < 100 ms)"
    )


def runner_overhead(tmp: Path, count: int = 10) -> None:
    ws = init_workspace(tmp / "overhead").workspace
    params = resolve_params(ws)
    jobs = [submit_check(ws, params, start=False) for _ in range(count)]
    start = time.perf_counter()
    Runner(ws, echo=lambda _line: None, poll_s=0.05).run()
    ours = (time.perf_counter() - start) / count
    files = [ws.queue_state_dir("finished") / f"{j.id}.json" for j in jobs]
    start = time.perf_counter()
    for path in files:
        subprocess.run(
            [sys.executable, "-u", "-m", "core.jobs.run", str(path)],
            check=True,
            capture_output=True,
            cwd=ws.root,
        )
    bare = (time.perf_counter() - start) / count
    print(f"3. runner, {count} trivial jobs")
    print(
        f"   per job via runner: {ours:.3f} s   same process by hand: {bare:.3f} s"
        f"   overhead {ours - bare:.3f} s/job   (goal < 0.3 s)"
    )


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        submit_latency(Path(tmp))
        thousand_jobs(Path(tmp))
        runner_overhead(Path(tmp))


if __name__ == "__main__":
    main()

"""Submit and ``queue list`` as the queue grows: 100, 1,000 and 10,000 pending jobs.

    .venv/bin/python benchmarks/bench_queue_scale.py [--sizes 100,1000,10000]

For each size, in one run:
1. ``JobQueue.submit`` of one more job (duplicate check, position, job file written with
   fsync, index updated), best of 5, with the index in place; and the first submit after
   the index was deleted (it is rebuilt from every job file);
2. the listing the CLI prints (``JobQueue.summaries``), best of 5;
3. ``cockpit queue list`` end to end (a fresh process, output to a pipe), best of 3,
   beside ``python -c pass``;
4. the baseline: every pending job file read with a bare ``os.scandir`` + ``json.load``
   loop (what any scan of the files costs), and the full parse the queue did per submit
   before the index (``JobQueue.jobs``: every file validated).
The jobs are written directly (no fsync) to set the benchmark up quickly.
"""

from __future__ import annotations

import argparse
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

from core.jobs.model import Job  # noqa: E402
from core.jobs.queue import INDEX_FILE, JobQueue  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402


def fill(queue: JobQueue, count: int) -> None:
    queue.ensure_folders()
    folder = queue.root / "pending"
    params = {"model": "simple_cnn", "lr": 0.001, "max_epochs": 10, "image_size": 64}
    for number in range(count):
        job = Job(
            kind="train",
            theme="cells",
            workspace=str(queue.workspace.root),
            params=params,
            experiment_id=f"{number:012x}",
            position=float(number + 1),
        )
        (folder / f"{job.id}-{number:05d}.json").write_text(
            job.model_copy(update={"id": f"{job.id}-{number:05d}"}).model_dump_json(indent=1)
        )


def cli_seconds(args: list[str], repeats: int = 3) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(args, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def one_size(tmp: Path, count: int, python_pass: float) -> None:
    ws = init_workspace(tmp / f"q{count}").workspace
    queue = JobQueue(ws)
    fill(queue, count)
    folder = queue.root / "pending"

    def bare_scan() -> None:
        for entry in os.scandir(folder):
            with open(entry.path) as handle:
                json.load(handle)

    def submit() -> None:
        queue.submit(Job(kind="check", workspace=str(ws.root)))

    full_parse = best_of(lambda: queue.jobs(("pending", "running")), 3)
    bare = best_of(bare_scan, 3)
    (queue.root / INDEX_FILE).unlink(missing_ok=True)
    start = time.perf_counter()
    submit()
    rebuild = time.perf_counter() - start
    warm = best_of(submit, 5)
    listing = best_of(queue.summaries, 5)
    cli = cli_seconds([sys.executable, "-m", "cockpit", "-w", str(ws.root), "queue", "list"])
    print(f"{count:>6} pending jobs")
    print(f"   submit (index in place)         {warm * 1000:8.1f} ms   (goal < 300 ms)")
    print(f"   submit, index rebuilt first     {rebuild * 1000:8.1f} ms")
    print(f"   listing (summaries)             {listing * 1000:8.1f} ms")
    print(
        f"   cockpit queue list, end to end  {cli * 1000:8.1f} ms   "
        f"{cli / python_pass:.1f}x python -c pass"
    )
    print(f"   bare scandir + json.load        {bare * 1000:8.1f} ms")
    print(f"   full parse (before the index)   {full_parse * 1000:8.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    sizes = [int(s) for s in parser.parse_args().sizes.split(",")]
    python_pass = cli_seconds([sys.executable, "-c", "pass"], 5)
    print(f"python -c pass: {python_pass * 1000:.1f} ms")
    with tempfile.TemporaryDirectory() as folder:
        for count in sizes:
            one_size(Path(folder), count, python_pass)


if __name__ == "__main__":
    main()

"""How fast the CLI answers: each command's wall time (a fresh process, output to a pipe,
best of N) as a ratio over ``python -c pass`` and, for context, ``python -c "import torch"``.

    .venv/bin/python benchmarks/bench_cli_startup.py [--repeats 5]

The workspace: 3 x 12 demo images (16 px), trained once (2 tiny epochs) so ``train`` with
the same settings is "already complete" and ``models list`` has a registered model.
Also the first line of a new ``train`` (the process killed right after it), and a
validation error (an unknown theme). Goals (issue: the first ten minutes): "already
complete", ``models list``, ``queue list`` and ``config check`` < 2 s on 2 idle cores; the
first line of ``train`` < 3 s.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402

TINY = ["max_epochs=2", "image_size=16", "batch_size=8", "num_workers=0", "lr=0.01"]
SETS = [arg for item in TINY for arg in ("--set", item)]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def seconds(args: list[str], repeats: int, ok: tuple[int, ...] = (0,)) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(args, env=ENV, capture_output=True, text=True)
        took = time.perf_counter() - start
        if done.returncode not in ok:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr}")
        best = min(best, took)
    return best


def first_line(args: list[str], repeats: int) -> float:
    """Seconds until the command's first line of output; the process is then stopped."""
    best = float("inf")
    for number in range(repeats):
        start = time.perf_counter()
        process = subprocess.Popen(
            [*args, "--set", f"seed={1000 + number}"],  # a new experiment each time
            env=ENV,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        assert process.stdout is not None
        process.stdout.readline()
        best = min(best, time.perf_counter() - start)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    repeats = parser.parse_args().repeats
    tmp = Path(tempfile.mkdtemp(prefix="bench-cli-"))
    ws = init_workspace(tmp / "ws").workspace
    write_demo_images(tmp / "images", per_class=12, size=16, seed=3)
    db = open_database(ws)
    create_theme(db, "shapes")
    import_images(db, ws, "shapes", [tmp / "images"])
    cockpit = [sys.executable, "-m", "cockpit", "-w", str(ws.root)]
    train = [*cockpit, "train", "--theme", "shapes", *SETS]
    subprocess.run(train, env=ENV, check=True, capture_output=True)  # trained once

    python_pass = seconds([sys.executable, "-c", "pass"], repeats)
    python_torch = seconds([sys.executable, "-c", "import torch"], repeats)
    rows = [
        ("cockpit --help", seconds([*cockpit, "--help"], repeats), None),
        ("queue list", seconds([*cockpit, "queue", "list"], repeats), 2.0),
        ("config check", seconds([*cockpit, "config", "check"], repeats), 2.0),
        ("models list", seconds([*cockpit, "models", "list"], repeats), 2.0),
        ("train, already complete", seconds(train, repeats), 2.0),
        (
            "train, unknown theme (exit 2)",
            seconds([*cockpit, "train", "--theme", "nosuch"], repeats, ok=(2,)),
            None,
        ),
        ("train, first line of a new one", first_line(train, repeats), 3.0),
    ]
    print(f"python -c pass        : {python_pass:.3f} s")
    print(f"python -c import torch: {python_torch:.3f} s")
    print(f"{'command':<32} {'best s':>7} {'/ pass':>7} {'/ torch':>8}  goal")
    for name, took, goal in rows:
        verdict = "" if goal is None else f"< {goal:.0f} s {'met' if took < goal else 'NOT met'}"
        print(
            f"{name:<32} {took:7.3f} {took / python_pass:6.1f}x {took / python_torch:7.2f}x"
            f"  {verdict}"
        )


if __name__ == "__main__":
    main()

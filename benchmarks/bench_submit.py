"""``cockpit submit train`` with full freezing and validation (parameters resolved,
augments.yaml parsed and instantiated with albumentations, registry entries checked from
source and digested, data snapshot fingerprinted, job file written), beside baselines in
the same run.

    .venv/bin/python benchmarks/bench_submit.py

1. the command end to end (a fresh process, as a user runs it, ``--no-runner``): the first
   submit of these augmentations (albumentations imported to instantiate them), then
   repeated submits (the success remembered); vs a bare Python start and vs ``cockpit
   config hash --theme`` (same start-up, resolve and snapshot, no freezing);
2. inside one process: each step of a submit, cold (first call) and warm.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from timing import best_of  # noqa: E402

from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.workspace import Workspace  # noqa: E402

PER_CLASS = 100


def cockpit(ws: Workspace, *args: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cockpit", "-w", str(ws.root), *args],
        check=True,
        capture_output=True,
        env=env,
    )
    return time.perf_counter() - start


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="bench-submit-"))
    ws = init_workspace(tmp / "ws").workspace
    write_demo_images(tmp / "images", per_class=PER_CLASS, size=32, seed=1)
    db = open_database(ws)
    create_theme(db, "shapes")
    import_images(db, ws, "shapes", [tmp / "images"])
    images = 3 * PER_CLASS
    print(f"workspace: {images} demo images, 3 labels, example configs (3 augmentations)")

    first = cockpit(ws, "submit", "train", "--theme", "shapes", "--no-runner", "--set", "lr=0.5")
    submits = [
        cockpit(ws, "submit", "train", "--theme", "shapes", "--no-runner", "--set", f"lr=0.1{n}")
        for n in range(1, 6)
    ]
    hashes = [cockpit(ws, "config", "hash", "--theme", "shapes") for _ in range(5)]
    bare = best_of(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True), repeats=5)
    print("1. command end to end (fresh process; best and median of 5)")
    print(f"   cockpit submit train, first (augmentations not checked yet): {first:.3f} s")
    print(f"   cockpit submit train : {min(submits):.3f} s  median {sorted(submits)[2]:.3f} s")
    print(f"   cockpit config hash  : {min(hashes):.3f} s  median {sorted(hashes)[2]:.3f} s")
    print(f"   bare python start    : {bare:.3f} s")

    # inside one process: each step, the first call cold (its imports), then warm
    from core.config import parse_overrides, resolve_params
    from core.jobs.submit import _freeze, submit_train
    from core.training.builder import ExperimentBuilder

    steps = {}
    start = time.perf_counter()
    params = resolve_params(ws, overrides=parse_overrides(["lr=0.9"]))
    steps["resolve params + augments + source digests"] = time.perf_counter() - start
    for marker in (ws.root / "output" / "checked").glob("augments-*"):
        marker.unlink()  # the first check of these augmentations: import + instantiate
    start = time.perf_counter()
    _freeze(ws, params)
    steps["freeze, augmentations not checked yet (cold)"] = time.perf_counter() - start
    steps["freeze, augmentations checked before"] = best_of(lambda: _freeze(ws, params))
    steps["resolve (warm)"] = best_of(
        lambda: resolve_params(ws, overrides=parse_overrides(["lr=0.9"]))
    )
    steps["data snapshot + fingerprint (warm)"] = best_of(
        lambda: ExperimentBuilder(ws, params, "shapes").data_snapshot().fingerprint()
    )
    lrs = iter(f"0.0{n}" for n in range(1, 10))
    steps["whole submit_train, warm (no runner)"] = best_of(
        lambda: submit_train(
            ws,
            "shapes",
            resolve_params(ws, overrides=parse_overrides([f"lr={next(lrs)}"])),
            start=False,
        )
    )
    print("2. in one process")
    for name, seconds in steps.items():
        print(f"   {name:<44} {seconds * 1000:8.1f} ms")
    print("goal: submit train < 1 s")


if __name__ == "__main__":
    main()

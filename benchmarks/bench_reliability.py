"""Kill storm: tiny training jobs run to the end while random SIGKILLs hit the runner's
and the job processes' groups (a dead runner is started again at once).

    .venv/bin/python benchmarks/bench_reliability.py [--jobs 10] [--kills 40]

Reports faults injected, jobs lost, jobs run twice (two processes of one job alive at
once, or more than one MLflow run / registered version / logged value per epoch for one
experiment), jobs resumed, jobs failed, and whether the stores pass their checks.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.config import parse_overrides, resolve_params  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.demo import write_demo_images  # noqa: E402
from core.jobs import locks  # noqa: E402
from core.jobs.queue import JobQueue  # noqa: E402
from core.jobs.submit import submit_train  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from tests.core.training.conftest import TINY  # noqa: E402
from tests.reliability.storm import (  # noqa: E402
    ProcessWatch,
    integrity,
    kill_storm,
    mlflow_record,
    queue_files,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10)
    parser.add_argument("--kills", type=int, default=40)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cpu-slots", type=int, default=2)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-reliability-") as tmp:
        ws = init_workspace(Path(tmp) / "ws").workspace
        write_demo_images(Path(tmp) / "shapes", per_class=12, size=16, seed=3)
        db = open_database(ws)
        create_theme(db, "shapes")
        import_images(db, ws, "shapes", [Path(tmp) / "shapes"])
        jobs = []
        for n in range(args.jobs):
            overrides = parse_overrides(
                [*TINY, f"max_epochs={args.epochs}", f"seed={n}", "registration=always"]
            )
            params = resolve_params(ws, overrides=overrides)
            jobs.append(submit_train(ws, "shapes", params, start=False))

        began = time.time()
        with ProcessWatch(ws) as watch:
            report = kill_storm(
                ws,
                args.kills,
                random.Random(args.seed),
                min_gap=0.0,
                max_gap=3.0,
                cpu_slots=args.cpu_slots,
                timeout=1800.0,
            )
        elapsed = time.time() - began

        done = {j.id: j for j in JobQueue(ws).jobs()}
        lost = [j.id for j in jobs if j.id not in done]
        failed = [j for j in done.values() if j.state == "failed"]
        try:
            record = mlflow_record(ws, "shapes")
            store = integrity(ws.mlflow_db_file)
        except Exception as exc:  # a store a kill left half-created: that is the result
            record, store = {}, f"cannot be opened ({type(exc).__name__})"
        twice_mlflow = [
            j.id
            for j in jobs
            if j.experiment_id in record
            and (
                len(record[j.experiment_id]["runs"]) != 1
                or len(record[j.experiment_id]["versions"]) > 1
                or len(set(record[j.experiment_id]["steps"]))
                != len(record[j.experiment_id]["steps"])
            )
        ]
        twice = sorted(set(watch.run_twice()) | set(twice_mlflow))
        incomplete = [
            j.id
            for j in jobs
            if j.experiment_id not in record
            or record[j.experiment_id]["steps"] != list(range(args.epochs))
            or record[j.experiment_id]["runs"][0][1] != "FINISHED"
        ]
        resumed = [
            j.id
            for j in jobs
            if "resuming from epoch" in (ws.logs_dir / f"{j.id}.log").read_text(errors="replace")
        ]
        checks = {
            "database.db": integrity(ws.database_file),
            "mlflow.db": store,
            "queue files": "ok"
            if queue_files(ws) == {j.id: 1 for j in jobs}
            else f"{queue_files(ws)}",
            "job locks": "ok" if not any(locks.holder(ws, j.id) for j in jobs) else "held",
        }
        kills = [done[j.id].kills for j in jobs if j.id in done]

        print(
            f"jobs: {args.jobs} tiny train jobs ({args.epochs} epochs each), "
            f"{args.cpu_slots} CPU slots, a fault after each new epoch + 0-3 s"
        )
        print(
            f"faults injected        : {report.faults} SIGKILL ({report.runner_kills} runner, "
            f"{report.job_kills} job process), {report.restarts} runner restarts"
        )
        print(f"jobs finished          : {sum(1 for j in done.values() if j.state == 'finished')}")
        print(f"jobs lost              : {len(lost)}")
        print(f"jobs run twice         : {len(twice)}")
        print(f"jobs resumed           : {len(resumed)} (kills per job: max {max(kills or [0])})")
        print(f"jobs failed            : {len(failed)}")
        print(f"runs missing an epoch  : {len(incomplete)}")
        print("stores intact          : " + ", ".join(f"{k} {v}" for k, v in checks.items()))
        print(f"wall time              : {elapsed:.0f} s")
        for job in failed:
            print(f"  failed {job.id}: {job.error}")
        ok = not (lost or twice or failed or incomplete) and all(v == "ok" for v in checks.values())
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

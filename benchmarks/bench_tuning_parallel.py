"""Tuning with parallel workers: 4 workers sharing a study on PostgreSQL vs 1 worker on
SQLite (and 4 on one SQLite file), in one run.

    .venv/bin/python benchmarks/bench_tuning_parallel.py [--trials 40] [--epoch-s 0.1]

Each worker is a process doing with the Optuna storage what a tune job's worker does
(``core.tuning.study``): the cockpit's storage (heartbeat, retry of a dead worker's trial,
SQLite busy timeout), its sampler (TPE; a constant liar and a seed of its own per worker
when parallel), ``EnoughTrials`` with a file lock (no trial started once done + running
reach n_trials), and
per trial one report and one pruning question per epoch to a median pruner. The training
of an epoch is a sleep of ``--epoch-s`` seconds, so what is measured beyond it is the
storage's and the sampler's cost.

Reported per configuration: trials per minute, storage and sampler seconds per trial
(a trial's wall time minus its sleeps), trials done of those asked, and lock errors
("database is locked" or any other storage error ending a worker).
PostgreSQL is a throw-away local server (tests/cluster/servers.py, data in /dev/shm).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EPOCHS = 5


def worker(url: str, study_name: str, index: int, workers: int, trials: int, epoch_s: float,
           lock_file: str, queue: multiprocessing.Queue) -> None:
    import optuna
    from filelock import FileLock

    from core.config.optuna_params import OptunaParams
    from core.tuning.selection import Choice, build_sampler
    from core.tuning.study import EnoughTrials, _storage

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")  # optuna's experimental-feature notices
    config = OptunaParams.model_validate(
        {"search_space": {"lr": {"type": "float", "low": 1e-4, "high": 1e-1, "log": True},
                          "batch_size": {"type": "int", "low": 16, "high": 64, "step": 16}}}
    )
    ran, slept, errors = 0, 0.0, []
    start = time.perf_counter()
    try:
        study = optuna.create_study(
            study_name=study_name, storage=_storage(url), load_if_exists=True,
            direction="minimize",
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
        )
        study.sampler = build_sampler(
            Choice("tpe", "benchmark"), config, 7 + index * 1_000_003, parallel=workers > 1
        )

        enough = EnoughTrials(trials, FileLock(lock_file))  # as the study's file lock

        def objective(trial: optuna.Trial) -> float:
            nonlocal ran, slept
            enough.started()
            ran += 1
            lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
            batch = trial.suggest_int("batch_size", 16, 64, step=16)
            value = abs(lr - 0.01) * 100 + batch / 640
            for epoch in range(EPOCHS):
                time.sleep(epoch_s)
                slept += epoch_s
                trial.report(value + (EPOCHS - epoch) * 0.01, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
            return value

        enough.hold()
        try:
            if not enough.reached(study):
                study.optimize(objective, callbacks=[enough])
        finally:
            enough.release()
    except Exception as exc:  # a storage error ends the worker: counted, not hidden
        errors.append(f"{type(exc).__name__}: {exc}")
    queue.put({"ran": ran, "slept": slept, "seconds": time.perf_counter() - start,
               "errors": errors})


def measure(name: str, url: str, workers: int, trials: int, epoch_s: float) -> dict:
    lock_file = f"{tempfile.gettempdir()}/bench-{name}-{os.getpid()}.lock"
    import optuna
    from optuna.trial import TrialState

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    study_name = f"bench-{name}"
    # the study exists before the workers start, as after a tune job's first worker
    from core.tuning.study import _storage

    optuna.create_study(study_name=study_name, storage=_storage(url), direction="minimize")
    processes = [
        context.Process(
            target=worker,
            args=(url, study_name, i, workers, trials, epoch_s, lock_file, queue),
        )
        for i in range(workers)
    ]
    start = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get(timeout=900) for _ in processes]
    wall = time.perf_counter() - start
    for process in processes:
        process.join()
    study = optuna.load_study(study_name=study_name, storage=url)
    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    ran = sum(r["ran"] for r in results)
    storage = sum(r["seconds"] - r["slept"] for r in results) / max(1, ran)
    errors = [e for r in results for e in r["errors"]]
    return {"name": name, "workers": workers, "wall": wall, "done": len(done), "ran": ran,
            "per_minute": 60 * len(done) / wall, "storage_s": storage, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=40)
    parser.add_argument("--epoch-s", type=float, default=0.1)
    parser.add_argument("--workers", type=int, default=4)
    options = parser.parse_args()
    from tests.cluster.servers import postgres_for_benchmark

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{tmp}/optuna.db"
        rows.append(measure("sqlite-1", sqlite, 1, options.trials, options.epoch_s))
        rows.append(measure(f"sqlite-{options.workers}", sqlite, options.workers,
                            options.trials, options.epoch_s))
        with postgres_for_benchmark() as server:
            if server is not None:
                url = server.create_database("optuna")
                rows.append(measure(f"postgresql-{options.workers}", url, options.workers,
                                    options.trials, options.epoch_s))
                rows.append(measure("postgresql-1", server.create_database("optuna"), 1,
                                    options.trials, options.epoch_s))
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {options.trials} trials x {EPOCHS} epochs of "
          f"{options.epoch_s} s (sleep), TPE + median pruner")
    print("configuration   workers  trials/min  storage+sampler s/trial  done/asked  "
          "lock errors")
    for row in rows:
        locks = sum("locked" in e for e in row["errors"])
        print(f"{row['name']:<15} {row['workers']:>7}  {row['per_minute']:10.1f}  "
              f"{row['storage_s']:23.3f}  {row['done']:>4}/{options.trials:<5}  "
              f"{locks} ({len(row['errors'])} errors)")
        for error in row["errors"][:3]:
            print(f"    {error[:200]}")
    base = rows[0]
    for row in rows[1:]:
        print(f"{row['name']} / sqlite-1: {row['per_minute'] / base['per_minute']:.2f}x "
              "trials per minute")


if __name__ == "__main__":
    main()

"""Store bookkeeping on PostgreSQL vs SQLite, each beside the bare library in one run.

    .venv/bin/python benchmarks/bench_cluster.py [--jobs 1000]

For 1,000 finished jobs, what the cockpit writes and reads in the workspace database per
job: the Model row of the run and its ModelTrainData links to the 200 images it trained on
(`core.training.packaging.record_model`, one transaction per job), then the history's
look-up of every recorded run. The baseline is bare SQLAlchemy Core doing the same
statements on its own engine, on the same backend. PostgreSQL is a throw-away local
server (tests/cluster/servers.py, data in /dev/shm, fsync off as in the tests); SQLite is
the workspace's file with the cockpit's pragmas (WAL, synchronous=NORMAL).

Then 20 short jobs ("check" jobs: validate the configuration, a second or two of work)
through the runner with the local executor, and the same 20 through a local Ray head on
this machine (`core.jobs.ray_executor`): the overhead per job of going through Ray.

``--ship-images FOLDER`` (an ImageFolder): one-epoch trainings on a local Ray head with the
workspace shared and with each job's data shipped (``stores.ray_data: ship``; the
workspace database on PostgreSQL, MLflow on a tracking server): what shipping costs.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, delete, event, insert, select  # noqa: E402

from core.db import Model, ModelTrainData, Theme, TrainData, open_database  # noqa: E402
from core.db.engine import _sqlite_pragmas  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from core.training.packaging import record_model  # noqa: E402
from tests.cluster.servers import postgres_for_benchmark  # noqa: E402

IMAGES = 200


def prepare(ws) -> SimpleNamespace:
    db = open_database(ws)
    with db.session() as session:
        theme = Theme(name="bench")
        session.add(theme)
        session.flush()
        session.execute(
            insert(TrainData),
            [
                {"image_path": f"images/{theme.id}/{i}.png", "theme_id": theme.id,
                 "content_hash": f"{i:064x}", "width": 16, "height": 16}
                for i in range(IMAGES)
            ],
        )
        ids = list(session.scalars(select(TrainData.id).order_by(TrainData.id)))
        return SimpleNamespace(theme_id=theme.id, train_data_ids=ids)


def ours(ws, snapshot, jobs: int) -> tuple[float, float]:
    start = time.perf_counter()
    for _ in range(jobs):
        record_model(ws, snapshot, "e" * 64, uuid.uuid4().hex, {"val_loss": 0.5})
    write = time.perf_counter() - start
    from core.history.entries import _recorded_runs

    start = time.perf_counter()
    runs = _recorded_runs(ws)
    read = time.perf_counter() - start
    assert len(runs) >= jobs
    return write, read


def bare(url: str, snapshot, jobs: int) -> tuple[float, float]:
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    model, links = Model.__table__, ModelTrainData.__table__
    now = datetime.now(UTC)
    start = time.perf_counter()
    for _ in range(jobs):
        run_id = uuid.uuid4().hex
        with engine.begin() as connection:
            found = connection.execute(select(model.c.id).where(model.c.mlflow_run_id == run_id))
            assert found.first() is None
            model_id = connection.execute(
                insert(model).values(
                    theme_id=snapshot.theme_id, mlflow_run_id=run_id, experiment_hash="b" * 64,
                    metrics_json='{"val_loss": 0.5}', created_at=now, updated_at=now,
                ).returning(model.c.id)
            ).scalar_one()
            connection.execute(delete(links).where(links.c.model_id == model_id))
            connection.execute(
                insert(links),
                [{"model_id": model_id, "train_data_id": i} for i in snapshot.train_data_ids],
            )
    write = time.perf_counter() - start
    start = time.perf_counter()
    with engine.connect() as connection:
        runs = set(connection.execute(select(model.c.mlflow_run_id)).scalars())
    read = time.perf_counter() - start
    assert len(runs) >= jobs
    engine.dispose()
    return write, read


def run_backend(name: str, ws, url: str, jobs: int) -> dict[str, float]:
    snapshot = prepare(ws)
    ours_write, ours_read = ours(ws, snapshot, jobs)
    bare_write, bare_read = bare(url, snapshot, jobs)
    return {"ours_write": ours_write, "ours_read": ours_read,
            "bare_write": bare_write, "bare_read": bare_read}


def run_checks(root: Path, count: int) -> float:
    from core.config import resolve_params
    from core.jobs.queue import JobQueue
    from core.jobs.runner import Runner
    from core.jobs.submit import submit_check

    ws = init_workspace(root).workspace
    params = resolve_params(ws)
    jobs = [submit_check(ws, params, start=False) for _ in range(count)]
    start = time.perf_counter()
    assert Runner(ws, echo=lambda _line: None, poll_s=0.05).run() == 0
    elapsed = time.perf_counter() - start
    queue = JobQueue(ws)
    assert all(queue.get(j.id).state == "finished" for j in jobs)
    return elapsed


def jobs_api_floor(address: str, count: int = 5) -> float:
    """Seconds from submitting ``true`` through Ray's Jobs API to its end: what any job
    sent through that API costs at least, whatever it runs."""
    from core.jobs.ray_executor import TERMINAL, JobsClient

    client = JobsClient(address)
    took = []
    for _ in range(count):
        start = time.perf_counter()
        submission = client.submit_job(entrypoint="true", entrypoint_num_cpus=1.0)
        while client.get_job_info(submission).get("status") not in TERMINAL:
            time.sleep(0.05)
        took.append(time.perf_counter() - start)
    return sum(took) / len(took)


def ray_overhead(count: int) -> None:
    try:
        import ray  # noqa: F401
    except ModuleNotFoundError:
        print("no ray: the Ray executor not measured")
        return
    from tests.cluster.servers import RayHead

    with tempfile.TemporaryDirectory() as tmp:
        local = run_checks(Path(tmp) / "local", count)
        # one CPU, no GPU: the runner sends one job at a time, as the local runner runs them
        head = RayHead(num_gpus=0, num_cpus=1).start()
        try:
            os.environ["COCKPIT_RAY_ADDRESS"] = head.address
            os.environ["PYTHONPATH"] = str(ROOT)
            run_checks(Path(tmp) / "warm", 1)  # the head's job agent comes up
            on_ray = run_checks(Path(tmp) / "ray", count)
            floor = jobs_api_floor(head.address)
        finally:
            os.environ.pop("COCKPIT_RAY_ADDRESS", None)
            head.stop()
    print(f"{count} check jobs, one at a time: local {local:.1f} s ({local / count:.2f} s/job), "
          f"Ray head {on_ray:.1f} s ({on_ray / count:.2f} s/job); "
          f"overhead {(on_ray - local) / count:.2f} s/job (goal < 1 s)")
    print(f"Ray's Jobs API alone (submit `true`, wait for its end): {floor:.2f} s/job")


def run_trainings(ws, count: int, *extra: str) -> tuple[float, list[str]]:
    """``count`` one-epoch trainings (seeds 1..count: distinct experiments) through the
    runner; seconds and the jobs' log lines about shipping."""
    from core.config import parse_overrides, resolve_params
    from core.jobs.queue import JobQueue
    from core.jobs.ray_executor import JobsClient
    from core.jobs.runner import Runner
    from core.jobs.submit import submit_train

    jobs = []
    for seed in range(1, count + 1):
        params = resolve_params(ws, overrides=parse_overrides(
            ["max_epochs=1", "num_workers=0", "early_stopping_patience=0", f"seed={seed}",
             *extra]))
        jobs.append(submit_train(ws, THEME, params, start=False))
    start = time.perf_counter()
    assert Runner(ws, echo=lambda _line: None, poll_s=0.05).run() == 0
    elapsed = time.perf_counter() - start
    queue = JobQueue(ws)
    lines = []
    client = JobsClient(ws.stores.ray_address)
    ray_jobs = {(d.get("metadata") or {}).get("cockpit_job_id"): d for d in client.list_jobs()}
    for job in jobs:
        log = (ws.logs_dir / f"{job.id}.log").read_text()
        done = queue.get(job.id)
        assert done.state == "finished", log[-2000:]
        ray = ray_jobs[job.id]  # where the time went: before Ray, in Ray, after Ray
        PHASES.setdefault(ws.stores.ray_data, []).append((
            ray["start_time"] / 1000 - done.started_at,
            (ray["end_time"] - ray["start_time"]) / 1000,
            done.finished_at - ray["end_time"] / 1000,
        ))
        lines += [x for x in log.splitlines() if "shipping the job's data" in x
                  or "wrote on the node are in the workspace" in x][:2]
    return elapsed, lines


THEME = "bench"
PHASES: dict[str, list[tuple[float, float, float]]] = {}


def ship_overhead(images: Path, count: int) -> None:
    """The same one-epoch trainings on a local Ray head with the data on the shared
    workspace and shipped with each job: what shipping costs per job."""
    from core.data.importer import import_images
    from core.data.splits import assign_splits
    from core.data.themes import create_theme
    from tests.cluster.servers import MlflowServer, RayHead

    with tempfile.TemporaryDirectory() as tmp, postgres_for_benchmark() as server:
        if server is None:
            print("no PostgreSQL server: shipping not measured")
            return
        mlflow_server = MlflowServer().start()
        head = RayHead(num_gpus=0, num_cpus=1).start()
        try:
            os.environ.update(
                COCKPIT_DATABASE_URL=server.create_database("ship"),
                COCKPIT_MLFLOW_TRACKING_URI=mlflow_server.url,
                COCKPIT_RAY_ADDRESS=head.address,
                PYTHONPATH=str(ROOT),
            )
            ws = init_workspace(Path(tmp) / "ws").workspace
            db = open_database(ws)
            create_theme(db, THEME)
            import_images(db, ws, THEME, [images])
            assign_splits(db, THEME)
            run_checks(Path(tmp) / "warm", 1)  # the head's job agent comes up
            times: dict[tuple[str, str], list[float]] = {}
            for cache in ("true", "false"):
                for mode in ("shared", "ship", "shared", "ship"):
                    os.environ["COCKPIT_RAY_DATA"] = mode
                    took, lines = run_trainings(ws, count, f"cache_preprocessed={cache}")
                    times.setdefault((mode, cache), []).append(took)
                    if mode == "ship":
                        shown = lines
        finally:
            for name in ("COCKPIT_DATABASE_URL", "COCKPIT_MLFLOW_TRACKING_URI",
                         "COCKPIT_RAY_ADDRESS", "COCKPIT_RAY_DATA"):
                os.environ.pop(name, None)
            head.stop()
            mlflow_server.stop()
    files = len(list(images.rglob("*.png")))
    for cache, what in (("true", "image cache on"), ("false", "image cache off")):
        shared, ship = min(times[("shared", cache)]), min(times[("ship", cache)])
        print(f"{count} one-epoch trainings of {files} images on a Ray head, {what} (best of "
              f"2): shared workspace {shared / count:.2f} s/job, data shipped "
              f"{ship / count:.2f} s/job: shipping costs {(ship - shared) / count:.2f} s/job")
    for mode, phases in PHASES.items():
        before, inside, after = (sum(p[i] for p in phases) / len(phases) for i in range(3))
        print(f"  {mode:6}  per job: {before:.2f} s before Ray starts it (supervisor, packing, "
              f"Ray's start), {inside:.2f} s in Ray, {after:.2f} s after (taking outputs in)")
    for line in shown[:2]:
        print("  " + line)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--ray-jobs", type=int, default=20)
    parser.add_argument("--ship-images", type=Path, default=None,
                        help="an ImageFolder: also time trainings with their data shipped")
    parser.add_argument("--ship-jobs", type=int, default=3)
    options = parser.parse_args()
    jobs = options.jobs
    if options.ship_images:
        ship_overhead(options.ship_images, options.ship_jobs)
    if options.ray_jobs:
        ray_overhead(options.ray_jobs)
    if not jobs:
        return
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        ws = init_workspace(Path(tmp) / "sqlite").workspace
        results["sqlite"] = run_backend("sqlite", ws, ws.database_url, jobs)
        with postgres_for_benchmark() as server:
            if server is not None:
                url = server.create_database("bench")
                os.environ["COCKPIT_DATABASE_URL"] = url
                try:
                    ws = init_workspace(Path(tmp) / "pg").workspace
                    results["postgresql"] = run_backend("postgresql", ws, url, jobs)
                finally:
                    os.environ.pop("COCKPIT_DATABASE_URL", None)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}; {jobs} jobs x {IMAGES} image links")
    print("backend     write ms/job (ours / bare = ratio)   read all runs ms (ours / bare)")
    for name, r in results.items():
        ours_ms, bare_ms = 1000 * r["ours_write"] / jobs, 1000 * r["bare_write"] / jobs
        print(
            f"{name:<11} {ours_ms:7.2f} / {bare_ms:7.2f}"
            f" = {r['ours_write'] / r['bare_write']:4.2f}x"
            f"          {1000 * r['ours_read']:7.2f} / {1000 * r['bare_read']:7.2f}"
        )
    if len(results) == 2:
        ratio = results["postgresql"]["ours_write"] / results["sqlite"]["ours_write"]
        print(f"PostgreSQL / SQLite (ours, write): {ratio:.2f}x")


if __name__ == "__main__":
    main()

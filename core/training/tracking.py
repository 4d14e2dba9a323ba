"""The MLflow record of one experiment, written through a journal so nothing is lost.

Every operation (start run, params, metrics, tags, artifacts, model) is first appended to
``output/experiments/<id>/mlflow_journal.jsonl`` and then applied to the tracking store.
When the store cannot be reached (locked, deleted, disk full), training goes on and the
journal is replayed at the next flush: the next epoch, the end of the run, or the next
command on the same experiment (retry and fallback).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from core.fileio import atomic_write_text
from core.output import quiet_mlflow
from core.settings import store_problem
from core.stores import check_mlflow_store
from core.workspace import Workspace

log = logging.getLogger(__name__)

ModelLogger = Callable[[str, dict[str, Any]], None]  # (run_id, op) -> None


def ensure_tracking_store(workspace: Workspace) -> None:
    """Create ``mlflow.db`` complete or not at all. MLflow builds its schema in many
    steps (tables, then migrations committed one by one); a process killed in between
    leaves a store that every later process fails to open ("table ... already exists").
    So the schema is built in a temporary file, under a lock, and renamed into place."""
    if not workspace.mlflow_is_sqlite:
        return  # a server store: MLflow creates its schema in transactions on first use
    path = workspace.mlflow_db_file
    if _store_exists(path):
        return
    from filelock import FileLock

    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path.with_name(f".{path.name}.lock"))):
        if _store_exists(path):
            return
        from mlflow.store.db.utils import _initialize_tables, create_sqlalchemy_engine_with_retry

        for stale in path.parent.glob(f".{path.name}.*.tmp"):
            stale.unlink(missing_ok=True)  # left by a process killed while creating it
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        engine = create_sqlalchemy_engine_with_retry(f"sqlite:///{tmp.as_posix()}")
        try:
            _initialize_tables(engine)
        finally:
            engine.dispose()
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)


def _store_exists(path: Path) -> bool:
    """A folder (unusable, reported when opened) or a non-empty file; an empty file is
    what a connection probe leaves, not a store."""
    try:
        return path.is_dir() or path.stat().st_size > 0
    except FileNotFoundError:
        return False


def tracking_client(workspace: Workspace) -> Any:
    check_mlflow_store(workspace)  # one line, not MLflow's traceback, for a garbage file
    import mlflow
    from mlflow.tracking import MlflowClient

    quiet_mlflow()
    ensure_tracking_store(workspace)
    mlflow.set_tracking_uri(workspace.mlflow_tracking_uri)
    mlflow.set_registry_uri(workspace.mlflow_tracking_uri)
    return MlflowClient(workspace.mlflow_tracking_uri, workspace.mlflow_tracking_uri)


def run_tags(workspace: Workspace, run_id: str) -> dict[str, str]:
    """A run's tags. Read from the SQLite store directly (MLflow's ``tags`` table): an
    answer such as "already complete" then does not wait seconds for ``import mlflow``;
    through the client when that read fails (another schema, a store being created)."""
    path = workspace.mlflow_db_file
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            if db.execute("SELECT 1 FROM runs WHERE run_uuid = ?", (run_id,)).fetchone():
                rows = db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (run_id,))
                return {str(key): str(value) for key, value in rows}
    except sqlite3.Error:
        pass
    return dict(tracking_client(workspace).get_run(run_id).data.tags)


def experiment_for_theme(client: Any, workspace: Workspace, theme_name: str) -> str:
    """The MLflow experiment of a theme (name = theme name), artifacts in mlartifacts/."""
    found = client.get_experiment_by_name(theme_name)
    if found is not None:
        if found.lifecycle_stage == "deleted":
            client.restore_experiment(found.experiment_id)
        return found.experiment_id
    location = workspace.mlflow_artifact_location
    if location is not None and location.startswith("file:"):
        workspace.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
    return client.create_experiment(theme_name, artifact_location=location)


def store_problem_line(workspace: Workspace, problem: BaseException) -> str:
    return str(store_problem("mlflow_tracking_uri", workspace.mlflow_tracking_uri, problem))


class RunJournal:
    """Write-ahead journal of the MLflow operations of one experiment's run."""

    def __init__(self, workspace: Workspace, experiment_dir: Path, theme_name: str) -> None:
        self.workspace = workspace
        self.theme_name = theme_name
        self.path = experiment_dir / "mlflow_journal.jsonl"
        self.run_file = experiment_dir / "mlflow_run.json"
        # the last epoch whose metrics reached the store (their journal lines are gone)
        self.epochs_file = experiment_dir / "mlflow_epochs.json"
        self.model_logger: ModelLogger | None = None
        self.last_error: str | None = None
        # Metrics written by another process may already be in the store: that process
        # was killed while it flushed, after applying them but before it could drop them
        # from the journal. Replayed, they are checked against the store (once per key).
        self._writer = secrets.token_hex(4)
        self._stored_steps: dict[str, set[int]] = {}
        # a flush may run in a background thread (during a fit) while the training thread
        # records: one at a time, so that no op recorded meanwhile is lost
        self._lock = threading.RLock()
        self._flusher: threading.Thread | None = None

    @property
    def run_id(self) -> str | None:
        if not self.run_file.exists():
            return None
        return json.loads(self.run_file.read_text()).get("run_id")

    def _previous_runs(self) -> dict[str, list[str]]:
        if not self.run_file.exists():
            return {}
        previous = json.loads(self.run_file.read_text()).get("previous_run_ids")
        return {"previous_run_ids": previous} if previous else {}

    def record(self, op: str, **fields: Any) -> None:
        line = json.dumps({"op": op, **fields}, default=str) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())

    def flush_in_background(self) -> bool:
        """Start a flush in a background thread unless one is still running (training
        goes on meanwhile); False when one was running. ``flush`` waits for it."""
        if self._flusher is not None and self._flusher.is_alive():
            return False
        self._flusher = threading.Thread(
            target=self._flush_quietly, name="mlflow-journal-flush", daemon=True
        )
        self._flusher.start()
        return True

    def _flush_quietly(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # the next flush (at the latest the run's end) retries
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("MLflow journal not flushed, will retry: %s", self.last_error)

    def start_run(self, run_name: str, tags: Mapping[str, str]) -> None:
        self.record("start", run_name=run_name, tags=dict(tags))

    def retire_run(self) -> None:
        """Leave the experiment's run (closed, kept) so that the next start makes a new one:
        a restarted experiment counts its epochs from 0 again, in a run of its own."""
        if self.run_file.exists():
            self.record("retire")

    def rename_run(self, run_name: str, tags: Mapping[str, str]) -> None:
        """Give the existing run a new name and tags (a retried tuning trial)."""
        self.record("rename", run_name=run_name, tags=dict(tags))

    def log_params(self, params: Mapping[str, Any]) -> None:
        self.record("params", params={k: json.dumps(v, default=str) for k, v in params.items()})

    def log_metrics(self, metrics: Mapping[str, float], step: int, *, epoch: bool = False) -> None:
        """``epoch``: the metrics of training epoch ``step`` (see ``last_epoch``)."""
        flag = {"epoch": True} if epoch else {}
        values = {k: float(v) for k, v in metrics.items()}
        self.record("metrics", metrics=values, step=step, writer=self._writer, **flag)

    def last_epoch(self) -> int:
        """The last epoch whose metrics this run logged (-1: none). A process killed after
        logging an epoch but before its checkpoint counted it redoes that epoch when it
        resumes; it must not log the epoch twice."""
        last = -1
        try:
            marker = json.loads(self.epochs_file.read_text())
            if marker.get("run_id") == self.run_id:
                last = int(marker["epoch"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
        steps = [op["step"] for op in self.pending() if op["op"] == "metrics" and op.get("epoch")]
        return max([last, *steps])

    def set_tags(self, tags: Mapping[str, str]) -> None:
        self.record("tags", tags=dict(tags))

    def log_artifact(self, path: Path, artifact_path: str | None = None) -> None:
        self.record("artifact", path=str(path), artifact_path=artifact_path)

    def end_run(self, status: str = "FINISHED") -> None:
        self.record("end", status=status)

    def close_if_running(self, status: str = "KILLED") -> bool:
        """End the run when the store still shows it RUNNING: its process died without
        ending it. Resuming the experiment sets the same run RUNNING again (``start``).
        True when the run was closed now."""
        if not self.flush() or self.run_id is None:
            return False  # nothing reached the store, or the store is down: nothing to close
        client = tracking_client(self.workspace)
        if client.get_run(self.run_id).info.status != "RUNNING":
            return False
        self.end_run(status)
        return self.flush()

    def pending(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()
        ops = []
        for line in lines:
            try:
                ops.append(json.loads(line))
            except json.JSONDecodeError:
                continue  # a line cut by a crash: the op before it was complete
        return ops

    def _store_reachable(self) -> bool:
        """A quick probe: MLflow itself retries an unreachable database for minutes."""
        if not self.workspace.mlflow_is_sqlite:
            from core.stores import probe_server

            problem = probe_server(self.workspace.mlflow_tracking_uri, timeout=2)
            if problem is not None:
                self.last_error = store_problem_line(self.workspace, problem)
            return problem is None
        try:
            connection = sqlite3.connect(self.workspace.mlflow_db_file, timeout=2)
            try:
                connection.execute("SELECT 1").fetchone()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            self.last_error = f"{self.workspace.mlflow_db_file}: {exc}"
            return False
        return True

    def flush(self) -> bool:
        """Apply every pending operation; True when the journal is empty afterwards."""
        flusher = self._flusher
        if flusher is not None and flusher is not threading.current_thread():
            flusher.join()
        with self._lock:
            return self._flush()

    def _flush(self) -> bool:
        ops = self.pending()
        if not ops:
            return True
        if not self._store_reachable():
            log.warning("MLflow store not reachable, will retry: %s", self.last_error)
            return False
        applied = 0
        try:
            client = tracking_client(self.workspace)
            for op in ops:
                self._apply(client, op)
                applied += 1
        except Exception as exc:  # the store is unreachable: keep the rest for later
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("MLflow store not reachable, will retry: %s", self.last_error)
        epochs = [op["step"] for op in ops[:applied] if op["op"] == "metrics" and op.get("epoch")]
        if epochs:  # before the journal forgets them
            marker = {"run_id": self.run_id, "epoch": max([self.last_epoch(), *epochs])}
            atomic_write_text(self.epochs_file, json.dumps(marker) + "\n")
        remaining = ops[applied:]
        text = "".join(json.dumps(op) + "\n" for op in remaining)
        atomic_write_text(self.path, text)
        if not remaining:
            self.path.unlink(missing_ok=True)
        return not remaining

    def _apply(self, client: Any, op: dict[str, Any]) -> None:
        kind = op["op"]
        if kind == "start":
            if self.run_id is None:
                experiment_id = experiment_for_theme(client, self.workspace, self.theme_name)
                run = client.create_run(experiment_id, run_name=op["run_name"], tags=op["tags"])
                record = {"run_id": run.info.run_id, **self._previous_runs()}
                atomic_write_text(self.run_file, json.dumps(record) + "\n")
            else:  # the same experiment continued: by a resume, or by a retried trial
                client.update_run(self.run_id, status="RUNNING", name=op["run_name"])
                for key, value in op["tags"].items():
                    client.set_tag(self.run_id, key, value)
            return
        run_id = self.run_id
        if kind == "retire":
            if run_id is not None:
                if client.get_run(run_id).info.status == "RUNNING":
                    client.set_terminated(run_id, status="KILLED")
                previous = json.loads(self.run_file.read_text()).get("previous_run_ids", [])
                record = {"run_id": None, "previous_run_ids": [*previous, run_id]}
                atomic_write_text(self.run_file, json.dumps(record) + "\n")
            return
        if run_id is None:
            raise RuntimeError("no MLflow run to write to yet")
        if kind == "params":
            from mlflow.entities import Param

            existing = client.get_run(run_id).data.params
            new = [Param(k, v[:6000]) for k, v in op["params"].items() if k not in existing]
            if new:
                client.log_batch(run_id, params=new)
        elif kind == "metrics":
            import time

            from mlflow.entities import Metric

            metrics = op["metrics"]
            if op.get("writer") != self._writer:  # a replay: only what the store lacks
                for key in metrics:
                    if key not in self._stored_steps:
                        history = client.get_metric_history(run_id, key)
                        self._stored_steps[key] = {m.step for m in history}
                metrics = {
                    k: v for k, v in metrics.items() if op["step"] not in self._stored_steps[k]
                }
            now = int(time.time() * 1000)
            if metrics:
                client.log_batch(
                    run_id, metrics=[Metric(k, v, now, op["step"]) for k, v in metrics.items()]
                )
            for key in metrics:
                self._stored_steps.get(key, set()).add(op["step"])
        elif kind == "tags":
            for key, value in op["tags"].items():
                client.set_tag(run_id, key, value)
        elif kind == "rename":
            client.update_run(run_id, name=op["run_name"])
            for key, value in op["tags"].items():
                client.set_tag(run_id, key, value)
        elif kind == "artifact":
            client.log_artifact(run_id, op["path"], op.get("artifact_path"))
        elif kind == "model":
            if self.model_logger is None:
                raise RuntimeError("model packaging is not available in this process")
            self.model_logger(run_id, op)
        elif kind == "end":
            client.set_terminated(run_id, status=op["status"])
        else:
            raise ValueError(f"unknown journal op {kind!r}")

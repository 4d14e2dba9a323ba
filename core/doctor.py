"""``cockpit doctor``: check a workspace for what crashes, kill -9 and hand edits leave
behind, and say the fix of each finding.

Read-only unless ``fix``: then it applies only the safe fixes (a stale running job back to
the queue, an orphan RUNNING MLflow run closed as KILLED, an unreadable job file moved to
``queue/corrupt/``). It never deletes an image, a database row or a file.

It reads every part of a workspace, so it sits above the other core packages; the heavy
libraries (mlflow, torch) are imported only when there is something for them to do.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from core.jobs.locks import holder
from core.jobs.model import Job
from core.jobs.queue import JobQueue, read_job_file
from core.jobs.runner import runner_lock, runner_state
from core.processes import process_alive
from core.workspace import QUEUE_STATES, WORKSPACE_ENV, Workspace

STALE_REASON = "its runner had stopped (found by cockpit doctor)"


@dataclass
class Finding:
    """One problem: ``message`` says what is wrong and how to fix it (one line)."""

    check: str  # databases, images, queue, mlflow, checkpoints
    message: str
    fixable: bool = False  # by ``cockpit doctor --fix``
    fixed: bool = False

    def line(self) -> str:
        mark = "fixed" if self.fixed else "found"
        return f"{mark}  {self.check:<11} {self.message}"


@dataclass
class DoctorReport:
    findings: list[Finding] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    @property
    def remaining(self) -> list[Finding]:
        return [f for f in self.findings if not f.fixed]

    @property
    def healthy(self) -> bool:
        return not self.remaining


def diagnose(
    workspace: Workspace, *, fix: bool = False, echo: Callable[[str], None] | None = None
) -> DoctorReport:
    """Run every check; with ``fix`` apply the safe fixes. ``echo`` gets each check's
    name as it starts (the slow ones take a few seconds)."""
    report = DoctorReport()
    healthy_dbs: set[Path] = set()
    checks: list[tuple[str, Callable[[], list[Finding]]]] = [
        ("databases", lambda: _check_databases(workspace, healthy_dbs)),
        ("images", lambda: _check_images(workspace, healthy_dbs)),
        ("queue", lambda: _check_queue(workspace, fix)),
        ("mlflow", lambda: _check_mlflow_runs(workspace, healthy_dbs, fix)),
        ("checkpoints", lambda: _check_checkpoints(workspace)),
    ]
    for name, check in checks:
        if echo:
            echo(name)
        report.findings.extend(check())
        report.checked.append(name)
    return report


# --- databases ------------------------------------------------------------------------
def _connect_read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)


def _check_databases(workspace: Workspace, healthy: set[Path]) -> list[Finding]:
    findings = []
    advice = {
        workspace.database_file: "restore it from a backup (the image files in images/ are "
        "not touched by this)",
        workspace.mlflow_db_file: "restore it from a backup, or move it aside to start an "
        "empty tracking store (the runs in it are then no longer listed)",
        workspace.optuna_db_file: "restore it from a backup, or move it aside (the studies in "
        "it are then lost; a tune job starts a new one)",
    }
    for path, fix in advice.items():
        if not path.exists():
            continue
        name = workspace.relative(path)
        try:
            connection = _connect_read_only(path)
            try:
                rows = connection.execute("PRAGMA integrity_check").fetchall()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            findings.append(Finding("databases", f"{name}: cannot be read ({exc}); {fix}"))
            continue
        problems = [
            line.strip()
            for row in rows
            if row[0] != "ok"
            for line in str(row[0]).splitlines()
            if line.strip() and not line.startswith("*** in database")
        ]
        if problems:
            more = f" and {len(problems) - 1} more problem(s)" if len(problems) > 1 else ""
            findings.append(
                Finding(
                    "databases",
                    f"{name}: integrity check failed ({problems[0]}{more}); {fix}",
                )
            )
        else:
            healthy.add(path)
    return findings


# --- images ---------------------------------------------------------------------------
def _check_images(workspace: Workspace, healthy: set[Path]) -> list[Finding]:
    """Image files without a database row and rows without a file (never deleted here:
    the user decides)."""
    database = workspace.database_file
    if database not in healthy:
        return []  # missing (nothing imported yet) or reported above
    connection = _connect_read_only(database)
    try:
        themes = dict(connection.execute("SELECT id, name FROM theme").fetchall())
        rows = connection.execute("SELECT id, image_path, theme_id FROM train_data").fetchall()
    except sqlite3.Error as exc:
        return [
            Finding(
                "images",
                f"{workspace.relative(database)}: cannot list the images ({exc}); restore it "
                "from a backup",
            )
        ]
    finally:
        connection.close()
    findings = []
    known = set()
    for row_id, image_path, theme_id in rows:
        path = (workspace.root / image_path).resolve()
        known.add(path)
        if not path.is_file():
            theme = themes.get(theme_id, f"id {theme_id}")
            findings.append(
                Finding(
                    "images",
                    f"{image_path}: missing, but image row {row_id} of theme {theme!r} refers "
                    "to it; restore the file from a backup, or delete the image in the "
                    "Labeling panel",
                )
            )
    if workspace.images_dir.is_dir():
        for folder, dirs, files in os.walk(workspace.images_dir):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                if name.startswith("."):  # an import still copying (or a hidden file)
                    continue
                path = (Path(folder) / name).resolve()
                if path not in known:
                    findings.append(
                        Finding(
                            "images",
                            f"{workspace.relative(path)}: no image row refers to this file; "
                            "import it again into its theme, or move it out of images/",
                        )
                    )
    return findings


# --- queue ----------------------------------------------------------------------------
def _check_queue(workspace: Workspace, fix: bool) -> list[Finding]:
    if not workspace.queue_dir.is_dir():
        return []
    queue = JobQueue(workspace)
    findings: list[Finding] = []
    running: list[Job] = []
    for state in QUEUE_STATES:
        folder = workspace.queue_dir / state
        if not folder.is_dir():
            continue
        for path in sorted(folder.glob("*.json")):
            if path.name.startswith("."):
                continue  # a write in progress: never half visible
            found = read_job_file(path)
            if isinstance(found, str):
                finding = Finding(
                    "queue",
                    f"{workspace.relative(path)}: unreadable job file, {found}; "
                    "`cockpit doctor --fix` moves it to queue/corrupt/",
                    fixable=True,
                )
                if fix and queue.quarantine(path, found) is not None:
                    finding.fixed = True
                findings.append(finding)
            elif isinstance(found, Job) and state == "running":
                running.append(found)
    for item in queue.corrupt_files():
        findings.append(Finding("queue", item.line(workspace)))
    findings.extend(_stale_running(workspace, queue, running, fix))
    return findings


def _stale_running(
    workspace: Workspace, queue: JobQueue, running: list[Job], fix: bool
) -> list[Finding]:
    """Jobs in ``queue/running/`` whose runner is gone and whose process has ended."""
    if not running or runner_state(workspace).active:
        return []  # a live runner owns its running jobs (and reconciles at its start)
    # a job whose lock is held may still run, even where its pid never reached its file
    stale = [
        job
        for job in running
        if not process_alive(job.pid, job.pid_started_at) and holder(workspace, job.id) is None
    ]
    findings = [
        Finding(
            "queue",
            f"job {job.id} ({job.label}) is in queue/running/ but no runner and no process "
            "runs it; `cockpit doctor --fix` queues it again",
            fixable=True,
        )
        for job in stale
    ]
    if not fix or not stale:
        return findings
    lock = runner_lock(workspace)
    try:
        lock.acquire(timeout=0)  # no runner may start (and claim) meanwhile
    except TimeoutError:
        return findings
    try:
        for job, finding in zip(stale, findings, strict=True):
            queue.requeue(job, STALE_REASON, killed=True)  # orphaned: not its own failure
            finding.fixed = True
    finally:
        lock.release()
    return findings


# --- MLflow ---------------------------------------------------------------------------
def _live_job_ids(workspace: Workspace) -> set[str]:
    """Jobs whose process is alive, or that a live runner lists as running."""
    if not workspace.queue_dir.is_dir():
        return set()
    state = runner_state(workspace)
    live = set(state.running) if state.active else set()
    for job in JobQueue(workspace).jobs(("running",)):
        if process_alive(job.pid, job.pid_started_at) or holder(workspace, job.id) is not None:
            live.add(job.id)
    return live


def _foreground_processes(workspace: Workspace) -> bool:
    """Whether a training or tuning process of this workspace runs (a foreground
    ``cockpit train`` or ``tune`` has no job to tell its runs are alive)."""
    import psutil

    mine = os.getpid()
    for process in psutil.process_iter(["pid", "cmdline", "cwd"]):
        info = process.info
        words = info.get("cmdline") or []
        if info["pid"] == mine or not _trains(words):
            continue
        try:
            environ = process.environ()
        except (psutil.Error, OSError):
            environ = {}
        if _process_workspace(words, info.get("cwd"), environ) == workspace.root:
            return True
    return False


def _trains(words: list[str]) -> bool:
    """A cockpit command that trains (train, tune, demo) or a job process."""
    if "core.jobs.run" in words:
        return True
    named = any(Path(w).name == "cockpit" or w == "cockpit" for w in words)
    return named and bool({"train", "tune", "demo"} & set(words))


def _process_workspace(words: list[str], cwd: str | None, environ: dict[str, str]) -> Path | None:
    """The workspace a cockpit process works on: ``-w``/``--workspace``, else
    ``$COCKPIT_WORKSPACE``, else its current folder (as ``Workspace.resolve`` does)."""
    chosen: str | None = None
    for index, word in enumerate(words):
        if word in ("-w", "--workspace") and index + 1 < len(words):
            chosen = words[index + 1]
        elif word.startswith("--workspace="):
            chosen = word.split("=", 1)[1]
    chosen = chosen or environ.get(WORKSPACE_ENV) or cwd
    if not chosen:
        return None
    path = Path(chosen).expanduser()
    if not path.is_absolute():
        if not cwd:
            return None
        path = Path(cwd) / path
    return path.resolve()


def _check_mlflow_runs(workspace: Workspace, healthy: set[Path], fix: bool) -> list[Finding]:
    """RUNNING runs whose process is gone (kill -9, power cut): closed as KILLED by --fix."""
    database = workspace.mlflow_db_file
    if database not in healthy:
        return []
    connection = _connect_read_only(database)
    try:
        runs = connection.execute(
            "SELECT run_uuid, name FROM runs WHERE status = 'RUNNING' "
            "AND lifecycle_stage = 'active'"
        ).fetchall()
        tags: dict[str, dict[str, str]] = {}
        for run_id, key, value in connection.execute(
            "SELECT run_uuid, key, value FROM tags WHERE run_uuid IN "
            "(SELECT run_uuid FROM runs WHERE status = 'RUNNING')"
        ):
            tags.setdefault(run_id, {})[key] = value
    except sqlite3.Error:
        return []  # no tracking tables yet: nothing was tracked
    finally:
        connection.close()
    if not runs:
        return []
    live_jobs = _live_job_ids(workspace)
    live_tune_studies = {
        str(job.args.get("study_name"))
        for job in JobQueue(workspace).jobs(("running",))
        if job.kind == "tune" and job.id in live_jobs
    }
    foreground: bool | None = None
    orphans = []
    for run_id, name in runs:
        run_tags = tags.get(run_id, {})
        job_id = run_tags.get("job_id")
        if job_id and job_id != "foreground":
            alive = job_id in live_jobs
        elif run_tags.get("kind") == "tuning" and run_tags.get("study_name") in live_tune_studies:
            alive = True
        else:
            if foreground is None:
                foreground = _foreground_processes(workspace)
            alive = foreground
        if not alive:
            orphans.append((run_id, name, job_id))
    findings = [
        Finding(
            "mlflow",
            f"MLflow run {name!r} ({run_id}"
            + (f", job {job_id}" if job_id and job_id != "foreground" else "")
            + ") is RUNNING but no process runs it; `cockpit doctor --fix` closes it as KILLED",
            fixable=True,
        )
        for run_id, name, job_id in orphans
    ]
    if fix and orphans:
        from core.training.tracking import tracking_client

        client = tracking_client(workspace)
        for (run_id, _name, _job), finding in zip(orphans, findings, strict=True):
            client.set_terminated(run_id, status="KILLED")
            finding.fixed = True
    return findings


# --- checkpoints ----------------------------------------------------------------------
def _check_checkpoints(workspace: Workspace) -> list[Finding]:
    experiments = workspace.experiments_dir
    if not experiments.is_dir():
        return []
    paths = sorted(experiments.glob("*/*.ckpt"))
    if not paths:
        return []
    import torch

    findings = []
    for path in paths:
        if path.name.startswith("."):
            continue
        try:
            torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            findings.append(
                Finding(
                    "checkpoints",
                    f"{workspace.relative(path)}: cannot be loaded ({detail}); move it out of "
                    "the folder (the experiment's next job then does not resume from it)",
                )
            )
    return findings

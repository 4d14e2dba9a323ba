"""The job queue: one JSON file per job in ``queue/<state>/``, no server.

- The folder a file is in is its state. A change writes the new content to a temporary
  file in the target folder, fsyncs it, renames it into place, then removes the old file;
  a crash in between leaves two copies, and the one with the higher ``revision`` wins.
- Changes that depend on other jobs (submit's duplicate check, ordering, claiming) hold
  ``queue/.queue.lock``, so concurrent submitters, the GUI and the runner never lose or
  duplicate a job.
- A visible job file is always complete (writers rename a finished temporary file whose
  name starts with '.'), so one that does not parse is damaged or was written by a newer
  version: it is moved, never deleted, to ``queue/corrupt/`` with a ``<name>.reason``
  file beside it, and listed there, instead of being skipped silently forever.
- ``queue/index.json`` remembers, per job file, its stat stamp (mtime, size, inode) and the
  few fields that order, deduplicate and list jobs, so submit and ``queue list`` parse only
  the files that changed since (a change is a rename: a new inode). It is a cache: the
  job files stay the truth, an index that is missing, damaged or stale is rebuilt or
  corrected from them, and a crash while it is written costs one rebuild.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from pathlib import Path

from filelock import FileLock
from pydantic import ValidationError

from core.errors import CockpitError
from core.fileio import atomic_write_json, atomic_write_text
from core.jobs.model import MAX_KILLS, TERMINAL, Job, State
from core.workspace import QUEUE_STATES, Workspace

LOCK_TIMEOUT_S = 30
CORRUPT_DIR = "corrupt"
REASON_SUFFIX = ".reason"
NEWER_VERSION = "written by a newer version of the cockpit"


@dataclass(frozen=True)
class UnreadableJobFile:
    """A job file this version cannot read: where it is, the folder it was found in (its
    state then) and why."""

    path: Path
    found_in: str
    reason: str

    @property
    def newer(self) -> bool:
        return self.reason.startswith(NEWER_VERSION)

    def advice(self) -> str:
        back = f"queue/{self.found_in}/" if self.found_in in QUEUE_STATES else "queue/pending/"
        if self.newer:
            return (
                f"run that version of the cockpit, or upgrade this one, then move {self.path.name} "
                f"back to {back}"
            )
        return (
            f"repair {self.path.name} and move it back to {back} (keep the name), or delete it "
            "and submit the job again"
        )

    def line(self, workspace: Workspace) -> str:
        return (
            f"{workspace.relative(self.path)} (was {self.found_in}): {self.reason}; {self.advice()}"
        )


INDEX_FILE = "index.json"
INDEX_FORMAT = 3


@dataclass(slots=True)
class JobSummary:
    """What ordering, the duplicate check and a listing need of a job, from the index.
    Read-only by convention (a listing builds thousands: no frozen-dataclass cost)."""

    id: str
    kind: str
    theme: str | None
    model: str
    experiment_id: str | None
    priority: int
    position: float
    created_at: float
    started_at: float | None
    finished_at: float | None
    device: str | None
    revision: int
    name: str | None
    state: State  # last: the index row holds the others, the folder says this one

    @classmethod
    def of(cls, job: Job) -> JobSummary:
        return cls(
            id=job.id,
            state=job.state,
            kind=job.kind,
            theme=job.theme,
            model=str(job.params.get("model", "")),
            experiment_id=job.experiment_id,
            priority=job.priority,
            position=job.position,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            device=job.where,
            revision=job.revision,
            name=job.name,
        )

    def order_key(self) -> tuple[float, float, float]:
        return (-self.priority, self.position, self.created_at)

    @property
    def label(self) -> str:
        return f"{self.kind} {self.theme or ''} {self.model}".strip()

    @property
    def title(self) -> str:
        """The run's name, else its label (as ``Job.title``)."""
        return self.name or self.label


def read_job_file(path: Path) -> Job | str | None:
    """The job in ``path``; the reason it cannot be read; None when it is gone (moved by
    another process meanwhile)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return "not UTF-8 text (damaged)"
    except json.JSONDecodeError as exc:
        what = "truncated" if not raw.rstrip().endswith(b"}") else "not valid JSON"
        return f"{what} (line {exc.lineno}, column {exc.colno}: {exc.msg})"
    if not isinstance(data, dict):
        return f"not a job (a JSON {type(data).__name__}, not an object)"
    try:
        return Job.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        unknown = sorted(str(e["loc"][0]) for e in errors if e["type"] == "extra_forbidden")
        newer_values = [
            f"{e['loc'][0]} {e['input']!r}"
            for e in errors
            if e["type"] == "literal_error" and e["loc"] and e["loc"][0] in ("kind", "state")
        ]
        if unknown or newer_values:
            found = ", ".join([*(f"field {u!r}" for u in unknown), *newer_values])
            return f"{NEWER_VERSION} (unknown {found})"
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        return f"not a valid job ({where}: {first['msg']})"


class JobQueue:
    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.root = workspace.queue_dir
        self._lock = FileLock(str(self.root / ".queue.lock"), timeout=LOCK_TIMEOUT_S)

    # --- files ---------------------------------------------------------------------
    def ensure_folders(self) -> None:
        try:
            for state in QUEUE_STATES:
                (self.root / state).mkdir(parents=True, exist_ok=True)
            self.workspace.logs_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CockpitError(
                f"cannot create the queue folder {exc.filename}: {exc.strerror}; check "
                "permissions and free disk space"
            ) from exc

    def path(self, job: Job) -> Path:
        return self.root / job.state / f"{job.id}.json"

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        self.ensure_folders()
        try:
            with self._lock:
                yield
        except TimeoutError as exc:
            raise CockpitError(
                f"the queue is locked by another process ({self._lock.lock_file}) for over "
                f"{LOCK_TIMEOUT_S} s; try again"
            ) from exc

    def _read(self, path: Path) -> Job | None:
        found = read_job_file(path)
        if isinstance(found, str):
            self.quarantine(path, found)
            return None
        return found

    # --- unreadable files ------------------------------------------------------------
    @property
    def corrupt_dir(self) -> Path:
        return self.root / CORRUPT_DIR

    def quarantine(self, path: Path, reason: str) -> Path | None:
        """Move the unreadable job file ``path`` to ``queue/corrupt/`` under its name (a
        suffix ``.1``, ``.2`` … only if that name is taken) with ``<name>.reason`` beside
        it. Never overwrites or deletes a file; a crash leaves at worst a second copy.
        Returns where it went, None when another process moved it first."""
        found_in = path.parent.name
        try:
            self.corrupt_dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None  # a read-only queue: the file stays, the listing still skips it
        for number in range(1000):
            target = self.corrupt_dir / (path.name + (f".{number}" if number else ""))
            try:
                os.link(path, target)
                if not isinstance(read_job_file(target), str):
                    target.unlink()  # replaced by a good file meanwhile: not corrupt
                    return None
            except FileExistsError:
                with contextlib.suppress(OSError):
                    if os.path.samefile(path, target):
                        break  # linked by another process or before a crash
                continue
            except FileNotFoundError:
                return None
            except OSError:  # no hard links on this file system: rename, never over a file
                if target.exists():
                    continue
                try:
                    os.replace(path, target)
                except FileNotFoundError:
                    return None
            break
        else:
            return None
        with contextlib.suppress(CockpitError):
            atomic_write_json(
                target.with_name(target.name + REASON_SUFFIX),
                {"found_in": found_in, "reason": reason, "moved_at": time.time()},
            )
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return target

    def corrupt_files(self) -> list[UnreadableJobFile]:
        """The job files moved to ``queue/corrupt/``, oldest first."""
        try:
            entries = sorted(os.scandir(self.corrupt_dir), key=lambda e: e.name)
        except OSError:
            return []
        found = []
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith(REASON_SUFFIX):
                continue
            path = Path(entry.path)
            try:
                note = json.loads(path.with_name(path.name + REASON_SUFFIX).read_text("utf-8"))
                found_in, reason = str(note["found_in"]), str(note["reason"])
            except (OSError, ValueError, KeyError, TypeError):  # crashed before the note
                problem = read_job_file(path)
                found_in = "pending"
                reason = problem if isinstance(problem, str) else "moved here by hand"
            found.append(UnreadableJobFile(path, found_in, reason))
        return found

    def write(self, job: Job, previous_state: State | None = None) -> Job:
        """Persist ``job`` in its state folder; remove its copy from ``previous_state``."""
        self.ensure_folders()
        job.revision += 1
        atomic_write_text(self.path(job), job.model_dump_json(indent=1) + "\n")
        if previous_state is not None and previous_state != job.state:
            (self.root / previous_state / f"{job.id}.json").unlink(missing_ok=True)
        return job

    # --- reading -------------------------------------------------------------------
    def jobs(self, states: tuple[State, ...] = QUEUE_STATES) -> list[Job]:  # type: ignore[assignment]
        """Jobs in ``states``; a job left in two folders by a crash counts once."""
        newest: dict[str, Job] = {}
        for state in states:
            folder = self.root / state
            if not folder.is_dir():
                continue
            for entry in os.scandir(folder):
                if not entry.name.endswith(".json") or entry.name.startswith("."):
                    continue
                job = self._read(Path(entry.path))
                if job is None:
                    continue
                job.state = state  # the folder is the truth
                known = newest.get(job.id)
                if known is None or job.revision > known.revision:
                    newest[job.id] = job
        return list(newest.values())

    def pending(self) -> list[Job]:
        return sorted(self.jobs(("pending",)), key=Job.order_key)

    def summaries(self, states: tuple[State, ...] = QUEUE_STATES) -> list[JobSummary]:  # type: ignore[assignment]
        """Like ``jobs`` but from the index: only files changed since it was written are
        parsed (see the module's docstring)."""
        index_path = self.root / INDEX_FILE
        try:
            stored = json.loads(index_path.read_text("utf-8"))
            known = stored["folders"] if stored.get("format") == INDEX_FORMAT else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            known = {}  # missing or damaged: rebuilt from the job files below
        if not isinstance(known, dict):
            known = {}
        folders = dict(known)
        changed = False
        newest: dict[str, JobSummary] = {}
        for state in states:
            try:
                entries = list(os.scandir(self.root / state))
            except OSError:
                continue
            cached = known.get(state)
            if not isinstance(cached, dict):
                cached = {}
            rows: dict[str, list] = {}
            for entry in entries:
                name = entry.name
                if name.startswith(".") or not name.endswith(".json"):
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    continue
                row = cached.get(name)
                summary = None
                try:
                    if (row[0], row[1], row[2]) == (info.st_mtime_ns, info.st_size, info.st_ino):
                        summary = JobSummary(*row[3:], state)
                except (TypeError, IndexError, KeyError):
                    pass
                if summary is None:
                    changed = True
                    job = self._read(Path(entry.path))
                    if job is None:
                        continue
                    job.state = state  # the folder is the truth
                    summary = JobSummary.of(job)
                    row = [info.st_mtime_ns, info.st_size, info.st_ino, *_row(summary)]
                rows[name] = row
                other = newest.get(summary.id)
                if other is None or summary.revision > other.revision:
                    newest[summary.id] = summary
            changed = changed or len(rows) != len(cached)
            folders[state] = rows
        if changed:
            with contextlib.suppress(OSError):  # a read-only queue: scanned again next time
                _write_index(index_path, folders)
        return list(newest.values())

    def get(self, job_id: str) -> Job:
        matches = {s.id: s for s in self.summaries() if s.id == job_id or s.id.endswith(job_id)}
        if not matches:
            raise CockpitError(f"no job {job_id!r} in {self.workspace.relative(self.root)}")
        if len(matches) > 1:
            raise CockpitError(f"job id {job_id!r} is ambiguous: give more characters")
        [found] = matches.values()
        job = self._read(self.root / found.state / f"{found.id}.json")
        if job is None:  # changed since the scan (or damaged): read every copy of it
            copies = [j for j in self.jobs() if j.id == found.id]
            if not copies:
                raise CockpitError(f"no job {job_id!r} in {self.workspace.relative(self.root)}")
            return copies[0]
        job.state = found.state
        return job

    # --- changes -------------------------------------------------------------------
    def submit(self, job: Job) -> Job:
        with self.locked():
            active = self.summaries(("pending", "running"))
            if job.experiment_id:
                for other in active:
                    if other.experiment_id == job.experiment_id and other.kind == job.kind:
                        raise CockpitError(
                            f"experiment {job.experiment_id} is already {other.state} as job "
                            f"{other.id}; cancel it first or change a parameter"
                        )
            job.state = "pending"
            job.position = self._end_position(active)
            return self.write(job)

    def _end_position(self, active: list[JobSummary] | None = None) -> float:
        """The position after every pending job."""
        queued = [s for s in active or self.summaries(("pending",)) if s.state == "pending"]
        return max((s.position for s in queued), default=0.0) + 1.0

    def _front_position(self) -> float:
        """The position before every pending job."""
        queued = self.summaries(("pending",))
        return (min(s.position for s in queued) - 1.0) if queued else 1.0

    def move(self, job_id: str, position: int) -> Job:
        """Put a pending job at 1-based ``position`` among the pending jobs."""
        with self.locked():
            job = self.get(job_id)
            if job.state != "pending":
                raise CockpitError(f"job {job.id} is {job.state}; only pending jobs can move")
            others = [j for j in self.pending() if j.id != job.id]
            index = max(0, min(position - 1, len(others)))
            job.priority = (
                others[index - 1].priority
                if index > 0
                else others[0].priority
                if others
                else job.priority
            )
            before = others[index - 1].position if index > 0 else None
            after = others[index].position if index < len(others) else None
            if before is None and after is None:
                job.position = 1.0
            elif before is None:
                job.position = after - 1.0
            elif after is None:
                job.position = before + 1.0
            else:
                job.position = (before + after) / 2
                if not before < job.position < after:  # floats exhausted: renumber
                    for number, other in enumerate(others, 1):
                        other.position = float(number * 2)
                        self.write(other)
                    job.position = float(index * 2 + 1)
            return self.write(job)

    def move_block(self, job_ids: list[str], position: int) -> list[Job]:
        """Put several pending jobs, in the given order, at 1-based ``position`` among the
        pending jobs that stay where they are (a drag of several rows)."""
        with self.locked():
            if len(job_ids) == 1:
                return [self.move(job_ids[0], position)]
            for job_id in job_ids:  # to the end first: the others then keep their order
                self.move(job_id, len(self.pending()) + 1)
            return [self.move(job_id, position + k) for k, job_id in enumerate(job_ids)]

    def run_next(self, job_id: str) -> Job:
        return self.move(job_id, 1)

    def set_priority(self, job_id: str, priority: int) -> Job:
        with self.locked():
            job = self.get(job_id)
            if job.state != "pending":
                raise CockpitError(
                    f"job {job.id} is {job.state}; only pending jobs change priority"
                )
            job.priority = priority
            return self.write(job)

    def cancel(self, job_id: str) -> Job:
        """Pending: cancelled at once. Running: the runner stops it (SIGTERM, then kill)."""
        with self.locked():
            job = self.get(job_id)
            if job.state == "pending":
                job.state, job.finished_at = "cancelled", time.time()
                return self.write(job, "pending")
            if job.state == "running":
                job.cancel_requested = True
                return self.write(job)
            raise CockpitError(f"job {job.id} is already {job.state}")

    def retry(self, job_id: str) -> Job:
        """A failed or cancelled job back to the end of the queue, same frozen snapshot."""
        with self.locked():
            job = self.get(job_id)
            if job.state not in ("failed", "cancelled"):
                raise CockpitError(
                    f"job {job.id} is {job.state}; only failed or cancelled jobs retry"
                )
            previous = job.state
            # attempts keep counting (the log of the next start says "attempt 2"); the
            # budgets of failures and kills start anew
            job.state, job.cancel_requested = "pending", False
            job.failures = job.kills = 0
            job.exit_code = job.error = job.finished_at = job.started_at = job.pid = None
            job.position = self._end_position()
            return self.write(job, previous)

    def remove(self, job_id: str) -> Job:
        with self.locked():
            job = self.get(job_id)
            if job.state not in TERMINAL:
                raise CockpitError(f"job {job.id} is {job.state}; cancel it before removing it")
            self.path(job).unlink(missing_ok=True)
            return job

    def claim_next(
        self,
        device: str,
        host: str,
        runner_pid: int,
        runner_started_at: float | None = None,
        *,
        can_start: Callable[[Job], bool] | None = None,
    ) -> Job | None:
        """Move the first pending job that ``can_start`` (its job lock is free) to running,
        owned by the runner (host, pid, start time) in the same write: under the queue
        lock, so it is claimed exactly once."""
        with self.locked():
            for summary in sorted(self.summaries(("pending",)), key=JobSummary.order_key):
                job = self._read(self.root / "pending" / f"{summary.id}.json")
                if job is None:
                    continue
                job.state = "pending"
                if can_start is not None and not can_start(job):
                    continue
                job.state = "running"
                job.attempts += 1
                job.started_at = time.time()
                job.device, job.host, job.pid, job.pid_started_at = device, host, None, None
                job.node = None  # a Ray node is recorded once Ray placed this attempt
                job.runner_pid, job.runner_started_at = runner_pid, runner_started_at
                return self.write(job, "pending")
            return None

    def update_running(self, job: Job) -> Job:
        """Record the process of a running job (pid, start time)."""
        with self.locked():
            current = self.get(job.id)
            if current.state != "running":
                return current
            current.pid, current.pid_started_at = job.pid, job.pid_started_at
            return self.write(current)

    def place(self, job_id: str, node: str) -> Job:
        """Record the Ray node a running job was placed on (its supervisor learns it)."""
        with self.locked():
            current = self.get(job_id)
            if current.state != "running" or current.node == node:
                return current
            current.node = node
            return self.write(current)

    def finish(self, job: Job, state: State, exit_code: int | None, error: str | None) -> Job:
        with self.locked():
            current = self.get(job.id)
            previous = current.state
            current.state, current.exit_code, current.error = state, exit_code, error
            current.finished_at = time.time()
            return self.write(current, previous)

    def return_to_pending(self, job: Job, reason: str) -> Job:
        """A running job the user stopped with the runner goes back to the front of the
        queue; the interrupted attempt does not count against its retries."""
        with self.locked():
            current = self.get(job.id)
            previous = current.state
            current.state, current.error = "pending", reason
            current.attempts = max(0, current.attempts - 1)
            current.position = self._front_position()
            current.pid = current.finished_at = current.exit_code = None
            current.runner_pid = current.runner_started_at = None
            return self.write(current, previous)

    def requeue(self, job: Job, reason: str, *, killed: bool, code: int | None = None) -> Job:
        """A running job whose process ended without finishing goes back to the front of
        the queue, where it resumes from its checkpoint. ``killed``: by a signal or with
        its runner, which counts against ``MAX_KILLS``; otherwise the job failed by
        itself, which counts against its ``max_retries``. Over either limit it fails."""
        with self.locked():
            current = self.get(job.id)
            previous = current.state
            if previous != "running":
                return current  # ended meanwhile (cancelled, finished by another path)
            if killed:
                current.kills += 1
                over = current.kills > MAX_KILLS
                limit = f"killed {current.kills} times"
            else:
                current.failures += 1
                over = current.failures > current.max_retries
                limit = f"failed {current.failures} times"
            if over:
                current.state, current.error = "failed", f"gave up: {limit}; last: {reason}"
                current.finished_at, current.exit_code = time.time(), code
            else:
                current.state, current.error = "pending", reason
                current.position = self._front_position()
            current.pid = current.pid_started_at = None
            current.runner_pid = current.runner_started_at = None
            return self.write(current, previous)


class QueueScanner:
    """The jobs of a queue for a view that refreshes every second: a scan stats every
    file but parses only the files that changed since the previous scan (a change is
    an atomic rename, so a changed file has a new mtime or size)."""

    def __init__(self, queue: JobQueue) -> None:
        self.queue = queue
        self._known: dict[str, tuple[tuple[int, int, int], Job | None]] = {}

    def scan(self, states: tuple[State, ...] = QUEUE_STATES) -> list[Job]:  # type: ignore[assignment]
        """Like ``JobQueue.jobs``; unchanged jobs are the same objects as last time, so
        treat them as read-only."""
        seen: dict[str, tuple[tuple[int, int, int], Job | None]] = {}
        newest: dict[str, Job] = {}
        for state in states:
            folder = self.queue.root / state
            try:
                entries = list(os.scandir(folder))
            except OSError:
                continue
            for entry in entries:
                if not entry.name.endswith(".json") or entry.name.startswith("."):
                    continue
                try:
                    info = entry.stat()
                except OSError:
                    continue
                stamp = (info.st_mtime_ns, info.st_size, info.st_ino)
                cached = self._known.get(entry.path)
                if cached is not None and cached[0] == stamp:
                    job = cached[1]
                else:
                    job = self.queue._read(Path(entry.path))
                    if job is not None:
                        job.state = state  # the folder is the truth
                seen[entry.path] = (stamp, job)
                if job is None:
                    continue
                known = newest.get(job.id)
                if known is None or job.revision > known.revision:
                    newest[job.id] = job
        self._known = seen
        return list(newest.values())


def _row(summary: JobSummary) -> list:
    """The index row of a summary: its fields in order, but the state (the folder's)."""
    return [getattr(summary, name) for name in _ROW_FIELDS]


_ROW_FIELDS = [f.name for f in fields(JobSummary) if f.name != "state"]


def _write_index(path: Path, folders: dict[str, dict[str, list]]) -> None:
    """Temp file and rename, no fsync: a torn or lost index is only rebuilt."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"format": INDEX_FORMAT, "folders": folders}), "utf-8")
    os.replace(tmp, path)

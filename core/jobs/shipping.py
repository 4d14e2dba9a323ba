"""A train job's data shipped with it to a Ray node that does not see the workspace.

With ``stores.ray_data: ship`` (``COCKPIT_RAY_DATA=ship``) the job's supervisor
(``core.jobs.ray_executor``) packs, for each train job it sends to the cluster:

- the job file (parameters, augmentations and registry entries frozen at submit),
- the images of the theme's data snapshot (labeled images with a split) at their
  workspace paths, the ``definitions/`` and ``configs/`` folders and ``cockpit.yaml``,
- the experiment's folder when it exists (its checkpoints: a retried job resumes),

into one zip that Ray keeps in its object store and unpacks on the node as the job's
working directory (Ray's ``working_dir``). There the job runs against that copy
(``core.jobs.ray_entry --shipped``); its records go straight to the stores, which must be
servers every node reaches (PostgreSQL for the workspace database, an MLflow tracking
server or a remote artifact store). The files it writes under ``output/`` (the
experiment's checkpoints, record and exported model) go back through the workspace
database as one zip (table ``job_output``) when the job ends, stopped or not; the
supervisor writes them into the workspace (each file atomically; nothing is deleted) and
then deletes the row. The Live panel's metrics lines come back with the job's log as it
runs.

Small sets only: a package over ``MAX_PACKAGE_MIB`` is refused with a line saying to
mount the workspace instead.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

from core.errors import CockpitError
from core.jobs.model import Job
from core.workspace import Workspace

MAX_PACKAGE_MIB = 400  # Ray's object store takes packages up to 512 MiB
PACKAGE_JOB_FILE = "cockpit-job.json"
METRICS_PREFIX = "\x1ecockpit-metrics "  # a metrics line inside the job's log
RETURNED = "output/"
NOT_RETURNED = ("output/cache/",)  # the node's decoded-image cache stays there
SHIPPED_FOLDERS = ("definitions", "configs")
MOUNT_ADVICE = "or mount the workspace at the same path on every Ray node (stores.ray_data: shared)"


def shipping_problem(workspace: Workspace, job: Job) -> str | None:
    """Why ``job`` cannot take its data with it, as one line naming the setting and the
    fix; None when it can."""
    if job.kind != "train":
        return tune_refusal(f"job {job.id}: ") if job.kind == "tune" else None
    return stores_problem(workspace)


def refuse_shipped_study(workspace: Workspace) -> None:
    """A study submitted while train jobs take their data along: one line, nothing queued."""
    if workspace.stores.ships_data:
        raise CockpitError(tune_refusal())


def tune_refusal(prefix: str = "") -> str:
    return (
        f"{prefix}stores.ray_data is ship, but a study's workers share files in the workspace "
        "(output/studies/), so tune jobs do not take their data with them: mount the "
        "workspace at the same path on every Ray node and set stores.ray_data: shared, or "
        "tune on this machine without stores.ray_address"
    )


def stores_problem(workspace: Workspace) -> str | None:
    """Why a node without the workspace could not write a job's records: a store on this
    machine (one line naming the setting and the fix); None when every store is a server."""
    from core.settings import is_http_url, is_sqlite_url, mask_url

    stores = workspace.stores
    if workspace.database_is_sqlite:
        return (
            f"stores.ray_data is ship, but the workspace database is the SQLite file "
            f"{workspace.database_file}, which a Ray node cannot reach: move it to PostgreSQL "
            f"with `cockpit migrate-stores --to postgresql://USER@HOST/cockpit`, {MOUNT_ADVICE}"
        )
    tracking = stores.mlflow_tracking_uri
    scheme = tracking.split(":", 1)[0].lower()
    if is_sqlite_url(tracking) or scheme in ("file", "") or "://" not in tracking:
        return (
            f"stores.ray_data is ship, but MLflow tracks into {mask_url(tracking)} on this "
            "machine, which a Ray node cannot reach: name an MLflow tracking server "
            f"(stores.mlflow_tracking_uri: http://HOST:5000) or a PostgreSQL store, {MOUNT_ADVICE}"
        )
    served = is_http_url(tracking)
    local_artifacts = stores.mlflow_artifacts.startswith("file:")
    explicit = stores.source("mlflow_artifacts") != "default"
    if local_artifacts and (explicit or not served):
        return (
            f"stores.ray_data is ship, but MLflow artifacts would be written to "
            f"{stores.mlflow_artifacts} on the node and stay there: use an MLflow tracking "
            "server that stores artifacts (stores.mlflow_tracking_uri: http://HOST:5000, "
            "stores.mlflow_artifacts unset) or an artifact store every node reaches "
            f"(stores.mlflow_artifacts: s3://BUCKET/PATH), {MOUNT_ADVICE}"
        )
    return None


def experiment_problem(workspace: Workspace, theme: str) -> str | None:
    """The theme's MLflow experiment, when it exists, keeps its artifacts where its
    location says, whatever the settings say now; a folder (``file:``) is on one
    machine, and a node without the workspace would leave the run's model on its own
    disk. One line naming the fix; None when the location is a server or remote store."""
    location = _artifact_location(workspace.mlflow_tracking_uri, theme) or ""
    if not location.startswith(("file:", "/")):
        return None
    return (
        f"stores.ray_data is ship, but the MLflow experiment {theme!r} keeps its artifacts in "
        f"{location}, a folder on one machine, where a node without the workspace cannot "
        "write: train this theme with the workspace and that folder mounted at the same path "
        "on every Ray node (stores.ray_data: shared)"
    )


def _artifact_location(tracking_uri: str, name: str) -> str | None:
    """The artifact location of MLflow experiment ``name`` (None: no such experiment),
    read without importing MLflow (a second or more per job): the tracking server's REST
    API, or the tracking database's ``experiments`` table."""
    import json
    import urllib.error
    import urllib.parse
    import urllib.request

    from core.settings import is_http_url, normalize_url, store_problem

    if is_http_url(tracking_uri):
        query = urllib.parse.urlencode({"experiment_name": name})
        url = f"{tracking_uri.rstrip('/')}/api/2.0/mlflow/experiments/get-by-name?{query}"
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return json.loads(response.read())["experiment"].get("artifact_location")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:  # RESOURCE_DOES_NOT_EXIST
                return None
            raise store_problem("mlflow_tracking_uri", tracking_uri, exc) from exc
        except OSError as exc:
            raise store_problem("mlflow_tracking_uri", tracking_uri, exc) from exc
    from sqlalchemy import create_engine, text

    engine = create_engine(normalize_url(tracking_uri))
    try:
        with engine.connect() as connection:
            return connection.execute(
                text("SELECT artifact_location FROM experiments WHERE name = :name"),
                {"name": name},
            ).scalar()
    except Exception as exc:  # no experiments table yet: no experiment either
        if "experiments" in str(exc):
            return None
        raise store_problem("mlflow_tracking_uri", tracking_uri, exc) from exc
    finally:
        engine.dispose()


def _files_under(folder: Path) -> Iterator[Path]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path


def package_members(workspace: Workspace, job: Job) -> list[tuple[str, Path]]:
    """(name in the zip, file on this machine) of everything the job reads."""
    from core.data.snapshot import load_snapshot
    from core.db import open_database

    root = workspace.root
    members: dict[str, Path] = {}
    settings = root / "cockpit.yaml"
    if settings.is_file():
        members["cockpit.yaml"] = settings
    for name in SHIPPED_FOLDERS:
        for path in _files_under(root / name):
            members[path.relative_to(root).as_posix()] = path
    snapshot = load_snapshot(open_database(workspace), str(job.theme))
    for item in snapshot.items:
        members[Path(item.image_path).as_posix()] = root / item.image_path
    if job.experiment_id:
        folder = workspace.experiment_dir(job.experiment_id)
        if folder.is_dir():
            for path in _files_under(folder):
                members[path.relative_to(root).as_posix()] = path
    return sorted(members.items())


def build_package(workspace: Workspace, job: Job, folder: Path) -> Path:
    """The job's zip in ``folder`` (content-addressed name, as Ray names packages); one
    line when it is too large to ship."""
    members = package_members(workspace, job)
    missing = [name for name, path in members if not path.is_file()]
    if missing:
        raise CockpitError(
            f"job {job.id}: {len(missing)} image(s) of theme {job.theme!r} are missing from "
            f"the workspace, e.g. {missing[0]}: run `cockpit doctor` to find and fix them"
        )
    size = sum(path.stat().st_size for _, path in members)
    if size > MAX_PACKAGE_MIB * 1024 * 1024:
        raise CockpitError(
            f"job {job.id}: its data and checkpoints are {size / 2**20:.0f} MiB, more than the "
            f"{MAX_PACKAGE_MIB} MiB a job can take with it: mount the workspace at the same path "
            "on every Ray node and set stores.ray_data: shared"
        )
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".package.", suffix=".zip", dir=folder)
    os.close(fd)
    digest = hashlib.sha1()  # a content name, as Ray names its own packages
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as archive:
        text = job.model_dump_json(indent=1) + "\n"
        archive.writestr(PACKAGE_JOB_FILE, text)
        digest.update(text.encode())
        for name, path in members:
            archive.write(path, name)
            digest.update(name.encode())
            digest.update(path.read_bytes())
    target = folder / f"_ray_pkg_{digest.hexdigest()}.zip"
    os.replace(tmp, target)
    return target


# -- on the node ---------------------------------------------------------------------------


def file_states(root: Path) -> dict[str, tuple[int, int]]:
    """(size, mtime_ns) of every file under ``root/output``: what the job brought along."""
    states = {}
    for path in _files_under(root / RETURNED):
        stat = path.stat()
        states[path.relative_to(root).as_posix()] = (stat.st_size, stat.st_mtime_ns)
    return states


def written_files(root: Path, before: dict[str, tuple[int, int]]) -> list[str]:
    """Files under ``output/`` the job created or changed (its cache left out)."""
    now = file_states(root)
    return [
        name
        for name, state in sorted(now.items())
        if before.get(name) != state and not name.startswith(NOT_RETURNED)
    ]


def send_outputs(workspace: Workspace, job: Job, submission_id: str, names: list[str]) -> int:
    """The written files, zipped, into the workspace database for the supervisor; the
    number of bytes sent."""
    import io

    from core.db import JobOutput, open_database

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in names:
            archive.write(workspace.root / name, name)
    data = buffer.getvalue()
    with open_database(workspace).session() as session:
        session.add(
            JobOutput(job_id=job.id, submission_id=submission_id, files=len(names), data=data)
        )
    return len(data)


class MetricsEcho:
    """Copies the job's new metrics lines into its log (stdout) with a prefix, every half
    second, so the supervisor can write them into ``queue/logs/<job>.metrics.jsonl`` on the
    runner's machine while the job runs."""

    def __init__(self, path: Path, write: Callable[[str], None] | None = None) -> None:
        self.path = path
        self.offset = 0
        self.pending = b""
        self.write = write or self._print
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="metrics-echo", daemon=True)

    @staticmethod
    def _print(line: str) -> None:
        sys.stdout.write(line)
        sys.stdout.flush()

    def start(self) -> MetricsEcho:
        self.thread.start()
        return self

    def _loop(self) -> None:
        while not self.stop_event.wait(0.5):
            self.copy()

    def copy(self) -> None:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                chunk = handle.read()
        except FileNotFoundError:
            return
        self.offset += len(chunk)
        self.pending += chunk
        *lines, self.pending = self.pending.split(b"\n")
        text = "".join(
            f"{METRICS_PREFIX}{line.decode('utf-8', 'replace')}\n" for line in lines if line
        )
        if text:
            self.write(text)

    def close(self) -> None:
        self.stop_event.set()
        if self.thread.is_alive():
            self.thread.join(timeout=5)
        self.copy()


# -- back on the runner's machine ------------------------------------------------------------


def split_metrics(text: str) -> tuple[str, list[str]]:
    """The job's log text without its metrics lines, and those lines (without prefix)."""
    kept: list[str] = []
    metrics: list[str] = []
    # split at newlines only: str.splitlines would also split at the prefix's separator
    *lines, rest = text.split("\n")
    for line in lines:
        if line.startswith(METRICS_PREFIX):
            metrics.append(line[len(METRICS_PREFIX) :] + "\n")
        else:
            kept.append(line + "\n")
    if rest.startswith(METRICS_PREFIX):
        metrics.append(rest[len(METRICS_PREFIX) :] + "\n")
    else:
        kept.append(rest)
    return "".join(kept), metrics


def _member_path(workspace: Workspace, name: str) -> Path:
    """Where a returned file goes: under ``output/`` of the workspace, never elsewhere."""
    from core.names import inside

    if not name.startswith(RETURNED) or name.startswith(NOT_RETURNED) or "\\" in name:
        raise CockpitError(f"a job output named {name!r} is not under {RETURNED}: not written")
    return inside(workspace.root / RETURNED, workspace.root / name, "job output")


def receive_outputs(workspace: Workspace, job_id: str, echo: Callable[[str], None]) -> int:
    """Write every output a shipped job of ``job_id`` sent back into the workspace (each
    file atomically), then delete its row; the number of files written."""
    import io
    import time

    from sqlalchemy import select

    from core.db import JobOutput, open_database
    from core.fileio import atomic_write_bytes

    started = time.perf_counter()
    database = open_database(workspace)
    written = 0
    with database.session() as session:
        ids = session.scalars(
            select(JobOutput.id).where(JobOutput.job_id == job_id).order_by(JobOutput.id)
        ).all()
    for output_id in ids:
        with database.session() as session:
            row = session.get(JobOutput, output_id)
            if row is None:  # taken by another supervisor of this job (cannot: one holds it)
                continue
            with zipfile.ZipFile(io.BytesIO(row.data)) as archive:
                for info in archive.infolist():
                    if info.is_dir():
                        continue
                    target = _member_path(workspace, info.filename)
                    atomic_write_bytes(target, archive.read(info))
                    written += 1
            echo(f"{row.files} file(s) the job wrote on the node are in the workspace "
                 f"({row.submission_id}, {len(row.data) / 2**20:.1f} MiB, "
                 f"{time.perf_counter() - started:.2f} s)")
            session.delete(row)
    return written

"""A local MLflow UI/tracking server over the workspace's stores, on 127.0.0.1 and a free
port, run as a child process group so that stopping it leaves nothing behind."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

from core.errors import CockpitError
from core.fileio import atomic_write_text
from core.processes import kill_process_group, process_alive
from core.workspace import Workspace

HOST = "127.0.0.1"
LOG_TAIL_LINES = 15


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def server_command(workspace: Workspace, port: int) -> list[str]:
    artifacts = workspace.mlflow_artifacts_dir.as_uri()
    return [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--backend-store-uri",
        workspace.mlflow_tracking_uri,
        "--default-artifact-root",
        artifacts,
        "--artifacts-destination",
        artifacts,
        "--host",
        HOST,
        "--port",
        str(port),
        "--workers",
        "1",
    ]


def server_environment() -> dict[str, str]:
    env = dict(os.environ)
    # mlflow starts uvicorn by name: this interpreter's bin folder must come first
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = os.pathsep.join([bin_dir, env.get("PATH", "")])
    # the job runner (GenAI jobs, a dozen huey consumers) is of no use for a model registry
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    return env


class MlflowServer:
    """``start()`` blocks until the UI answers (or raises CockpitError with the log tail);
    ``stop()`` ends the whole process group. Usable as a context manager.

    ``output/mlflow-ui.json`` records the server and the process that owns it. A server
    whose owner still runs (a second window on the workspace) is shared, not started
    twice, and left running by ``stop()``; one whose owner died (a killed app) is stopped
    before a new one starts, so no orphaned server keeps a port."""

    def __init__(self, workspace: Workspace, port: int = 0, timeout: float = 60.0) -> None:
        self.workspace = workspace
        self.port = port
        self.timeout = timeout
        self.process: subprocess.Popen[bytes] | None = None
        self.shared_pid: int | None = None  # another process's server this one uses
        self.log_file = workspace.root / "output" / "mlflow-ui.log"
        self.state_file = workspace.root / "output" / "mlflow-ui.json"

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        if self.shared_pid is not None:
            return process_alive(self.shared_pid, None)
        return self.process is not None and self.process.poll() is None

    def start(self) -> str:
        if self.running:
            return self.url
        if self._share_or_clear():
            return self.url
        self.workspace.mlflow_artifacts_dir.mkdir(parents=True, exist_ok=True)
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        with open(self.log_file, "wb") as log:
            self.process = subprocess.Popen(
                server_command(self.workspace, self.port),
                cwd=self.workspace.root,
                env=server_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() reaches uvicorn too
            )
        self._wait_until_ready()
        self._record()
        return self.url

    def _record(self) -> None:
        import psutil

        assert self.process is not None
        info = {
            "pid": self.process.pid,
            "pid_started": psutil.Process(self.process.pid).create_time(),
            "port": self.port,
            "owner": os.getpid(),
            "owner_started": psutil.Process().create_time(),
        }
        atomic_write_text(self.state_file, json.dumps(info) + "\n")

    def _share_or_clear(self) -> bool:
        """Use the recorded server if its owner lives; stop it if its owner died."""
        try:
            info = json.loads(self.state_file.read_text())
            pid, port, owner = int(info["pid"]), int(info["port"]), int(info["owner"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        if not process_alive(pid, info.get("pid_started")):
            self.state_file.unlink(missing_ok=True)
            return False
        if owner != os.getpid() and process_alive(owner, info.get("owner_started")):
            self.port, self.shared_pid = port, pid
            if self.answers():
                return True
            self.shared_pid = None
            return False
        kill_process_group(pid)  # left behind by a window that was killed
        self.state_file.unlink(missing_ok=True)
        return False

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                code = None if self.process is None else self.process.returncode
                self.stop()
                raise CockpitError(
                    f"MLflow server exited (code {code}) before answering on {self.url}; "
                    f"log {self.log_file}:\n{self.log_tail()}"
                )
            if self.answers():
                return
            time.sleep(0.25)
        self.stop()
        raise CockpitError(
            f"MLflow server did not answer on {self.url} within {self.timeout:.0f} s; "
            f"log {self.log_file}:\n{self.log_tail()}"
        )

    def answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def log_tail(self) -> str:
        try:
            lines = self.log_file.read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-LOG_TAIL_LINES:])

    def stop(self, grace: float = 5.0) -> None:
        self.shared_pid = None  # a shared server is its owner's to stop
        process, self.process = self.process, None
        if process is None:
            return
        self.state_file.unlink(missing_ok=True)
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _group_alive(process):
                time.sleep(0.05)
            if not _group_alive(process):
                break
        process.wait(timeout=grace)

    def __enter__(self) -> MlflowServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def _group_alive(process: subprocess.Popen[bytes]) -> bool:
    process.poll()  # reap the leader so that it does not linger as a zombie
    try:
        os.killpg(process.pid, 0)
    except ProcessLookupError:
        return False
    return True


# Routes of the MLflow UI (a hash router), checked against mlflow 3.x's bundle.
def experiment_url(base: str, experiment_id: str) -> str:
    return f"{base}/#/experiments/{quote(str(experiment_id), safe='')}"


def run_url(base: str, experiment_id: str, run_id: str) -> str:
    return f"{experiment_url(base, experiment_id)}/runs/{quote(run_id, safe='')}"


def model_url(base: str, name: str, version: str | None = None) -> str:
    url = f"{base}/#/models/{quote(name, safe='')}"
    return f"{url}/versions/{quote(str(version), safe='')}" if version else url

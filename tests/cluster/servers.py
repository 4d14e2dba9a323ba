"""Real servers for the scale-out tests and benchmarks: a throw-away PostgreSQL cluster.

``initdb`` into a temporary folder, ``pg_ctl start`` on a free port of 127.0.0.1 (and a
unix socket in the same folder), trust authentication for the one user ``cockpit``;
``stop()`` shuts it down and removes the folder. PostgreSQL refuses to run as root: as
root, the server runs as the ``postgres`` (else ``nobody``) user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Self

USER = "cockpit"


def find_pg_bin() -> Path | None:
    """The folder of ``initdb`` and ``pg_ctl``: $PG_BIN, PATH, or Debian's layout."""
    candidates = [os.environ.get("PG_BIN", "")]
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).parent))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PostgresServer:
    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        # in memory where there is /dev/shm: a database is thousands of small files
        shm = Path("/dev/shm")
        parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.base = Path(tempfile.mkdtemp(prefix="cockpit-pg-", dir=parent))
        self.data = self.base / "data"
        self.port = free_port()
        self._run_as: dict = {}
        if os.geteuid() == 0:
            for name in ("postgres", "nobody"):
                try:
                    entry = pwd.getpwnam(name)
                except KeyError:
                    continue
                self._run_as = {"user": entry.pw_uid, "group": entry.pw_gid}
                break
            os.chmod(self.base, 0o777)

    def _run(self, *args: str, timeout: float = 120) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=self.base,
            **self._run_as,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {result.stdout}\n{result.stderr}")

    def start(self) -> PostgresServer:
        self._run("initdb", "-D", str(self.data), "-U", USER, "-A", "trust", "-E", "UTF8",
                  "--no-sync")
        options = (
            f"-p {self.port} -k {self.base} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l",
                  str(self.base / "server.log"), "-w", "-t", "60", "start")
        return self

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        user = f"{USER}:{password}" if password else USER
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "db") -> str:
        """A new, empty database; its URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=USER, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextlib.contextmanager
def postgres_for_benchmark() -> Iterator[PostgresServer | None]:
    """A throw-away server for a benchmark, or None (said in one line) without binaries."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        print("no PostgreSQL server binaries: PostgreSQL not measured")
        yield None
        return
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


class _ServerProcess:
    """A server started as one command in its own process group and temporary folder,
    ready once ``ready_url`` answers; ``stop()`` ends that group (and only it)."""

    name = "server"

    def __init__(self, prefix: str) -> None:
        self.temp = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
        self.process: subprocess.Popen | None = None

    @property
    def ready_url(self) -> str:
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, timeout: float = 120) -> Self:
        import time
        import urllib.request

        log = self.temp / "server.log"
        self.process = subprocess.Popen(
            self.command(),
            stdout=open(log, "wb"),  # noqa: SIM115 (lives with the server)
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:])
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the {self.name} did not answer in {timeout} s")

    def stop(self) -> None:
        import signal
        import time

        if self.process is not None:
            for sig, wait_s in ((signal.SIGTERM, 8), (signal.SIGKILL, 5)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                deadline = time.time() + wait_s
                while time.time() < deadline and self.process.poll() is None:
                    time.sleep(0.2)
        shutil.rmtree(self.temp, ignore_errors=True)


class RayHead(_ServerProcess):
    """``ray start --head --block`` on 127.0.0.1 with logical GPUs."""

    name = "Ray head"

    def __init__(self, num_gpus: int = 2, num_cpus: int = 2) -> None:
        super().__init__("cockpit-ray-")
        self.port = free_port()
        self.dashboard_port = free_port()
        self.num_gpus, self.num_cpus = num_gpus, num_cpus

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.dashboard_port}"

    @property
    def ready_url(self) -> str:
        return f"{self.address}/api/version"

    def command(self) -> list[str]:
        import sys

        ray = Path(sys.executable).with_name("ray")
        return [str(ray), "start", "--head", "--block", f"--port={self.port}",
                f"--dashboard-port={self.dashboard_port}", "--dashboard-host=127.0.0.1",
                "--node-ip-address=127.0.0.1", f"--num-gpus={self.num_gpus}",
                f"--num-cpus={self.num_cpus}", "--include-dashboard=true",
                "--disable-usage-stats", f"--temp-dir={self.temp}"]


class MlflowServer(_ServerProcess):
    """``mlflow server`` on 127.0.0.1 with a SQLite backend and an artifact store it serves
    (``--artifacts-destination``): the tracking server of a lab, for jobs whose nodes do
    not share the workspace."""

    name = "MLflow server"

    def __init__(self) -> None:
        super().__init__("cockpit-mlflow-")
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ready_url(self) -> str:
        return f"{self.url}/health"

    def command(self) -> list[str]:
        import sys

        mlflow = Path(sys.executable).with_name("mlflow")
        return [str(mlflow), "server", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", "1", "--backend-store-uri", f"sqlite:///{self.temp / 'mlflow.db'}",
                "--artifacts-destination", str(self.temp / "artifacts")]

"""Backends for the store tests: SQLite files (the default) and a real PostgreSQL server.

One server for the whole test session (started on first use, stopped at the end); each
test gets new, empty databases on it for the workspace, MLflow and Optuna, named through
the COCKPIT_* variables, so subprocesses (runner, jobs) use them too - the way Optuna runs
one storage test suite over every backend.
"""

from __future__ import annotations

import importlib.util

import pytest

from core.db.engine import forget_database
from core.settings import ENV_VARS
from tests.cluster.servers import PostgresServer, find_pg_bin
from tests.core.training.conftest import shapes_workspace  # noqa: F401  (shared fixture)

BACKENDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
]


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (initdb, pg_ctl): `make test` installs them")
    if importlib.util.find_spec("psycopg") is None:
        pytest.skip("no psycopg driver: install the extra with pip install -e '.[cluster]'")
    server = PostgresServer(bin_dir).start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request, monkeypatch):
    """'sqlite' or 'postgresql'; for the latter, every store of the workspace is on the
    session's PostgreSQL server (new databases per test)."""
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    if request.param != "postgresql":
        yield request.param
        return
    server = request.getfixturevalue("postgres_server")
    database = server.create_database("workspace")
    monkeypatch.setenv("COCKPIT_DATABASE_URL", database)
    monkeypatch.setenv("COCKPIT_MLFLOW_TRACKING_URI", server.create_database("mlflow"))
    monkeypatch.setenv("COCKPIT_OPTUNA_STORAGE", server.create_database("optuna"))
    yield request.param
    forget_database(database)  # its pooled connections end with the test


@pytest.fixture(scope="module")
def ray_head():
    """One local Ray head for a test module: 127.0.0.1, 2 logical GPUs, 2 CPUs. Stopped
    after the module, so its processes (and the workers its jobs leave idle) do not load
    the machine while the rest of the suite runs its timing-sensitive kill tests."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("no ray: install the extra with pip install -e '.[cluster]'")
    from tests.cluster.servers import RayHead

    head = RayHead().start()
    yield head
    head.stop()


@pytest.fixture(scope="module")
def mlflow_server():
    """An MLflow tracking server that stores artifacts (a lab's), for a test module."""
    from tests.cluster.servers import MlflowServer

    server = MlflowServer().start()
    yield server
    server.stop()

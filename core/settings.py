"""Where a workspace keeps its stores: one settings file, overridable by the environment.

``<workspace>/cockpit.yaml`` may hold a ``stores:`` mapping::

    stores:
      database: postgresql+psycopg://cockpit:secret@db.lab:5432/cockpit
      mlflow_tracking_uri: postgresql+psycopg://cockpit:secret@db.lab:5432/mlflow
      mlflow_artifacts: /mnt/lab/mlartifacts        # or s3://bucket/path, file:///...
      optuna_storage: postgresql+psycopg://cockpit:secret@db.lab:5432/optuna
      ray_address: http://head.lab:8265              # Ray Jobs API of a cluster
      ray_data: shared                               # or ship: see below

Each is overridden by its environment variable (``COCKPIT_DATABASE_URL``,
``COCKPIT_MLFLOW_TRACKING_URI``, ``COCKPIT_MLFLOW_ARTIFACTS``, ``COCKPIT_OPTUNA_STORAGE``,
``COCKPIT_RAY_ADDRESS``, ``COCKPIT_RAY_DATA``); what is named nowhere is today's default:
the SQLite files ``database.db``, ``mlflow.db`` and ``optuna.db`` and the folder
``mlartifacts/`` in the workspace, and no cluster. ``ray_data`` says where a Ray node
finds a job's data: ``shared`` (the workspace is mounted at the same path on every
node) or ``ship`` (a train job takes a frozen copy of its images and definitions with
it, and its outputs come back through the workspace database; ``core.jobs.shipping``).
Passwords are never shown: :func:`mask_url` hides them.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import yaml

from core.errors import CockpitError

__all__ = [
    "ENV_VARS",
    "RAY_DATA_MODES",
    "SETTINGS_FILE_NAME",
    "StoreSettings",
    "StoreUnavailable",
    "is_http_url",
    "is_sqlite_url",
    "load_store_settings",
    "mask_url",
    "normalize_url",
    "sqlite_path",
    "store_problem",
]

SETTINGS_FILE_NAME = "cockpit.yaml"

# field name -> environment variable that overrides it
ENV_VARS = {
    "database": "COCKPIT_DATABASE_URL",
    "mlflow_tracking_uri": "COCKPIT_MLFLOW_TRACKING_URI",
    "mlflow_artifacts": "COCKPIT_MLFLOW_ARTIFACTS",
    "optuna_storage": "COCKPIT_OPTUNA_STORAGE",
    "ray_address": "COCKPIT_RAY_ADDRESS",
    "ray_data": "COCKPIT_RAY_DATA",
}
RAY_DATA_MODES = ("shared", "ship")

DESCRIPTIONS = {
    "database": "workspace database (themes, labels, images, models)",
    "mlflow_tracking_uri": "MLflow tracking and model registry store",
    "mlflow_artifacts": "MLflow artifact location for new experiments",
    "optuna_storage": "Optuna storage (studies and trials)",
    "ray_address": "Ray cluster for the runner (empty: run jobs on this machine)",
    "ray_data": "where Ray nodes find a job's data: shared (same mount) or ship (a copy)",
}


@dataclass(frozen=True)
class StoreSettings:
    """The resolved stores of one workspace, and where each value came from."""

    database: str
    mlflow_tracking_uri: str
    mlflow_artifacts: str
    optuna_storage: str
    ray_address: str
    ray_data: str = "shared"
    sources: tuple[tuple[str, str], ...] = ()

    @property
    def ships_data(self) -> bool:
        """Jobs go to a Ray cluster and train jobs take their data with them."""
        return bool(self.ray_address) and self.ray_data == "ship"

    def source(self, name: str) -> str:
        return dict(self.sources).get(name, "default")

    def rows(self) -> list[tuple[str, str, str, str]]:
        """(name, masked value, source, description) for display."""
        return [
            (f.name, mask_url(getattr(self, f.name)) or "-", self.source(f.name),
             DESCRIPTIONS[f.name])
            for f in fields(self)
            if f.name != "sources"
        ]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path.as_posix()}"


def is_http_url(url: str) -> bool:
    """An http(s) URL: a server (an MLflow tracking server, a Ray dashboard)."""
    return url.split(":", 1)[0].lower() in ("http", "https")


def is_sqlite_url(url: str) -> bool:
    return url.split(":", 1)[0].split("+", 1)[0].lower() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    """The file of a ``sqlite:///PATH`` URL, or None for another kind of URL."""
    if not is_sqlite_url(url):
        return None
    rest = url.split(":", 1)[1]
    if not rest.startswith("///"):
        return None
    path = rest[3:].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (user, host, port and path kept)."""
    if not url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unreadable URL>"
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = f"{user}:***@{host}" + (f":{port}" if port is not None else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def normalize_url(url: str) -> str:
    """A PostgreSQL URL without a driver (``postgresql://``, ``postgres://``) gets the
    psycopg 3 driver of the ``cluster`` extra, so every library opens it the same way."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme.lower() in ("postgresql", "postgres"):
        return f"postgresql+psycopg://{rest}"
    return url




class StoreUnavailable(CockpitError):
    """A configured store could not be reached or opened."""


def store_problem(name: str, url: str, reason: object) -> StoreUnavailable:
    """One line naming the store's masked URL, why it failed and what to check."""
    text = " ".join(str(reason).split()) or type(reason).__name__
    password = None
    with contextlib.suppress(ValueError):
        password = urlsplit(url).password
    if password:
        text = text.replace(password, "***")
    if isinstance(reason, ModuleNotFoundError) or "No module named" in text:
        advice = (
            "install the driver with `pip install 'experiment-cockpit[cluster]'` "
            "(psycopg for PostgreSQL)"
        )
    else:
        advice = (
            "check that the server runs and is reachable from this machine, and the host, "
            f"port, user, password and database name in {ENV_VARS.get(name, name)} or "
            f"stores.{name} in {SETTINGS_FILE_NAME}"
        )
    return StoreUnavailable(
        f"cannot use the {DESCRIPTIONS.get(name, name)} at {mask_url(url)} ({text}): {advice}"
    )


def _defaults(root: Path) -> dict[str, str]:
    return {
        "database": sqlite_url(root / "database.db"),
        "mlflow_tracking_uri": sqlite_url(root / "mlflow.db"),
        "mlflow_artifacts": (root / "mlartifacts").as_uri(),
        "optuna_storage": sqlite_url(root / "optuna.db"),
        "ray_address": "",
        "ray_data": "shared",
    }


def _read_file(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise CockpitError(f"cannot read {path}: {exc.strerror}; check its permissions") from exc
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise CockpitError(
            f"{path}{where} is not valid YAML: fix it, or remove it to use the default stores"
        ) from exc
    if not isinstance(data, dict):
        raise CockpitError(f"{path} must be a mapping with a 'stores:' section: fix or remove it")
    stores = data.get("stores") or {}
    if not isinstance(stores, dict):
        raise CockpitError(f"{path}: 'stores' must be a mapping of names to URLs: fix it")
    result: dict[str, str] = {}
    for key, value in stores.items():
        if key not in ENV_VARS:
            known = ", ".join(ENV_VARS)
            raise CockpitError(
                f"{path}: unknown store setting stores.{key}: use one of {known}"
            )
        if value is None:
            continue
        if not isinstance(value, str):
            raise CockpitError(f"{path}: stores.{key} must be a text URL: quote it")
        result[key] = value.strip()
    return result


def _resolve_relative(root: Path, name: str, value: str) -> str:
    """A relative SQLite path or artifact folder is relative to the workspace."""
    if name == "ray_data":
        return value.lower()
    if name == "mlflow_artifacts" and value and "://" not in value:
        path = Path(value).expanduser()
        return (path if path.is_absolute() else root / path).resolve().as_uri()
    if is_sqlite_url(value):
        path = sqlite_path(value)
        if path is not None and not path.is_absolute():
            return sqlite_url((root / path).resolve())
    return normalize_url(value)


_cache: dict[tuple, StoreSettings] = {}
_cache_lock = threading.Lock()


def load_store_settings(root: Path) -> StoreSettings:
    """The stores of the workspace at ``root``: environment > cockpit.yaml > defaults."""
    path = root / SETTINGS_FILE_NAME
    try:
        stat = path.stat()
        stamp: tuple = (stat.st_mtime_ns, stat.st_size)
    except OSError:
        stamp = ()
    env = tuple(os.environ.get(var) for var in ENV_VARS.values())
    key = (str(root), stamp, env)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    values = _defaults(root)
    sources: dict[str, str] = {}
    for name, value in _read_file(path).items():
        if value:
            values[name] = _resolve_relative(root, name, value)
            sources[name] = SETTINGS_FILE_NAME
    for name, var in ENV_VARS.items():
        value = (os.environ.get(var) or "").strip()
        if value:
            values[name] = _resolve_relative(root, name, value)
            sources[name] = var
    if values["ray_data"] not in RAY_DATA_MODES:
        where = sources["ray_data"]
        where = f"stores.ray_data in {path}" if where == SETTINGS_FILE_NAME else where
        raise CockpitError(
            f"{where}: {values['ray_data']!r} is not a way to find the data: use shared (the "
            "workspace is mounted at the same path on every Ray node) or ship"
        )
    settings = StoreSettings(**values, sources=tuple(sorted(sources.items())))
    with _cache_lock:
        if len(_cache) > 64:
            _cache.clear()
        _cache[key] = settings
    return settings

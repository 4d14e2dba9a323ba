"""Where a user's work lives: one folder with configs, definitions, data, stores and queue.

The workspace is chosen, in this order, by ``--workspace DIR``, the ``COCKPIT_WORKSPACE``
environment variable, or the current directory. Runtime folders are created on demand,
so a freshly cloned repository is already a valid workspace.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

from core.errors import CockpitError
from core.names import inside
from core.settings import (
    StoreSettings,
    is_http_url,
    is_sqlite_url,
    load_store_settings,
    mask_url,
    sqlite_path,
)

WORKSPACE_ENV = "COCKPIT_WORKSPACE"

QUEUE_STATES = ("pending", "running", "finished", "failed", "cancelled")


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Cheap to build; touches the disk only in ``ensure_dirs``."""

    root: Path

    @classmethod
    def resolve(cls, explicit: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace named by ``explicit``, ``$COCKPIT_WORKSPACE`` or the current folder."""
        chosen = explicit or os.environ.get(WORKSPACE_ENV) or Path.cwd()
        root = Path(chosen).expanduser().resolve()
        if root.exists() and not root.is_dir():
            raise CockpitError(f"workspace {root} is a file, not a folder: pass a folder")
        return cls(root)

    def is_workspace(self) -> bool:
        """A workspace has its registry (made by ``cockpit init``) or a database. Any other
        folder is refused, so a command run in the wrong folder creates nothing there."""
        return self.registry_file.is_file() or self.database_file.exists()

    def require(self) -> Workspace:
        """``self`` if it is a workspace; else a CockpitError saying how to make or pick one."""
        if not self.is_workspace():
            raise CockpitError(
                f"{self.root} is not a workspace (no configs/registry.json, no database.db): "
                f"create one with `cockpit init {shlex.quote(str(self.root))}`, "
                "or choose one with --workspace DIR"
            )
        return self

    # --- user-edited files -------------------------------------------------------------
    @property
    def configs_dir(self) -> Path:
        return self.root / "configs"

    @property
    def params_file(self) -> Path:
        return self.configs_dir / "params.yaml"

    @property
    def augments_file(self) -> Path:
        return self.configs_dir / "augments.yaml"

    @property
    def optuna_params_file(self) -> Path:
        return self.configs_dir / "optuna_params.yaml"

    @property
    def registry_file(self) -> Path:
        return self.configs_dir / "registry.json"

    @property
    def definitions_dir(self) -> Path:
        return self.root / "definitions"

    # --- runtime state -----------------------------------------------------------------
    @property
    def images_dir(self) -> Path:
        return self.root / "images"

    # --- stores (cockpit.yaml / COCKPIT_* variables; default: SQLite files here) ------
    @property
    def stores(self) -> StoreSettings:
        """Where the database, MLflow and Optuna stores are (see core/settings.py)."""
        return load_store_settings(self.root)

    @property
    def database_url(self) -> str:
        return self.stores.database

    @property
    def database_is_sqlite(self) -> bool:
        return is_sqlite_url(self.database_url)

    @property
    def database_file(self) -> Path:
        """The SQLite file of the workspace database (``database.db`` unless configured)."""
        return sqlite_path(self.database_url) or self.root / "database.db"

    @property
    def mlflow_db_file(self) -> Path:
        """The SQLite file of the MLflow store (``mlflow.db`` unless configured)."""
        return sqlite_path(self.mlflow_tracking_uri) or self.root / "mlflow.db"

    def has_database(self) -> bool:
        """Whether the workspace database may hold rows (a server database always may)."""
        return not self.database_is_sqlite or self.database_file.exists()

    def has_mlflow_store(self) -> bool:
        """Whether the MLflow store may hold runs (a store on a server always may)."""
        return not self.mlflow_is_sqlite or self.mlflow_db_file.exists()

    @property
    def mlflow_store_label(self) -> str:
        """How messages name the MLflow store: its file, or its URL (password masked)."""
        if self.mlflow_is_sqlite:
            return str(self.mlflow_db_file)
        return mask_url(self.mlflow_tracking_uri)

    @property
    def mlflow_is_sqlite(self) -> bool:
        return is_sqlite_url(self.mlflow_tracking_uri)

    @property
    def mlflow_tracking_uri(self) -> str:
        return self.stores.mlflow_tracking_uri

    @property
    def mlflow_artifacts_dir(self) -> Path:
        """The local artifact folder (``mlartifacts/`` unless configured elsewhere)."""
        location = self.stores.mlflow_artifacts
        if location.startswith("file://"):
            from urllib.parse import unquote, urlsplit

            return Path(unquote(urlsplit(location).path))
        return self.root / "mlartifacts"

    @property
    def mlflow_artifact_location(self) -> str | None:
        """Artifact location URI for new MLflow experiments (file://, s3://, ...); None
        (the server's own artifact store) for an MLflow tracking server when no location
        is named: a local folder would keep each machine's artifacts on that machine."""
        stores = self.stores
        named = stores.source("mlflow_artifacts") != "default"
        if is_http_url(stores.mlflow_tracking_uri) and not named:
            return None
        return stores.mlflow_artifacts

    @property
    def optuna_db_file(self) -> Path:
        return sqlite_path(self.optuna_storage_url) or self.root / "optuna.db"

    @property
    def optuna_storage_url(self) -> str:
        return self.stores.optuna_storage

    @property
    def queue_dir(self) -> Path:
        return self.root / "queue"

    def queue_state_dir(self, state: str) -> Path:
        if state not in QUEUE_STATES:
            raise ValueError(f"unknown queue state {state!r}; expected one of {QUEUE_STATES}")
        return self.queue_dir / state

    @property
    def logs_dir(self) -> Path:
        return self.queue_dir / "logs"

    @property
    def experiments_dir(self) -> Path:
        return self.root / "output" / "experiments"

    def experiment_dir(self, experiment_id: str) -> Path:
        return inside(self.experiments_dir, self.experiments_dir / experiment_id, "experiment id")

    def relative(self, path: Path) -> str:
        """``path`` as the user should read it: relative to the workspace when inside it."""
        try:
            return Path(path).resolve().relative_to(self.root).as_posix()
        except ValueError:
            return str(path)

    def runtime_dirs(self) -> list[Path]:
        return [
            self.images_dir,
            self.mlflow_artifacts_dir,
            *(self.queue_state_dir(s) for s in QUEUE_STATES),
            self.logs_dir,
            self.experiments_dir,
        ]

    def ensure_dirs(self) -> Workspace:
        """Create the runtime folders that do not exist yet; return ``self``."""
        try:
            for path in self.runtime_dirs():
                path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CockpitError(
                f"cannot create workspace folder {exc.filename}: {exc.strerror}; "
                "check permissions and free disk space"
            ) from exc
        return self

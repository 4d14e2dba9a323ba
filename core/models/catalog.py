"""Registered models, their versions, the metrics of each version's source run, and
aliases (``champion``, ``challenger`` …) read and set through ``MlflowClient``."""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from typing import Any

from core.errors import CockpitError
from core.mlflow_filter import model_versions
from core.stores import check_mlflow_store
from core.training.versions import version_metrics
from core.workspace import Workspace

MODEL_SUFFIX = "_model"
ALIAS_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,254}$")
# MLflow reserves these: "latest" always means the newest version, "vN" version N
RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)

# mlflow's first import takes seconds and is not safe from two threads at once
_client_lock = threading.Lock()


@dataclass(frozen=True)
class VersionInfo:
    name: str
    version: str
    created_ms: int
    status: str
    run_id: str
    experiment_id: str | None
    aliases: tuple[str, ...]
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def spec(self) -> str:
        return f"{self.name}/{self.version}"


@dataclass(frozen=True)
class RegisteredModelInfo:
    name: str
    theme: str
    description: str
    aliases: dict[str, str]  # alias -> version
    versions: tuple[VersionInfo, ...]  # best metric first (test acc, else valid acc), then newest
    metric: str | None = None  # the metric versions are ranked by
    best_version: str | None = None  # the version with the best value of ``metric``

    def version(self, number: str) -> VersionInfo | None:
        return next((v for v in self.versions if v.version == str(number)), None)


def rank_versions(
    infos: list[VersionInfo],
) -> tuple[tuple[VersionInfo, ...], str | None, str | None]:
    """Versions best first by the registry's metric (those without it last), ties and
    unmeasured ones newest first; with the metric's name and the best version."""
    metric = next(
        (k for k in ("test_acc", "valid_acc") if any(k in v.metrics for v in infos)), None
    )

    def key(info: VersionInfo) -> tuple[int, float, int]:
        value = info.metrics.get(metric) if metric else None
        return (value is None, -(value or 0.0), -int(info.version))

    ranked = tuple(sorted(infos, key=key))
    best = ranked[0].version if ranked and metric and metric in ranked[0].metrics else None
    return ranked, metric, best


def registry_client(workspace: Workspace) -> Any:
    check_mlflow_store(workspace)
    with _client_lock:
        from core.training.tracking import tracking_client

        return tracking_client(workspace)


def theme_of(model_name: str) -> str:
    """``{theme}_model`` -> theme (the naming rule of the training packaging)."""
    return model_name[: -len(MODEL_SUFFIX)] if model_name.endswith(MODEL_SUFFIX) else model_name


def _version_info(version: Any, runs: dict[str, Any], aliases: dict[str, str]) -> VersionInfo:
    run = runs.get(version.run_id)
    number = str(version.version)
    return VersionInfo(
        name=version.name,
        version=number,
        created_ms=int(version.creation_timestamp or 0),
        status=str(version.status or ""),
        run_id=version.run_id or "",
        experiment_id=run.info.experiment_id if run else None,
        # search_model_versions leaves ModelVersion.aliases empty: take them from the model
        aliases=tuple(sorted(a for a, v in aliases.items() if v == number)),
        # the registered weights' own metrics, not the run's later ones (a resumed run)
        metrics=version_metrics(version, run.data.metrics if run else None),
    )


def _runs(client: Any, run_ids: set[str]) -> dict[str, Any]:
    runs = {}
    for run_id in run_ids:
        try:
            runs[run_id] = client.get_run(run_id)
        except Exception:  # a deleted source run leaves the version without metrics
            continue
    return runs


def _read(client: Any, name: str) -> RegisteredModelInfo:
    model = client.get_registered_model(name)
    versions = model_versions(client, name)
    runs = _runs(client, {v.run_id for v in versions if v.run_id})
    aliases = {str(k): str(v) for k, v in (getattr(model, "aliases", None) or {}).items()}
    infos = [_version_info(v, runs, aliases) for v in versions]
    return _model_info(model.name, model.description, aliases, infos)


def _model_info(
    name: str, description: str | None, aliases: dict[str, str], infos: list[VersionInfo]
) -> RegisteredModelInfo:
    """A registered model with its versions ranked (read by the client or from SQLite)."""
    ranked, metric, best = rank_versions(infos)
    return RegisteredModelInfo(
        name=name,
        theme=theme_of(name),
        description=description or "",
        aliases=aliases,
        versions=ranked,
        metric=metric,
        best_version=best,
    )


def _read_sqlite_registry(workspace: Workspace) -> list[RegisteredModelInfo] | None:
    """The registry read from the SQLite store's tables directly, the way MLflow's own
    store reads them (prompts and deleted versions left out; a run's metrics are its
    ``latest_metrics``), so ``models list`` does not wait seconds for ``import mlflow``.
    None when that read fails (another schema, a locked or half-made store): the client
    answers then. The parity with the client is tested."""
    path = workspace.mlflow_db_file
    try:
        with contextlib.closing(sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)) as db:
            names = [
                str(row[0])
                for row in db.execute(
                    "SELECT m.name FROM registered_models m WHERE NOT EXISTS (SELECT 1 FROM "
                    "registered_model_tags t WHERE t.name = m.name AND t.key = ? AND "
                    "lower(t.value) = 'true') ORDER BY m.name",
                    ("mlflow.prompt.is_prompt",),
                )
            ]
            return [_sqlite_model(db, name) for name in names]
    except (sqlite3.Error, ValueError, TypeError):
        return None


def _sqlite_model(db: sqlite3.Connection, name: str) -> RegisteredModelInfo:
    (description,) = db.execute(
        "SELECT description FROM registered_models WHERE name = ?", (name,)
    ).fetchone()
    aliases = {
        str(alias): str(version)
        for alias, version in db.execute(
            "SELECT alias, version FROM registered_model_aliases WHERE name = ?", (name,)
        )
    }
    infos = []
    for number, created, status, run_id in db.execute(
        "SELECT version, creation_time, status, run_id FROM model_versions "
        "WHERE name = ? AND current_stage != 'Deleted_Internal'",
        (name,),
    ).fetchall():
        tags = dict(
            db.execute(
                "SELECT key, value FROM model_version_tags WHERE name = ? AND version = ?",
                (name, number),
            ).fetchall()
        )
        run = db.execute("SELECT experiment_id FROM runs WHERE run_uuid = ?", (run_id,)).fetchone()
        metrics = None
        if run is not None:
            metrics = {
                str(key): float("nan") if is_nan else float(value)
                for key, value, is_nan in db.execute(
                    "SELECT key, value, is_nan FROM latest_metrics WHERE run_uuid = ?",
                    (run_id,),
                )
            }
        text = str(number)
        infos.append(
            VersionInfo(
                name=name,
                version=text,
                created_ms=int(created or 0),
                status=str(status or ""),
                run_id=run_id or "",
                experiment_id=str(run[0]) if run is not None else None,
                aliases=tuple(sorted(a for a, v in aliases.items() if v == text)),
                metrics=version_metrics(_Tagged(tags), metrics),
            )
        )
    return _model_info(name, description, aliases, infos)


@dataclass(frozen=True)
class _Tagged:
    tags: dict[str, str]


def list_models(workspace: Workspace, *, through_client: bool = False) -> list[RegisteredModelInfo]:
    """Every registered model of the workspace with its versions, sorted by name (from a
    SQLite store's tables directly unless ``through_client``)."""
    if not workspace.has_mlflow_store():
        return []  # nothing trained yet: do not create the store just to look at it
    if workspace.mlflow_is_sqlite and not through_client:
        check_mlflow_store(workspace)
        found = _read_sqlite_registry(workspace)
        if found is not None:
            return found
    client = registry_client(workspace)
    try:
        names = sorted(m.name for m in client.search_registered_models())
        return [_read(client, name) for name in names]
    except Exception as exc:
        raise CockpitError(
            f"{workspace.mlflow_store_label}: cannot read the model registry ({exc})"
        ) from exc


def get_model(workspace: Workspace, name: str) -> RegisteredModelInfo:
    client = registry_client(workspace)
    _require_model(client, name)
    return _read(client, name)


def run_experiment_id(workspace: Workspace, run_id: str) -> str:
    """The MLflow experiment a run belongs to (to build its URL in the MLflow UI)."""
    from mlflow.exceptions import MlflowException

    try:
        return registry_client(workspace).get_run(run_id).info.experiment_id
    except MlflowException as exc:
        raise CockpitError(
            f"MLflow run {run_id} is not in {workspace.mlflow_store_label} (deleted?)"
        ) from exc


def _require_model(client: Any, name: str) -> None:
    known = sorted(m.name for m in client.search_registered_models())
    if name not in known:
        raise CockpitError(
            f"model: no registered model {name!r}; registered: {', '.join(known) or 'none yet'}"
        )


def resolve_version(workspace: Workspace, spec: str) -> VersionInfo:
    """``NAME`` (newest version), ``NAME/VERSION``, ``NAME/latest`` or ``NAME@ALIAS``."""
    if "@" in spec:
        name, _, alias = spec.partition("@")
        model = get_model(workspace, name)
        if alias not in model.aliases:
            shown = ", ".join(f"@{a}" for a in sorted(model.aliases)) or "none"
            raise CockpitError(f"--model: {name} has no alias {alias!r}; aliases: {shown}")
        number = model.aliases[alias]
    else:
        name, _, number = spec.partition("/")
        model = get_model(workspace, name)
    if not model.versions:
        raise CockpitError(f"--model: {name} has no versions yet")
    if not number or number == "latest":  # MLflow's meaning: the newest version
        return max(model.versions, key=lambda v: int(v.version))
    found = model.version(number)
    if found is None:
        listed = ", ".join(sorted((v.version for v in model.versions), key=int))
        raise CockpitError(f"--model: {name} has no version {number}; versions: {listed}")
    return found


def check_alias(alias: str) -> str:
    alias = alias.strip()
    if RESERVED_ALIAS.match(alias):
        raise CockpitError(f"alias {alias!r} is reserved by MLflow; choose another name")
    if not ALIAS_PATTERN.match(alias):
        raise CockpitError(
            f"alias {alias!r}: use letters, digits, '_' or '-', starting with a letter or '_'"
        )
    return alias


def set_alias(workspace: Workspace, name: str, version: str, alias: str) -> VersionInfo:
    """Point ``alias`` at ``version`` (moving it from the version that held it)."""
    alias = check_alias(alias)
    chosen = resolve_version(workspace, f"{name}/{version}")
    registry_client(workspace).set_registered_model_alias(name, alias, chosen.version)
    return chosen


def remove_alias(workspace: Workspace, name: str, alias: str) -> None:
    model = get_model(workspace, name)
    if alias not in model.aliases:
        shown = ", ".join(sorted(model.aliases)) or "none"
        raise CockpitError(f"{name} has no alias {alias!r}; aliases: {shown}")
    registry_client(workspace).delete_registered_model_alias(name, alias)

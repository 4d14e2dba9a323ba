"""Pre-flight checks of a job before it is queued (the CLI and the GUI submit through here).

A :class:`ValidationResult` says whether the job can run (``is_valid``), what stops it
(``errors``), what may go wrong (``warnings``), a ``corrected_config`` (the parameter
changes that would fix what it found: offered, never applied) and the environment it was
checked in (``environment``: library versions, CUDA, free memory and disk). ``strict``
turns warnings into errors.

Checks:
- backend: a GPU-only precision without a GPU; the network's training memory (measured on
  PyTorch's meta device) against the free memory of the GPUs (NVML) or of the machine;
  more parallel tune jobs than the runner has slots;
- environment: the installed versions of the libraries this program declares against
  their declared ranges; free disk against the experiment's checkpoints and artifacts;
- MLflow: the tracking store is reachable and writable, the experiment name (the theme's)
  is usable, and not held by a deleted experiment;
- data: classes with too few images in a split.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import sqlite3
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.config.params import ResolvedParams
from core.data.snapshot import DataSnapshot
from core.errors import CockpitError
from core.workspace import Workspace

DISTRIBUTION = "experiment-cockpit"
CUDA_CONTEXT_BYTES = 600 * 2**20  # CUDA context and kernels, before any tensor
MEMORY_WARN_SHARE = 0.8  # warn above this share of what is free
DISK_SPARE_BYTES = 1 * 2**30  # logs, metrics, MLflow rows, the database growing
MIN_TRAIN_PER_CLASS = 5
MIN_VALID_PER_CLASS = 2
GPU_ONLY_PRECISIONS = ("16-mixed", "16", "16-true")
LIBRARIES = ("torch", "torchvision", "pytorch-lightning", "mlflow", "optuna", "albumentations")


@dataclass
class ValidationResult:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    corrected_config: dict[str, Any] | None = None
    environment: dict[str, str] = field(default_factory=dict)

    @property
    def is_valid(self) -> bool:
        return not self.errors

    def correct(self, key: str, value: Any) -> None:
        self.corrected_config = {**(self.corrected_config or {}), key: value}

    def strict(self) -> ValidationResult:
        """Warnings count as errors."""
        return ValidationResult(
            [*self.errors, *self.warnings], [], self.corrected_config, dict(self.environment)
        )

    def correction_hint(self) -> str:
        if not self.corrected_config:
            return ""
        sets = " ".join(f"--set {k}={v}" for k, v in self.corrected_config.items())
        return f"a corrected configuration (not applied): {sets}"

    def raise_errors(self) -> None:
        """One line per error, each naming its field and the fix."""
        if self.errors:
            raise CockpitError("\n".join(self.errors))

    def as_dict(self) -> dict[str, Any]:
        return {
            "is_valid": self.is_valid,
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "corrected_config": self.corrected_config,
            "environment": dict(self.environment),
        }


def _size(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"


# --- environment -----------------------------------------------------------------------
def _declared_ranges() -> dict[str, str]:
    """This program's declared dependency ranges (its installed metadata)."""
    try:
        requirements = importlib.metadata.requires(DISTRIBUTION) or []
    except importlib.metadata.PackageNotFoundError:
        return {}
    from packaging.requirements import Requirement

    ranges = {}
    for text in requirements:
        requirement = Requirement(text)
        if requirement.marker is not None and "extra" in str(requirement.marker):
            continue
        ranges[requirement.name.lower()] = str(requirement.specifier)
    return ranges


def check_environment(result: ValidationResult) -> None:
    ranges = _declared_ranges()
    for name in LIBRARIES:
        try:
            version = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            result.errors.append(
                f"environment: {name} is not installed; run `make install` (or "
                f"`pip install -e .`) in the cockpit's folder"
            )
            continue
        result.environment[name] = version
        wanted = ranges.get(name.lower())
        if wanted:
            from packaging.specifiers import SpecifierSet

            if version not in SpecifierSet(wanted, prereleases=True):
                result.warnings.append(
                    f"environment: {name} {version} is outside the tested range {wanted}; "
                    "run `make install` to install the tested versions"
                )
    gpus = _gpus()
    result.environment["gpus"] = ", ".join(f"{g.name} ({g.index})" for g in gpus) or "none"
    if "torch" in result.environment:
        import torch

        result.environment["cuda"] = str(torch.version.cuda or "none (CPU build)")
        result.environment["cuda_available"] = str(bool(gpus) and torch.cuda.is_available())


def _gpus() -> list[Any]:
    """The GPUs this process may use: NVML's, less those ``CUDA_VISIBLE_DEVICES`` hides."""
    from core.jobs.gpus import gpu_status

    found = gpu_status()
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return found
    allowed = {part.strip() for part in visible.split(",") if part.strip()}
    return [g for g in found if str(g.index) in allowed]


def _available_memory() -> int:
    import psutil

    return int(psutil.virtual_memory().available)


def check_disk(result: ValidationResult, workspace: Workspace, needed: int, what: str) -> None:
    free = _free_disk(workspace.root)
    result.environment["free_disk"] = _size(free)
    if free < needed:
        result.errors.append(
            f"disk: {_size(free)} free under {workspace.root}; {what} needs about "
            f"{_size(needed)}; free some space (e.g. `cockpit history delete` of old runs)"
        )
    elif free < needed + DISK_SPARE_BYTES:
        result.warnings.append(
            f"disk: only {_size(free)} free under {workspace.root}; {what} needs about "
            f"{_size(needed)} plus room for logs and the stores"
        )


def _free_disk(path: Path) -> int:
    return int(shutil.disk_usage(path).free)


# --- backend ---------------------------------------------------------------------------
def check_backend(
    result: ValidationResult,
    params: Mapping[str, Any],
    footprint: Any | None,
    *,
    parallel_jobs: int = 1,
    cpu_slots: int | None = None,
) -> None:
    gpus = _gpus()
    precision = str(params.get("precision", "auto"))
    if precision in GPU_ONLY_PRECISIONS and not gpus:
        result.errors.append(
            f"params precision: {precision} needs a GPU and this machine has none "
            "(NVML found no NVIDIA GPU); use precision=auto (32-bit on the CPU)"
        )
        result.correct("precision", "auto")
    if footprint is not None:
        batch = int(params.get("batch_size", 32))
        needed = footprint.training_bytes(batch)
        if gpus:
            needed += CUDA_CONTEXT_BYTES
            best = max(gpus, key=lambda g: g.memory_free_mb)
            free = best.memory_free_mb * 2**20
            where = f"GPU {best.index} ({best.name}) has {_size(free)} free"
        else:
            free = _available_memory()
            where = f"the machine has {_size(free)} of memory available"
        result.environment["training_memory_estimate"] = _size(needed)
        if needed > free:
            fitting = _fitting_batch(footprint, free - (CUDA_CONTEXT_BYTES if gpus else 0))
            result.errors.append(
                f"params batch_size: training needs about {_size(needed)} at batch size "
                f"{batch} and {where}; "
                + (
                    f"use batch_size={fitting} or a smaller image_size"
                    if fitting
                    else "use a smaller model or image_size"
                )
            )
            if fitting:
                result.correct("batch_size", fitting)
        elif needed > MEMORY_WARN_SHARE * free:
            result.warnings.append(
                f"params batch_size: training needs about {_size(needed)} and {where}; "
                "other work on the machine may run it out of memory"
            )
    slots = len(gpus) if gpus else (cpu_slots or 1)
    if parallel_jobs > slots:
        unit = "GPU" if gpus else "CPU slot"
        result.warnings.append(
            f"jobs: {parallel_jobs} jobs share the study but the runner runs {slots} at "
            f"once ({slots} {unit}{'' if slots == 1 else 's'}); the others wait"
        )


def _fitting_batch(footprint: Any, free: int) -> int | None:
    batch = 1
    if footprint.training_bytes(1) > free:
        return None
    while batch < 4096 and footprint.training_bytes(batch * 2) <= free:
        batch *= 2
    return batch


# --- MLflow ----------------------------------------------------------------------------
def check_mlflow(result: ValidationResult, workspace: Workspace, experiment_name: str) -> None:
    uri = workspace.mlflow_tracking_uri
    result.environment["mlflow_tracking_uri"] = _masked(uri)
    name = experiment_name
    if not name or len(name) > 500 or name != name.strip():
        result.errors.append(
            f"mlflow: {experiment_name!r} cannot name an MLflow experiment (1-500 "
            "characters, no surrounding spaces); rename the theme"
        )
    if uri.startswith("sqlite:///"):
        _check_sqlite_store(result, Path(uri.removeprefix("sqlite:///")), experiment_name)
    elif uri.startswith(("http://", "https://")):
        _check_tracking_server(result, uri)
    # other stores (a database server): the run's first write reports what is wrong


def _masked(uri: str) -> str:
    if "@" in uri and "://" in uri:
        scheme, rest = uri.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return uri


def _check_sqlite_store(result: ValidationResult, path: Path, experiment_name: str) -> None:
    from core.stores import sqlite_problem

    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        result.errors.append(
            f"mlflow: the tracking store's folder {folder} is not writable; check its "
            "permissions (the store is created there)"
        )
        return
    if not path.exists() or path.stat().st_size == 0:
        return  # created with the first run
    problem = sqlite_problem(path)
    if problem is not None:
        result.errors.append(
            f"mlflow: {path} is not a readable MLflow store ({problem}); restore it from a "
            "backup or rename it (e.g. to mlflow.db.broken) to start an empty store"
        )
        return
    if not os.access(path, os.W_OK):
        result.errors.append(f"mlflow: {path} is read-only; check its permissions")
        return
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            row = connection.execute(
                "SELECT experiment_id, lifecycle_stage FROM experiments WHERE name = ?",
                (experiment_name,),
            ).fetchone()
        finally:
            connection.close()
    except sqlite3.Error:
        return  # no experiments table yet (a new store)
    if row is not None and row[1] == "deleted":
        result.warnings.append(
            f"mlflow: the experiment {experiment_name!r} (id {row[0]}) is deleted in MLflow; "
            "the run restores it (run `mlflow gc` first to start it afresh instead)"
        )


def _check_tracking_server(result: ValidationResult, uri: str) -> None:
    try:
        with urllib.request.urlopen(uri.rstrip("/") + "/health", timeout=5) as answer:
            if answer.status != 200:
                raise urllib.error.URLError(f"HTTP {answer.status}")
    except (OSError, urllib.error.URLError) as exc:
        result.errors.append(
            f"mlflow: the tracking server {_masked(uri)} does not answer ({exc}); start it "
            "or fix the tracking URI in the workspace settings"
        )


# --- data ------------------------------------------------------------------------------
def check_data(result: ValidationResult, snapshot: DataSnapshot) -> None:
    for name, splits in snapshot.counts().items():
        if splits["train"] < MIN_TRAIN_PER_CLASS:
            result.warnings.append(
                f"data: class {name!r} has {splits['train']} train image(s); with fewer than "
                f"{MIN_TRAIN_PER_CLASS} it is learned poorly: label more images"
            )
        if splits["valid"] < MIN_VALID_PER_CLASS:
            result.warnings.append(
                f"data: class {name!r} has {splits['valid']} valid image(s); its validation "
                "metrics will be unstable"
            )


# --- one job ---------------------------------------------------------------------------
def preflight(
    workspace: Workspace,
    theme: str,
    params: ResolvedParams,
    snapshot: DataSnapshot,
    *,
    runs: int = 1,
    parallel_jobs: int = 1,
    strict: bool = False,
    cpu_slots: int | None = None,
) -> ValidationResult:
    """Every check of a job training ``runs`` experiments (a study: its trials) of
    ``params`` on ``theme``."""
    from core.training.footprint import measure

    result = ValidationResult()
    check_environment(result)
    footprint = None
    try:
        footprint = measure(workspace, params, len(snapshot.class_names))
        result.environment["parameters"] = f"{footprint.parameters:,}"
    except CockpitError as exc:
        result.errors.append(str(exc))
    except Exception as exc:  # the definition's own error: the job would fail the same way
        result.errors.append(
            f"model {params.values.get('model')!r} cannot be built with these parameters "
            f"({type(exc).__name__}: {exc}); check the definition and its parameters"
        )
    check_backend(
        result, params.values, footprint, parallel_jobs=parallel_jobs, cpu_slots=cpu_slots
    )
    if footprint is not None:
        what = "the experiment" if runs == 1 else f"{runs} trials"
        check_disk(result, workspace, footprint.disk_bytes() * runs, what)
    check_mlflow(result, workspace, theme)
    check_data(result, snapshot)
    return result.strict() if strict else result

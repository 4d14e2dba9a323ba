"""Files that make a run reproducible, written into ``output/experiments/<id>/record/``
and logged to MLflow: the parameters and augmentations it trained with (the job's frozen
copy, not the workspace's files, which may have changed since submit), the resolved
configuration, the split manifest and the class index map; plus the tags that identify
code and libraries."""

from __future__ import annotations

import csv
import io
import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

import yaml

from core import __version__
from core.fileio import atomic_write_text
from core.hashing import canonicalize
from core.training.builder import ExperimentContext


def write_record(ctx: ExperimentContext) -> list[Path]:
    folder = ctx.experiment_dir / "record"
    folder.mkdir(parents=True, exist_ok=True)
    params = canonicalize(ctx.values, base_dir=ctx.workspace.root)
    frozen = {
        "params.yaml": (
            f"# the parameters experiment {ctx.experiment_id} trained with (all resolved)\n",
            params,
        ),
        "augments.yaml": (
            f"# the augmentations experiment {ctx.experiment_id} trained with\n",
            ctx.params.augments_document,
        ),
    }
    written = []
    for name, (header, document) in frozen.items():
        atomic_write_text(folder / name, header + yaml.safe_dump(document, sort_keys=False))
        written.append(folder / name)
    resolved = {
        "experiment_id": ctx.experiment_id,
        "theme": ctx.theme_name,
        "data_fingerprint": ctx.snapshot.fingerprint(),
        "params": params,
        "sources": ctx.params.sources,
        "augments": ctx.params.augments_document,
        "code": ctx.params.code,
        "registry": ctx.params.registry.model_dump(mode="json"),
        "hashed_keys": list(ctx.params.hashed_keys),
    }
    atomic_write_text(folder / "resolved_config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["train_data_id", "image_path", "label", "split"])
    for item in ctx.snapshot.items:
        writer.writerow(
            [item.train_data_id, item.image_path, ctx.class_names[item.class_index], item.split]
        )
    atomic_write_text(folder / "split_manifest.csv", buffer.getvalue())
    class_map = {str(i): name for i, name in enumerate(ctx.class_names)}
    atomic_write_text(folder / "class_index.json", json.dumps(class_map, indent=2) + "\n")
    written += [
        folder / n for n in ("resolved_config.yaml", "split_manifest.csv", "class_index.json")
    ]
    return written


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def run_tags(ctx: ExperimentContext, job_id: str | None) -> dict[str, str]:
    root = ctx.workspace.root
    commit = _git(root, "rev-parse", "HEAD")
    dirty = _git(root, "status", "--porcelain")
    return {
        "git_commit": commit or "none (workspace is not a git repository)",
        "git_dirty": "unknown" if dirty is None else str(bool(dirty)).lower(),
        "experiment_hash": ctx.experiment_id,
        "theme_id": str(ctx.snapshot.theme_id),
        "theme": ctx.theme_name,
        "job_id": job_id or "foreground",
        "model": ctx.params.choice.model,
        "cockpit_version": __version__,
        "torch_version": _version("torch"),
        "lightning_version": _version("pytorch-lightning"),
        "mlflow_version": _version("mlflow"),
        "python_version": platform.python_version(),
    }

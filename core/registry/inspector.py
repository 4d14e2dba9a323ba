"""``cockpit registry check``: is every registered definition loadable, and is every
definition on disk registered?"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from core.errors import CockpitError
from core.registry.registry import Registry
from core.workspace import Workspace

Status = Literal["ok", "incomplete", "error", "unregistered"]


@dataclass(frozen=True)
class Finding:
    kind: str  # dataset | model | adapter
    name: str  # "images", "resnet", "resnet/classification"
    status: Status
    detail: str


def _folder_of(ref: str) -> str:
    """definitions.models.resnet.model:X -> definitions/models/resnet"""
    module = ref.partition(":")[0]
    return "/".join(module.split(".")[:-1])


def _definition_folders(definitions: Path) -> list[tuple[str, str, str]]:
    """(kind, name, folder relative to the workspace) of every definition folder on disk.

    A folder counts as a definition when it holds a config.py (the file every definition
    has).
    """
    found = []
    root = definitions.parent
    for kind, pattern in (
        ("dataset", "datasets/*/config.py"),
        ("model", "models/*/config.py"),
        ("adapter", "models/*/adapters/*/config.py"),
    ):
        for config in sorted(definitions.glob(pattern)):
            folder = config.parent
            name = (
                folder.name if kind != "adapter" else f"{folder.parent.parent.name}/{folder.name}"
            )
            found.append((kind, name, folder.relative_to(root).as_posix()))
    return found


def check_registry(workspace: Workspace, *, deep: bool = True) -> list[Finding]:
    """Load every registered definition; list definition folders that are not registered.

    ``deep`` also imports model, adapter and datamodule classes (which import torch);
    without it only the configs are loaded, which is fast and torch-free.
    """
    registry = Registry.from_workspace(workspace)
    findings: list[Finding] = []

    def probe(kind: str, name: str, refs: dict[str, str | None]) -> None:
        problems: list[str] = []
        for role, ref in refs.items():
            if ref is None or (role != "config" and not deep):
                continue
            try:
                obj = registry.load_object(ref, f"{kind}s.{name}.{role}")
                if role == "config" and not dataclasses.is_dataclass(obj):
                    problems.append(f"{ref} is not a @dataclass")
                elif not isinstance(obj, type):
                    problems.append(f"{ref} is not a class")
            except CockpitError as exc:
                problems.append(str(exc))
        if problems:
            findings.append(Finding(kind, name, "error", "; ".join(problems)))
        elif kind == "dataset" and refs.get("datamodule") is None:
            findings.append(
                Finding(
                    kind,
                    name,
                    "incomplete",
                    "config loads; no datamodule registered, so it cannot be trained on yet",
                )
            )
        else:
            findings.append(Finding(kind, name, "ok", "loads" if deep else "config loads"))

    for name, entry in registry.file.datasets.items():
        probe("dataset", name, {"config": entry.config, "datamodule": entry.datamodule})
    for name, entry in registry.file.models.items():
        probe("model", name, {"config": entry.config, "model": entry.model})
        for aname, adapter in entry.adapters.items():
            probe(
                "adapter", f"{name}/{aname}", {"config": adapter.config, "adapter": adapter.adapter}
            )

    registered = {_folder_of(ref) for _, ref in registry.file.refs()}
    for kind, name, folder in _definition_folders(workspace.definitions_dir):
        if folder not in registered:
            findings.append(
                Finding(
                    kind,
                    name,
                    "unregistered",
                    f"{folder}/ exists but is not in configs/registry.json",
                )
            )
    return findings

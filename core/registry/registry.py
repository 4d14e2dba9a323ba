"""Look up registered definitions by name and load their classes."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import CockpitError
from core.registry.entries import (
    AdapterEntry,
    DatasetEntry,
    ModelEntry,
    RegistryFile,
    load_registry_file,
)
from core.registry.importer import load_object
from core.workspace import Workspace


def _unknown(kind: str, name: str, known: list[str], registry_path: Path) -> CockpitError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    listed = ", ".join(sorted(known)) or "none"
    return CockpitError(
        f"{kind} {name!r} is not registered in {registry_path}{hint}; registered: {listed}"
    )


@dataclass(frozen=True)
class Registry:
    workspace: Workspace
    file: RegistryFile

    @classmethod
    def from_workspace(cls, workspace: Workspace) -> Registry:
        return cls(workspace, load_registry_file(workspace.registry_file))

    @property
    def path(self) -> Path:
        return self.workspace.registry_file

    def dataset(self, name: str) -> DatasetEntry:
        if name not in self.file.datasets:
            raise _unknown("dataset", name, list(self.file.datasets), self.path)
        return self.file.datasets[name]

    def model(self, name: str) -> ModelEntry:
        if name not in self.file.models:
            raise _unknown("model", name, list(self.file.models), self.path)
        return self.file.models[name]

    def adapter(self, model_name: str, adapter_name: str) -> AdapterEntry:
        adapters = self.model(model_name).adapters
        if adapter_name not in adapters:
            raise _unknown(
                f"adapter of model {model_name!r}", adapter_name, list(adapters), self.path
            )
        return adapters[adapter_name]

    def chosen(self, dataset: str, model: str, adapter: str) -> RegistryFile:
        """Only the entries one experiment uses (what a job freezes at submit)."""
        adapters = {adapter: self.adapter(model, adapter)}
        return RegistryFile(
            datasets={dataset: self.dataset(dataset)},
            models={model: self.model(model).model_copy(update={"adapters": adapters})},
        )

    def load_object(self, ref: str, location: str) -> Any:
        """Import the class named by ``ref``; ``location`` is its place in registry.json."""
        return load_object(self.workspace.root, ref, f"{self.path.name} {location}")

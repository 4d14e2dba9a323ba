"""The schema of ``configs/registry.json``: every dataset, model and adapter by name.

Each reference is ``"dotted.module.path:ClassName"``, the module importable from the
workspace root (``definitions.models.resnet.model:ResNetClassifier``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from core.errors import CockpitError
from core.fileio import load_json_mapping

_REF = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*$")
_NAME = re.compile(r"^[A-Za-z_][\w-]*$")


def _check_ref(value: str) -> str:
    if not _REF.match(value):
        raise ValueError(f"{value!r} is not of the form 'package.module:ClassName'")
    return value


ObjectRef = Annotated[str, AfterValidator(_check_ref)]


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatasetEntry(_Entry):
    config: ObjectRef
    datamodule: ObjectRef | None = Field(
        default=None, description="LightningDataModule class; without it the dataset cannot train"
    )
    plots: str | None = None


class AdapterEntry(_Entry):
    config: ObjectRef
    adapter: ObjectRef
    plots: str | None = None


class ModelEntry(_Entry):
    config: ObjectRef
    model: ObjectRef
    plots: str | None = None
    adapters: dict[str, AdapterEntry] = Field(default_factory=dict)


class RegistryFile(_Entry):
    datasets: dict[str, DatasetEntry] = Field(default_factory=dict)
    models: dict[str, ModelEntry] = Field(default_factory=dict)

    def refs(self) -> list[tuple[str, str]]:
        """Every (location, reference) pair, e.g. ("models.resnet.model", "definitions...")."""
        found: list[tuple[str, str]] = []
        for name, dataset in self.datasets.items():
            found += [(f"datasets.{name}.{k}", v) for k, v in _ref_fields(dataset)]
        for name, model in self.models.items():
            found += [(f"models.{name}.{k}", v) for k, v in _ref_fields(model)]
            for aname, adapter in model.adapters.items():
                found += [
                    (f"models.{name}.adapters.{aname}.{k}", v) for k, v in _ref_fields(adapter)
                ]
        return found


def _ref_fields(entry: _Entry) -> list[tuple[str, str]]:
    return [
        (key, value)
        for key, value in entry.model_dump(exclude={"adapters", "plots"}).items()
        if isinstance(value, str)
    ]


def load_registry_file(path: Path) -> RegistryFile:
    """Parse and validate registry.json; errors name the file and the JSON location."""
    data = load_json_mapping(path, "registry")
    try:
        registry = RegistryFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            message = (
                "unknown key; allowed keys are config, datamodule/model/adapter, plots, adapters"
            )
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise CockpitError(f"{path}: {where}: {message}{more}") from exc
    for kind, names in (("datasets", registry.datasets), ("models", registry.models)):
        for name in names:
            if not _NAME.match(name):
                raise CockpitError(f"{path}: {kind}.{name}: names may use letters, digits, _ and -")
    return registry

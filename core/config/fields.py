"""Introspection of dataclass configs: the fields, their types, defaults and constraints.

Validation (``core.config.params``) and generated forms (the GUI's config editor) both read
parameters through ``param_specs`` so they can never disagree.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

from pydantic.fields import FieldInfo

from core.errors import CockpitError

_MISSING = dataclasses.MISSING


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a definition's config."""

    name: str
    annotation: Any  # the full annotation, Annotated metadata included
    default: Any
    description: str
    owner: str  # e.g. "common", "dataset images", "model resnet"

    @property
    def field_info(self) -> FieldInfo | None:
        for meta in typing.get_args(self.annotation)[1:]:
            if isinstance(meta, FieldInfo):
                return meta
        return None

    @property
    def choices(self) -> tuple[Any, ...] | None:
        """The allowed values of a Literal parameter, else None."""
        base = _strip_annotated(self.annotation)
        if typing.get_origin(base) is typing.Literal:
            return typing.get_args(base)
        return None

    @property
    def bounds(self) -> dict[str, Any]:
        """Numeric bounds declared for the parameter: any of ge, gt, le, lt."""
        info = self.field_info
        found: dict[str, Any] = {}
        for meta in info.metadata if info else ():
            for key in ("ge", "gt", "le", "lt"):
                value = getattr(meta, key, None)
                if value is not None:
                    found[key] = value
        return found

    @property
    def base_type(self) -> Any:
        return _strip_annotated(self.annotation)


def _strip_annotated(annotation: Any) -> Any:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def param_specs(config_cls: type, owner: str) -> list[ParamSpec]:
    """The parameters of a dataclass config, in declaration order."""
    if not dataclasses.is_dataclass(config_cls) or not isinstance(config_cls, type):
        raise CockpitError(
            f"{owner}: config {getattr(config_cls, '__qualname__', config_cls)!r} must be a "
            "@dataclass class"
        )
    try:
        hints = typing.get_type_hints(config_cls, include_extras=True)
    except Exception as exc:  # a NameError in a string annotation, say
        raise CockpitError(
            f"{owner}: cannot read the field types of {config_cls.__name__}: {exc}"
        ) from exc
    specs = []
    for field in dataclasses.fields(config_cls):
        if field.default is not _MISSING:
            default = field.default
        elif field.default_factory is not _MISSING:
            default = field.default_factory()
        else:
            raise CockpitError(
                f"{owner}: field {field.name!r} of {config_cls.__name__} needs a default value"
            )
        annotation = hints[field.name]
        info = next((m for m in typing.get_args(annotation)[1:] if isinstance(m, FieldInfo)), None)
        description = (info.description if info else None) or field.metadata.get("help", "")
        specs.append(ParamSpec(field.name, annotation, default, description, owner))
    return specs

"""Shared helpers to validate a YAML file against a pydantic model with one-line errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from core.errors import CockpitError

M = TypeVar("M", bound=BaseModel)


def location(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts) or "(top level)"


def validation_lines(path: Path | str, exc: ValidationError) -> list[str]:
    lines = []
    for error in exc.errors():
        # discriminated unions put the tag in the location: drop it for readability
        loc = tuple(p for p in error["loc"] if p not in ("float", "int", "categorical"))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        got = error.get("input")
        suffix = "" if error["type"] in ("extra_forbidden", "missing") else f"; got {got!r}"
        lines.append(f"{path}: {location(loc)}: {message}{suffix}")
    return lines


def validate_document(model: type[M], data: dict[str, Any], path: Path | str) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise CockpitError("\n".join(validation_lines(path, exc))) from exc

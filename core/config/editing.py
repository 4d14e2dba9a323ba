"""Checking configuration text as it is being edited (the GUI's configuration editor).

The same validation as ``resolve_params`` and ``cockpit config check``, but on text that
is not saved yet, with each problem tied to the parameter it is about, so an editor can
show the message next to the field. Also: small, comment-preserving edits of the flat
``params.yaml`` document (one top-level ``key: value`` per parameter).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import ValidationError

from core.config.augments import AugmentsConfig, try_train_transforms
from core.config.common import CommonConfig
from core.config.fields import ParamSpec
from core.config.optuna_params import OptunaParams, check_against_params
from core.config.params import (
    SELECTOR_KEYS,
    DefinitionChoice,
    ResolvedParams,
    choose_definitions,
    merged_specs,
    resolve_params,
)
from core.config.yaml_schema import validate_document
from core.errors import CockpitError
from core.fileio import parse_yaml_mapping
from core.registry import Registry
from core.workspace import Workspace


@dataclass(frozen=True)
class ParamsCheck:
    """The outcome of checking a params.yaml text."""

    mapping: dict[str, Any] | None  # None: the YAML itself is malformed
    specs: dict[str, ParamSpec]  # of the chosen definitions (Common only if they fail)
    choice: DefinitionChoice | None
    resolved: ResolvedParams | None  # None while anything is invalid
    field_errors: dict[str, str] = field(default_factory=dict)  # parameter -> message
    errors: list[str] = field(default_factory=list)  # problems of no single parameter

    @property
    def ok(self) -> bool:
        return self.resolved is not None

    def shown_values(self) -> dict[str, Any]:
        """What each parameter's field shows: the document's value, else the default."""
        mapping = self.mapping or {}
        return {k: mapping.get(k, spec.default) for k, spec in self.specs.items()}


def _common_specs() -> dict[str, ParamSpec]:
    return merged_specs((("common", CommonConfig),))


def _split_error(line: str, label: str, keys: list[str]) -> tuple[str | None, str]:
    for key in keys:
        prefix = f"{label}: {key}: "
        if line.startswith(prefix):
            return key, line.removeprefix(prefix)
    return None, line


def check_params_text(workspace: Workspace, text: str, label: str = "params.yaml") -> ParamsCheck:
    """Validate a params.yaml text exactly as ``resolve_params`` validates the file."""
    try:
        mapping = parse_yaml_mapping(text, label)
    except CockpitError as exc:
        return ParamsCheck(None, _common_specs(), None, None, errors=[str(exc)])
    sources = dict.fromkeys(mapping, label)
    try:
        choice = choose_definitions(Registry.from_workspace(workspace), mapping, sources)
    except CockpitError as exc:
        field_errors: dict[str, str] = {}
        errors: list[str] = []
        for line in str(exc).splitlines():
            key, message = _split_error(line, label, list(SELECTOR_KEYS))
            if key is None:
                errors.append(message)
            else:
                field_errors[key] = message
        return ParamsCheck(mapping, _common_specs(), None, None, field_errors, errors)
    specs = merged_specs(choice.config_classes)
    try:
        resolved = resolve_params(workspace, base=mapping, base_label=label, read_params_file=False)
    except CockpitError as exc:
        return ParamsCheck(mapping, specs, choice, None, *_attribute(exc, label, specs))
    return ParamsCheck(mapping, specs, choice, resolved)


def _attribute(
    exc: CockpitError, label: str, specs: Mapping[str, ParamSpec]
) -> tuple[dict[str, str], list[str]]:
    """Each message line of a validation error, tied to its parameter where it has one."""
    lines = str(exc).splitlines()
    cause = exc.__cause__
    field_errors: dict[str, str] = {}
    errors: list[str] = []
    if isinstance(cause, ValidationError) and len(cause.errors()) == len(lines):
        # validate_params writes one line per pydantic error, in the same order
        for error, line in zip(cause.errors(), lines, strict=True):
            key = str(error["loc"][0]) if error["loc"] else None
            if key in specs and error["type"] != "extra_forbidden":
                field_errors.setdefault(key, line.removeprefix(f"{label}: {key}: "))
            else:
                errors.append(line)
        return field_errors, errors
    for line in lines:
        key, message = _split_error(line, label, list(specs))
        if key is None:
            errors.append(message)
        else:
            field_errors.setdefault(key, message)
    return field_errors, errors


def check_augments_text(
    text: str, label: str = "augments.yaml", *, try_transforms: bool = False
) -> list[str]:
    """Problems of an augments.yaml text: its structure; with ``try_transforms`` also
    each transform built and run once on a tiny image, as ``cockpit config check`` does
    (imports albumentations and torch: a second or two the first time)."""
    try:
        config = validate_document(AugmentsConfig, parse_yaml_mapping(text, label), label)
        if try_transforms:
            try_train_transforms(config, label)
    except CockpitError as exc:
        return str(exc).splitlines()
    return []


def check_optuna_text(
    text: str, resolved: ResolvedParams | None, label: str = "optuna_params.yaml"
) -> tuple[OptunaParams | None, list[str]]:
    """The study configuration of an optuna_params.yaml text, or its problems; the search
    space is checked against the parameters when they are valid."""
    try:
        config = validate_document(OptunaParams, parse_yaml_mapping(text, label), label)
        if resolved is not None:
            check_against_params(config, resolved, label)
    except CockpitError as exc:
        return None, str(exc).splitlines()
    return config, []


# --- editing the flat params.yaml text ---------------------------------------------------
_TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w.-]*)\s*:(?P<rest>.*)$")


def yaml_value_text(value: Any) -> str:
    """A value as one line of YAML (flow style): 0.001, adam, [0.7, 0.15, 0.15], 'yes'."""
    if isinstance(value, tuple):
        value = list(value)
    dumped = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def _entry_span(lines: list[str], key: str) -> tuple[int, int] | None:
    """First and one-past-last line of top-level ``key`` (its value may span lines)."""
    for index, line in enumerate(lines):
        match = _TOP_KEY.match(line)
        if match and match["key"] == key:
            end = index + 1
            while end < len(lines) and (lines[end][:1] in (" ", "\t", "-")):
                end += 1
            return index, end
    return None


def _trailing_comment(rest: str) -> str:
    """`` # comment`` at the end of a one-line value, kept when the value changes."""
    match = re.search(r"\s+#.*$", rest)
    if match and rest.count("'") % 2 == 0 and rest.count('"') % 2 == 0:
        before = rest[: match.start()]
        if before.count("'") % 2 == 0 and before.count('"') % 2 == 0:
            return match.group(0)
    return ""


def set_top_level_value(text: str, key: str, value: Any) -> str:
    """``text`` with top-level ``key`` set to ``value``; other lines and comments stay."""
    lines = text.splitlines()
    span = _entry_span(lines, key)
    new_line = f"{key}: {yaml_value_text(value)}"
    if span is None:
        if lines and lines[-1].strip() == "":
            lines[-1:] = [new_line]
        else:
            lines.append(new_line)
        return "\n".join(lines) + "\n"
    start, end = span
    match = _TOP_KEY.match(lines[start])
    comment = _trailing_comment(match["rest"]) if match and end == start + 1 else ""
    lines[start:end] = [new_line + comment]
    return "\n".join(lines) + "\n"

"""``--set key=value`` overrides: parsed once, typed by the parameter they override."""

from __future__ import annotations

import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import yaml

from core.errors import CockpitError


@dataclass(frozen=True)
class Override:
    key: str
    raw: str

    @property
    def label(self) -> str:
        return f"--set {self.key}={self.raw}"

    def typed_value(self, target_type: Any) -> Any:
        """The value converted for a parameter of ``target_type``.

        Text parameters take the text as written (``--set run_name=007`` stays "007");
        everything else is read as a YAML scalar or list, so ``lr=1e-3``, ``max_epochs=20``,
        ``pretrained=true`` and ``split_ratios=[0.8,0.1,0.1]`` get their natural types, which
        validation then checks against the parameter's declared type and range.
        """
        if _is_text(target_type):
            return self.raw
        try:
            return yaml.safe_load(self.raw) if self.raw.strip() else self.raw
        except yaml.YAMLError:
            return self.raw


def _is_text(annotation: Any) -> bool:
    if annotation is str:
        return True
    if typing.get_origin(annotation) is typing.Literal:
        return all(isinstance(choice, str) for choice in typing.get_args(annotation))
    return False


def parse_overrides(items: Iterable[str]) -> list[Override]:
    parsed = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise CockpitError(f"--set {item!r}: expected key=value, e.g. --set lr=0.01")
        parsed.append(Override(key, raw.strip()))
    return parsed

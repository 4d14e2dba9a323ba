"""Run names a person can tell apart: the user's ``run_name``, else the parameters that
differ from the definitions' defaults, short and in a fixed order ("lr=0.01 bs=64").

A run name is a label only: it never enters the experiment id (``run_name`` is one of
``core.hashing.UNHASHED_KEYS``; a derived name is never written into the parameters).
The same parameters always give the same name, whatever order they were written in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from core.hashing import canonicalize

#: short spellings of the common parameters (others keep their own name)
ABBREVIATIONS: Mapping[str, str] = {
    "batch_size": "bs",
    "learning_rate": "lr",
    "weight_decay": "wd",
    "optimizer": "opt",
    "scheduler": "sched",
    "max_epochs": "epochs",
    "early_stopping_patience": "patience",
    "image_size": "size",
    "momentum": "mom",
    "patch_grid": "grid",
    "brightness": "bright",
}
#: the order parts appear in (then the rest alphabetically): what people change most first
ORDER = (
    "model",
    "lr",
    "learning_rate",
    "batch_size",
    "optimizer",
    "weight_decay",
    "scheduler",
    "momentum",
    "image_size",
    "max_epochs",
    "seed",
)
#: parameters that do not say what is learned: left out of derived names
LEFT_OUT = frozenset(
    {"run_name", "dataset", "adapter", "num_workers", "cache_preprocessed", "registration"}
)
MAX_PARTS = 4
MAX_VALUE_CHARS = 16
DEFAULTS_NAME = "defaults"


def format_param_value(value: Any) -> str:
    """A parameter's value, short: 0.001, 1e-05, 64, adam, 3,5 (lists), true."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        return ",".join(format_param_value(v) for v in value)
    if isinstance(value, Mapping):
        return ",".join(f"{k}:{format_param_value(v)}" for k, v in sorted(value.items()))
    text = re.sub(r"\s+", "_", str(value).strip())
    # text values are user text: keep them short and on one line
    text = "".join(c for c in text if c.isprintable())
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "…"


def _rank(key: str) -> tuple[int, str]:
    return (ORDER.index(key) if key in ORDER else len(ORDER), key)


def differing_params(values: Mapping[str, Any], defaults: Mapping[str, Any]) -> list[str]:
    """The keys of ``values`` whose value is not the default (canonical comparison, so 1e-3
    equals 0.001), in name order; keys without a known default are left out."""
    keys = []
    for key, value in values.items():
        if key in LEFT_OUT or key not in defaults:
            continue
        if canonicalize(value) == canonicalize(defaults[key]):
            continue
        keys.append(key)
    return sorted(keys, key=_rank)


def derived_run_name(
    values: Mapping[str, Any], defaults: Mapping[str, Any], *, max_parts: int = MAX_PARTS
) -> str:
    """``"lr=0.01 bs=64"``: the parameters that differ from ``defaults``; ``"defaults"``
    when none does; ``"… +2"`` when more than ``max_parts`` do."""
    keys = differing_params(values, defaults)
    if not keys:
        return DEFAULTS_NAME
    parts = [f"{ABBREVIATIONS.get(k, k)}={format_param_value(values[k])}" for k in keys]
    if len(parts) > max_parts:
        parts = [*parts[:max_parts], f"+{len(parts) - max_parts}"]
    return " ".join(parts)


def spec_defaults(specs: Mapping[str, Any]) -> dict[str, Any]:
    """The defaults of ``ResolvedParams.specs`` (name -> ParamSpec)."""
    return {name: spec.default for name, spec in specs.items()}


def run_name_of(params: Any) -> str:
    """The name of a run of ``params`` (a ResolvedParams): its ``run_name`` when the user
    gave one, else derived from what differs from the chosen definitions' defaults."""
    given = str(params.values.get("run_name") or "")
    return given or derived_run_name(params.values, spec_defaults(params.specs))


def common_defaults() -> dict[str, Any]:
    """Defaults of the parameters every experiment has (to name a recorded run without
    loading its definitions)."""
    import dataclasses

    from core.config.common import CommonConfig

    return {
        f.name: f.default
        for f in dataclasses.fields(CommonConfig)
        if f.default is not dataclasses.MISSING
    }

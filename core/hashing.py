"""The experiment id: SHA-256 of a canonical serialisation of everything that changes the
trained weights: the resolved parameters, the augmentations, the source of the registered
definitions and the data-snapshot fingerprint (see docs/experiment-id.md).

Same id = the same experiment (resume, or add epochs); any other change = a new one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import enum
import hashlib
import json
import math
import unicodedata
from collections.abc import Collection, Mapping, Set
from pathlib import PurePath
from typing import Any

HASH_SCHEMA_VERSION = 2
ID_LENGTH = 12

#: Parameters that say how long or under which label to run, not what is learned.
#: Changing them continues the same experiment instead of starting a new one.
UNHASHED_KEYS: Mapping[str, str] = {
    "max_epochs": "how long to train: a larger value adds epochs to the same experiment",
    "run_name": "a label for MLflow, not a training setting",
    "registration": "whether the result enters the model registry, not how it is trained",
    "cache_preprocessed": "where decoded images come from (cache or file), not what they are",
    "cache_memory_mb": "how much of the image cache stays in memory, not what it holds",
}


def _normalise_float(value: float) -> Any:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value.is_integer():
        return int(value)  # 1.0 and 1 are the same setting; -0.0 becomes 0
    return float(repr(value))  # shortest round-trip form: 1e-3 == 0.001 == 0.0010


def canonicalize(value: Any, *, base_dir: PurePath | None = None) -> Any:
    """A JSON-ready form of ``value`` in which equivalent spellings are equal.

    Mappings get text keys (sorted when dumped); tuples, lists and sets become lists (sets
    sorted); integral floats become ints; text is Unicode-NFC; paths become POSIX text,
    relative to ``base_dir`` when inside it; enums their value; dataclasses their fields.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return _normalise_float(value)
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, enum.Enum):
        return canonicalize(value.value, base_dir=base_dir)
    if isinstance(value, PurePath):
        if base_dir is not None and value.is_absolute():
            with contextlib.suppress(ValueError):
                value = value.relative_to(base_dir)
        return unicodedata.normalize("NFC", value.as_posix())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return canonicalize(dataclasses.asdict(value), base_dir=base_dir)
    if isinstance(value, Mapping):
        return {str(k): canonicalize(v, base_dir=base_dir) for k, v in value.items()}
    if isinstance(value, Set):
        items = [canonicalize(v, base_dir=base_dir) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    if isinstance(value, list | tuple):
        return [canonicalize(v, base_dir=base_dir) for v in value]
    item = getattr(value, "item", None)  # numpy scalars
    if callable(item):
        return canonicalize(item(), base_dir=base_dir)
    raise TypeError(
        f"cannot canonicalise a {type(value).__name__} for the experiment id: {value!r}"
    )


def canonical_json(
    params: Mapping[str, Any],
    data_fingerprint: Mapping[str, Any] | str | None = None,
    *,
    augments: Mapping[str, Any] | None = None,
    code: Mapping[str, str] | None = None,
    hashed_keys: Collection[str] = (),
    base_dir: PurePath | None = None,
) -> str:
    """The exact text that is hashed: schema version, hashed parameters, augmentations,
    definitions' source digests and data fingerprint.

    ``hashed_keys`` names keys of ``UNHASHED_KEYS`` that count here after all (a study
    that searches ``max_epochs``: its trials must never share weights).
    """
    document = {
        "schema": HASH_SCHEMA_VERSION,
        "params": {k: v for k, v in params.items() if k not in UNHASHED_KEYS or k in hashed_keys},
        "augments": augments,
        "code": code,
        "data": data_fingerprint,
    }
    return json.dumps(
        canonicalize(document, base_dir=base_dir),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
    )


def experiment_id(
    params: Mapping[str, Any],
    data_fingerprint: Mapping[str, Any] | str | None = None,
    *,
    augments: Mapping[str, Any] | None = None,
    code: Mapping[str, str] | None = None,
    hashed_keys: Collection[str] = (),
    base_dir: PurePath | None = None,
) -> str:
    """The first 12 hex digits of SHA-256 over ``canonical_json``."""
    text = canonical_json(
        params,
        data_fingerprint,
        augments=augments,
        code=code,
        hashed_keys=hashed_keys,
        base_dir=base_dir,
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_LENGTH]

"""Experiment identity: the deterministic id of a configuration plus a data snapshot."""

from core.experiment.hashing import (
    HASH_SCHEMA_VERSION,
    UNHASHED_KEYS,
    canonical_json,
    canonicalize,
    experiment_id,
)

__all__ = [
    "HASH_SCHEMA_VERSION",
    "UNHASHED_KEYS",
    "canonical_json",
    "canonicalize",
    "experiment_id",
]

"""The explicit registry of datasets, models and adapters (``configs/registry.json``)."""

from core.registry.entries import AdapterEntry, DatasetEntry, ModelEntry, RegistryFile
from core.registry.inspector import Finding, check_registry
from core.registry.registry import Registry

__all__ = [
    "AdapterEntry",
    "DatasetEntry",
    "Finding",
    "ModelEntry",
    "Registry",
    "RegistryFile",
    "check_registry",
]

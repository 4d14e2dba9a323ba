"""User definitions: datasets, models and their adapters (see configs/registry.json)."""

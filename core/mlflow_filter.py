"""MLflow searches by a value a user chose, without ever breaking MLflow's filter grammar.

MLflow's filter parser (``mlflow.utils.search_utils``, built on sqlparse) takes a string
value in single or double quotes and strips them without unescaping anything: there is
no escape for a quote inside the value, and a backslash before the closing quote
escapes it. So a value is quoted with the kind of quote it does not contain; a value with
both kinds, or with a backslash, cannot be written in a filter at all, and those searches
list every entry and compare in Python instead (slower on a big registry, never wrong).
"""

from __future__ import annotations

from typing import Any


def filter_literal(value: str) -> str | None:
    """``value`` as a quoted string of MLflow's filter grammar, or None when the grammar
    cannot express it."""
    if "\\" in value or any(ord(c) < 32 for c in value):
        return None
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return None


def equals(key: str, value: str) -> str | None:
    """The filter ``key = value``, or None when ``value`` cannot be written in one."""
    literal = filter_literal(value)
    return None if literal is None else f"{key} = {literal}"


def model_versions(client: Any, name: str) -> list[Any]:
    """Every version of the registered model ``name`` (an empty list when there is none)."""
    clause = equals("name", name)
    if clause is not None:
        return list(client.search_model_versions(clause))
    return [v for v in _all_model_versions(client) if v.name == name]


def model_versions_of_run(client: Any, run_id: str) -> list[Any]:
    """Every registered version whose source is the run ``run_id``."""
    clause = equals("run_id", run_id)
    if clause is not None:
        return list(client.search_model_versions(clause))
    return [v for v in _all_model_versions(client) if v.run_id == run_id]


def _all_model_versions(client: Any) -> list[Any]:
    versions: list[Any] = []
    token = None
    while True:
        page = client.search_model_versions(max_results=1000, page_token=token)
        versions.extend(page)
        token = getattr(page, "token", None)
        if not token:
            return versions

"""The one rule for names a user chooses that end up in paths, file names or MLflow:
themes, labels, studies, run names, registered models, experiment folders.

A name is 1-64 characters of letters (any language, with their accents and marks),
digits, spaces and ``_ - . '``; it starts with a letter, a digit or ``_`` (so never ``.``,
``..``, a hidden file or a path) and does not end with a dot or a space (Windows drops
them). No ``/``, ``\\``, quotes other than ``'``, ``<``, ``>`` or control characters.

The rule applies to new names only: a theme or label stored before it stays readable
and usable under its old name; only creating or renaming to a bad name is refused.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from core.errors import CockpitError

MAX_LENGTH = 64
PUNCTUATION = frozenset(" _-.'")
NAME_RULE = (
    f"use 1-{MAX_LENGTH} letters, digits, spaces or _ - . ' starting with a letter, "
    "digit or _ and not ending with . or a space"
)


def _allowed(char: str) -> bool:
    return char in PUNCTUATION or unicodedata.category(char)[0] in "LMN"


def name_problem(name: str) -> str | None:
    """Why ``name`` breaks the rule (a few words), or None when it is a good name."""
    if not name:
        return "it is empty"
    if len(name) > MAX_LENGTH:
        return f"it has {len(name)} characters"
    bad = sorted({c for c in name if not _allowed(c)})
    if bad:
        return "it contains " + " ".join(repr(c) for c in bad)
    first = name[0]
    if not (first == "_" or unicodedata.category(first)[0] in "LN"):
        return f"it starts with {first!r}"
    if name[-1] in ". ":
        return f"it ends with {name[-1]!r}"
    return None


def is_valid_name(name: str) -> bool:
    return name_problem(name) is None


def check_name(field: str, name: str, *, note: str = "") -> str:
    """``name`` without surrounding spaces, or a CockpitError naming ``field`` and the rule.

    ``field`` says where the name came from, e.g. ``"theme name"`` or
    ``"optuna_params.yaml study.name"``.
    """
    if not isinstance(name, str):
        raise CockpitError(f"{field}: expected text, got {type(name).__name__}")
    stripped = name.strip()
    problem = name_problem(stripped)
    if problem is not None:
        tail = f" {note}" if note else ""
        raise CockpitError(f"{field} {name!r} is not allowed ({problem}): {NAME_RULE}{tail}")
    return stripped


def check_optional_name(field: str, name: str) -> str:
    """Like check_name, but empty means "automatic" and passes (e.g. params ``run_name``)."""
    return "" if name == "" else check_name(field, name)


def inside(root: Path, path: Path, field: str) -> Path:
    """``path`` itself, or a CockpitError when, resolved, it would lie outside ``root`` (a
    name that became a path must never write elsewhere, whatever rule let it through)."""
    resolved_root = Path(root).resolve()
    resolved = Path(path).resolve()
    if resolved != resolved_root and resolved_root not in resolved.parents:
        raise CockpitError(
            f"{field}: {path} would lie outside {resolved_root}; "
            "use a name without '/', '\\' or '..'"
        )
    return Path(path)

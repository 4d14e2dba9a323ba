"""The source files of registered definitions, checked and digested without importing
them: a registry entry naming a missing module, a file that does not parse or a class it
does not define is found at submit without paying for torch; the digests make a changed
definition a new experiment (docs/experiment-id.md)."""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Iterable
from pathlib import Path

from core.errors import CockpitError

DIGEST_LENGTH = 16


def module_file(root: Path, module_name: str) -> Path | None:
    """``definitions.models.x.model`` -> ``<root>/definitions/models/x/model.py`` (or the
    package's ``__init__.py``); None when neither exists."""
    base = root.joinpath(*module_name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _defines(tree: ast.Module, name: str) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                if alias.name == "*" or (alias.asname or alias.name.split(".")[0]) == name:
                    return True
        elif isinstance(node, ast.If | ast.Try):
            return True  # conditional definitions: only importing the module can tell
    return any(isinstance(n, ast.FunctionDef) and n.name == "__getattr__" for n in tree.body)


def check_source(root: Path, ref: str, location: str) -> Path:
    """The file of ``"package.module:Name"``: it exists, parses and defines ``Name``."""
    module_name, _, attr = ref.partition(":")
    hint = Path(*module_name.split(".")).with_suffix(".py").as_posix()
    path = module_file(root, module_name)
    if path is None:
        raise CockpitError(
            f"{location}: module {module_name!r} not found: expected the file {hint} "
            f"(with __init__.py in each folder) in workspace {root}; fix configs/registry.json"
        )
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except SyntaxError as exc:
        raise CockpitError(
            f"{location}: {hint} line {exc.lineno}: SyntaxError: {exc.msg}; fix the file"
        ) from exc
    if attr and not _defines(tree, attr):
        raise CockpitError(
            f"{location}: {hint} has no {attr!r}; fix the name in configs/registry.json"
        )
    return path


def source_digests(root: Path, refs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """``{module name: digest of its source}`` of each (location, reference), checked
    with ``check_source``. Line endings are normalised so a checkout on Windows keeps ids."""
    digests: dict[str, str] = {}
    for location, ref in refs:
        path = check_source(root, ref, location)
        text = path.read_bytes().replace(b"\r\n", b"\n")
        digests[ref.partition(":")[0]] = hashlib.sha256(text).hexdigest()[:DIGEST_LENGTH]
    return dict(sorted(digests.items()))

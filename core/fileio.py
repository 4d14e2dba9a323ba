"""File reads and writes that fail with a clear message and never leave half a file."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

from core.errors import CockpitError


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to ``path`` so that a crash leaves either the old or the new file
    (see :func:`atomic_write_bytes`); the text is written as given, newlines included."""
    atomic_write_bytes(path, text.encode(encoding))


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old or the new file.

    The data goes to a temporary file in the same folder, is fsynced, then renamed over
    ``path``; the folder is fsynced so the rename itself survives a power cut. A full disk
    or a crash mid-write leaves the previous file whole and no temporary file behind."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise CockpitError(
            f"cannot write {path}: {exc.strerror or exc}; the previous file is unchanged "
            "(check free disk space and permissions)"
        ) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise CockpitError(
            f"cannot write {path}: {exc.strerror or exc}; the previous file is unchanged "
            "(check free disk space and permissions)"
        ) from exc
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def replace_durably(written: Path, path: Path) -> None:
    """Rename the finished file ``written`` over ``path`` (same folder) so that a power cut
    leaves the old or the new file, never an empty one: its data reaches the disk first."""
    with open(written, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(written, path)
    _fsync_dir(Path(path).parent)


def _fsync_dir(folder: Path) -> None:
    try:
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: folders cannot be opened; the rename is still atomic
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n")


def read_text(path: Path, what: str) -> str:
    """The text of ``path``, or a CockpitError naming the file and what to do."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CockpitError(
            f"{what} {path} does not exist; create it or run `cockpit init`"
        ) from exc
    except UnicodeDecodeError as exc:
        raise CockpitError(f"{what} {path} is not UTF-8 text; save it as UTF-8") from exc
    except OSError as exc:
        raise CockpitError(f"cannot read {what} {path}: {exc.strerror or exc}") from exc


def load_yaml_mapping(path: Path, what: str, *, missing_ok: bool = False) -> dict[str, Any]:
    """Load a YAML file whose top level must be a mapping (or empty)."""
    path = Path(path)
    if missing_ok and not path.exists():
        return {}
    return parse_yaml_mapping(read_text(path, what), str(path))


class DuplicateKeyError(yaml.constructor.ConstructorError):
    """A mapping that names the same key twice (PyYAML would keep the last silently)."""


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that refuses a key given twice in one mapping: a user who
    pastes a second ``lr:`` line would otherwise train with whichever came last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _value in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:
                continue  # an unhashable key: construct_mapping below reports it
            if first is not key_node:
                raise DuplicateKeyError(
                    None,
                    None,
                    f"duplicate key {key!r} (first given on line {first.start_mark.line + 1}); "
                    "keep one of them",
                    key_node.start_mark,
                )
        return super().construct_mapping(node, deep=deep)


def safe_load_yaml(text: str) -> Any:
    """``yaml.safe_load`` that refuses duplicate keys (the one YAML reader of user files)."""
    return yaml.load(text, Loader=UniqueKeyLoader)  # a SafeLoader subclass: no objects


def parse_yaml_mapping(text: str, label: str) -> dict[str, Any]:
    """The mapping a YAML text holds (``label`` names it in messages: a file, an editor
    tab); a CockpitError with the line and column otherwise."""
    try:
        data = safe_load_yaml(text)
    except DuplicateKeyError as exc:
        mark = exc.problem_mark
        raise CockpitError(
            f"{label}: line {mark.line + 1}, column {mark.column + 1}: {exc.problem}"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise CockpitError(f"{label}:{where} invalid YAML ({problem}); fix the syntax") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CockpitError(
            f"{label}: the top level must be a mapping of `key: value` lines, "
            f"not a {type(data).__name__}"
        )
    for key in data:
        if not isinstance(key, str):
            raise CockpitError(
                f"{label}: key {key!r} must be a name (text), not {type(key).__name__}"
            )
    return data


def load_json_mapping(path: Path, what: str) -> dict[str, Any]:
    text = read_text(path, what)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CockpitError(
            f"{path}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg}); "
            "fix the syntax"
        ) from exc
    if not isinstance(data, dict):
        raise CockpitError(f"{path}: the top level must be a JSON object")
    return data

"""Import user definitions (``definitions/...``) from one workspace.

Definitions are ordinary packages below the workspace root. The root goes first on
``sys.path``; when a process switches workspace (tests, the GUI's workspace chooser), the
``definitions`` modules of the previous one are dropped so nothing stale is reused.
"""

from __future__ import annotations

import importlib
import sys
import threading
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from core.errors import CockpitError

_TOP = "definitions"
_lock = threading.RLock()


def _module_file_hint(module_name: str) -> str:
    return (Path(*module_name.split(".")).with_suffix(".py")).as_posix()


def _activate(root: Path) -> None:
    root_text = str(root)
    loaded = sys.modules.get(_TOP)
    loaded_from = getattr(loaded, "__path__", None)
    if loaded is not None and (not loaded_from or Path(next(iter(loaded_from))).parent != root):
        for name in [n for n in sys.modules if n == _TOP or n.startswith(_TOP + ".")]:
            del sys.modules[name]
    if root_text in sys.path:
        sys.path.remove(root_text)
    sys.path.insert(0, root_text)
    importlib.invalidate_caches()


def import_definition_module(root: Path, module_name: str, location: str) -> ModuleType:
    """Import ``module_name`` from the workspace at ``root``; ``location`` names the caller.

    Raises CockpitError naming the expected file when the module is missing or fails to
    import (with the line that failed).
    """
    with _lock:
        _activate(root)
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
                raise CockpitError(
                    f"{location}: module {module_name!r} not found: expected the file "
                    f"{_module_file_hint(module_name)} (with __init__.py in each folder) "
                    f"in workspace {root}"
                ) from exc
            raise CockpitError(
                f"{location}: {_module_file_hint(module_name)} imports {exc.name!r}, "
                "which is not installed; install it or fix the import"
            ) from exc
        except Exception as exc:
            frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
            where = f" ({Path(frame.filename).name} line {frame.lineno})" if frame else ""
            if isinstance(exc, SyntaxError) and exc.lineno:
                where = f" ({Path(exc.filename or '').name} line {exc.lineno})"
            raise CockpitError(
                f"{location}: importing {_module_file_hint(module_name)} failed{where}: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    module_file = getattr(module, "__file__", None)
    if module_file and not Path(module_file).resolve().is_relative_to(root):
        raise CockpitError(
            f"{location}: module {module_name!r} was found at {module_file}, outside the "
            f"workspace {root}; rename the folder or fix configs/registry.json"
        )
    return module


def load_object(root: Path, ref: str, location: str) -> Any:
    """The object named by ``"package.module:Name"``, imported from the workspace."""
    module_name, _, attr = ref.partition(":")
    module = import_definition_module(root, module_name, location)
    try:
        return getattr(module, attr)
    except AttributeError:
        defined = sorted(
            n
            for n, v in vars(module).items()
            if isinstance(v, type) and getattr(v, "__module__", None) == module.__name__
        )
        raise CockpitError(
            f"{location}: {_module_file_hint(module_name)} has no {attr!r}"
            + (f" (it defines: {', '.join(defined)})" if defined else "")
            + "; fix the name in configs/registry.json"
        ) from None

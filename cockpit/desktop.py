"""``cockpit desktop-install``: a freedesktop launcher, so the cockpit appears in the
desktop's application menu with its icon and opens a chosen workspace.

Writes ``$XDG_DATA_HOME/applications/experiment-cockpit.desktop`` (default
``~/.local/share``) and the icon ``icons/hicolor/scalable/apps/experiment-cockpit.svg``
beside it; ``--uninstall`` removes exactly these two files. Imports no Qt.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from core.errors import CockpitError
from core.fileio import atomic_write_text

APP_ID = "experiment-cockpit"
ICON = Path(__file__).resolve().parent / "resources" / f"{APP_ID}.svg"


@dataclass(frozen=True)
class DesktopFiles:
    launcher: Path
    icon: Path


def data_home(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    value = env.get("XDG_DATA_HOME", "").strip()
    return Path(value) if value else Path.home() / ".local" / "share"


def desktop_files(environ: dict[str, str] | None = None) -> DesktopFiles:
    home = data_home(environ)
    return DesktopFiles(
        home / "applications" / f"{APP_ID}.desktop",
        home / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
    )


def quote_exec_argument(argument: str) -> str:
    """One argument of an ``Exec`` key (Desktop Entry Specification): quoted when it holds
    a reserved character, with ``"`` `` ` `` ``$`` and ``\\`` escaped inside the quotes;
    ``%`` doubled, since a single one starts a field code."""
    argument = argument.replace("%", "%%")
    reserved = set(" \t\n\"'\\><~|&;$*?#()`")
    if not any(ch in reserved for ch in argument):
        return argument
    escaped = "".join("\\" + ch if ch in '"`$\\' else ch for ch in argument)
    return f'"{escaped}"'


def escape_value(text: str) -> str:
    """A string value of a desktop entry: backslash, newline and tab escaped."""
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace("\t", "\\t")


def launcher_text(command: list[str], workspace: Path) -> str:
    exec_line = " ".join(quote_exec_argument(a) for a in command)
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.4\n"
        "Name=Experiment Cockpit\n"
        "GenericName=Image classification experiments\n"
        f"Comment={escape_value(f'Label, train, tune and track on {workspace}')}\n"
        f"Exec={escape_value(exec_line)}\n"  # string escapes apply on top of the quoting
        f"Path={escape_value(str(workspace))}\n"
        f"Icon={APP_ID}\n"
        "Terminal=false\n"
        "Categories=Science;ArtificialIntelligence;\n"
        "Keywords=machine learning;deep learning;labeling;training;mlflow;\n"
        "StartupWMClass=Experiment Cockpit\n"  # the window's WM_CLASS class (its app name)
        "StartupNotify=true\n"
    )


def cockpit_command(workspace: Path) -> list[str]:
    """How the launcher starts this installation: its own ``cockpit`` script when it is
    the one on PATH beside this Python, else this Python with ``-m cockpit``."""
    script = Path(sys.executable).with_name("cockpit")
    if script.is_file() and os.access(script, os.X_OK):
        start = [str(script)]
    else:
        start = [sys.executable, "-m", "cockpit"]
    return [*start, "--workspace", str(workspace), "gui"]


def install_launcher(workspace: Path, environ: dict[str, str] | None = None) -> DesktopFiles:
    files = desktop_files(environ)
    try:
        files.icon.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(files.icon, ICON.read_text(encoding="utf-8"))
        atomic_write_text(files.launcher, launcher_text(cockpit_command(workspace), workspace))
        files.launcher.chmod(0o755)  # some desktops ask before running a non-executable one
    except OSError as exc:
        raise CockpitError(
            f"cannot write {exc.filename or files.launcher}: {exc.strerror or exc}; "
            "check XDG_DATA_HOME and the permissions of that folder"
        ) from exc
    _refresh_caches(files)
    return files


def uninstall_launcher(environ: dict[str, str] | None = None) -> list[Path]:
    files = desktop_files(environ)
    removed = []
    for path in (files.launcher, files.icon):
        if path.exists():
            path.unlink()
            removed.append(path)
    _refresh_caches(files)
    return removed


def _refresh_caches(files: DesktopFiles) -> None:
    """Menus notice a new launcher sooner when their caches are refreshed (optional)."""
    import subprocess

    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, str(files.launcher.parent)], capture_output=True, check=False)

"""Can a window be shown here? Checked before Qt starts, which otherwise aborts the whole
process (a core dump, exit 134) with a message about platform plugins when a display or a
system library is missing.

Imports no Qt and nothing of the project: the GUI's start-up and ``cockpit doctor`` call
it, and ``python -m core.display`` prints the findings (exit 2 when a window cannot open).
On Linux it looks at the display variables, at the X server's socket, and with ``ldd`` at
the system libraries the Qt platform plugin needs, and names the packages to install.
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

# platforms that need no display: pictures are rendered in memory (or served over VNC)
HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc")
# libraries Qt opens itself at run time, which ldd therefore cannot list
DLOPENED = {"xcb": ["libxcb-cursor.so.0"]}
# shared library -> Debian/Ubuntu package (what a fresh desktop install lacks most often)
DEBIAN_PACKAGES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xinerama.so.0": "libxcb-xinerama0",
    "libxcb-xinput.so.0": "libxcb-xinput0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb.so.1": "libxcb1",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libX11.so.6": "libx11-6",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libSM.so.6": "libsm6",
    "libICE.so.6": "libice6",
    "libEGL.so.1": "libegl1",
    "libGL.so.1": "libgl1",
    "libOpenGL.so.0": "libopengl0",
    "libGLX.so.0": "libglx0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libwayland-client.so.0": "libwayland-client0",
    "libwayland-cursor.so.0": "libwayland-cursor0",
    "libwayland-egl.so.1": "libwayland-egl1",
}
_NOT_FOUND = re.compile(r"^\s*(\S+)\s+=>\s+not found", re.MULTILINE)


@dataclass(frozen=True)
class DisplayReport:
    platform: str  # the Qt platform plugin that will be used
    problems: tuple[str, ...]  # one line each, with the fix
    missing_libraries: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def install_hint(self) -> str | None:
        """The one command that installs the missing libraries, where it is known."""
        if not self.missing_libraries:
            return None
        known = [DEBIAN_PACKAGES[lib] for lib in self.missing_libraries if lib in DEBIAN_PACKAGES]
        unknown = [lib for lib in self.missing_libraries if lib not in DEBIAN_PACKAGES]
        parts = []
        if known:
            parts.append("sudo apt-get install " + " ".join(dict.fromkeys(known)))
        if unknown:
            parts.append("find the package of " + ", ".join(unknown) + " with apt-file search")
        return "; ".join(parts)

    def lines(self) -> list[str]:
        shown = list(self.problems)
        hint = self.install_hint()
        if hint:
            shown.append(f"display: install them with: {hint}")
        return shown


def _plugin_dir() -> Path | None:
    try:
        import importlib.util

        spec = importlib.util.find_spec("PySide6")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "Qt" / "plugins" / "platforms"
    return folder if folder.is_dir() else None


def missing_by_ldd(library: Path) -> list[str]:
    """Shared libraries ``library`` needs that the dynamic loader cannot find."""
    ldd = shutil.which("ldd")
    if ldd is None or not library.exists():
        return []
    try:
        done = subprocess.run(
            [ldd, str(library)], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return list(dict.fromkeys(_NOT_FOUND.findall(done.stdout)))


def loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def x_server_answers(display: str, timeout: float = 2.0) -> bool:
    """Whether an X server listens for ``display`` (":1", "host:0.0", "unix:0")."""
    match = re.fullmatch(r"(?P<host>[^:]*):(?P<number>\d+)(?:\.\d+)?", display.strip())
    if match is None:
        return False
    host, number = match["host"], int(match["number"])
    if host in ("", "unix") or host.startswith("/"):
        path = f"/tmp/.X11-unix/X{number}"
        if host.startswith("/"):  # launchd style (macOS XQuartz): the socket path itself
            path = display.rsplit(":", 1)[0]
        for candidate in (path, "\0" + path):  # the file, or Linux's abstract socket
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                    probe.settimeout(timeout)
                    probe.connect(candidate)
                return True
            except OSError:
                continue
        return False
    try:
        with socket.create_connection((host, 6000 + number), timeout=timeout):
            return True
    except OSError:
        return False


def check_display(environ: dict[str, str] | None = None) -> DisplayReport:
    """What stands between this process and a window, as lines that say what to do."""
    env = dict(os.environ if environ is None else environ)
    requested = env.get("QT_QPA_PLATFORM", "").split(":", 1)[0].strip()
    if sys.platform != "linux":
        # macOS and Windows: Qt's own plugins (cocoa, windows) need no system packages
        return DisplayReport(requested or "native", ())
    if requested in HEADLESS_PLATFORMS:
        return DisplayReport(requested, ())
    wayland, x11 = env.get("WAYLAND_DISPLAY"), env.get("DISPLAY")
    platform = requested or ("wayland" if wayland and not x11 else "xcb")
    problems: list[str] = []
    if platform == "xcb":
        if not x11:
            if wayland:
                problems.append(
                    "display: DISPLAY is not set in this Wayland session (no XWayland): "
                    "run with QT_QPA_PLATFORM=wayland, or start XWayland"
                )
            else:
                problems.append(
                    "display: no display found (DISPLAY and WAYLAND_DISPLAY are not set): run "
                    "the cockpit in a desktop session, over `ssh -X`, or under Xvfb "
                    "(`xvfb-run cockpit gui`); `cockpit gui --screenshot FILE` needs no display"
                )
        elif not x_server_answers(x11):
            problems.append(
                f"display: DISPLAY={x11} but no X server answers there: start it, or "
                "correct DISPLAY (the desktop session's value: `echo $DISPLAY` in its terminal)"
            )
    elif platform == "wayland" and not wayland:
        problems.append(
            "display: QT_QPA_PLATFORM=wayland but WAYLAND_DISPLAY is not set: run in a Wayland "
            "session, or unset QT_QPA_PLATFORM to use X11"
        )
    missing: list[str] = []
    plugins = _plugin_dir()
    plugin = plugins / f"libq{platform}.so" if plugins is not None else None
    if plugin is not None and plugin.exists():
        missing += missing_by_ldd(plugin)
        if platform == "xcb":
            missing += missing_by_ldd(plugin.parents[2] / "lib" / "libQt6XcbQpa.so.6")
        missing += [lib for lib in DLOPENED.get(platform, []) if not loadable(lib)]
    elif plugins is not None and requested:
        known = sorted(p.stem.removeprefix("libq") for p in plugins.glob("libq*.so"))
        problems.append(
            f"display: QT_QPA_PLATFORM={requested} is not a Qt platform here; "
            f"choose one of {', '.join(known)} or unset it"
        )
    missing = list(dict.fromkeys(missing))
    for library in missing:
        package = DEBIAN_PACKAGES.get(library)
        where = f" (Debian/Ubuntu package {package})" if package else ""
        problems.append(
            f"display: the Qt {platform} platform needs the system library {library}{where}, "
            "which is not installed"
        )
    return DisplayReport(platform, tuple(problems), tuple(missing))


def main() -> int:
    report = check_display()
    if report.ok:
        print(f"display: ok (Qt platform {report.platform})")
        return 0
    for line in report.lines():
        print(line, file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())

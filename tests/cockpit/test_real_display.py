"""The window on a real X server (Xvfb), opened through the `cockpit gui` command as a
user starts it, and driven by real input events from outside the process (xdotool):
every other GUI test renders offscreen inside the test process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform != "linux", reason="Xvfb and xdotool are X11 tools"),
    pytest.mark.skipif(
        shutil.which("Xvfb") is None or shutil.which("xdotool") is None,
        reason="needs Xvfb and xdotool (`make test` installs them as root on Debian/Ubuntu)",
    ),
]


@pytest.fixture
def x_display():
    from core.display import check_display

    number = next(n for n in range(91, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    server = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    display = f":{number}"
    deadline = time.time() + 30
    while not Path(f"/tmp/.X11-unix/X{number}").exists():
        assert server.poll() is None, "Xvfb exited"
        assert time.time() < deadline, "Xvfb did not start"
        time.sleep(0.1)
    report = check_display({"DISPLAY": display})
    if not report.ok:  # the libraries the cockpit itself names: a skip says which
        server.kill()
        pytest.skip("; ".join(report.lines()))
    yield display
    server.kill()
    server.wait(timeout=10)


def xdotool(display, *args, timeout=30):
    return subprocess.run(
        ["xdotool", *args],
        env={**os.environ, "DISPLAY": display},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def grab(display):
    from PIL import ImageGrab

    return ImageGrab.grab(xdisplay=display).convert("RGB")


def window_of(display, process, title="Experiment Cockpit", timeout=90):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert process.poll() is None, process.stderr.read()
        found = xdotool(display, "search", "--onlyvisible", "--name", title)
        if found.returncode == 0 and found.stdout.split():
            return found.stdout.split()[0]
        time.sleep(0.5)
    raise AssertionError("the cockpit window did not appear")


def differs(a, b):
    from PIL import ImageChops

    return ImageChops.difference(a, b).getbbox() is not None


def test_the_window_opens_on_a_real_display_and_answers_real_keys(
    workspace, x_display, screenshot_dir
):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    env["DISPLAY"] = x_display
    process = subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(workspace.root), "gui"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        window = window_of(x_display, process)
        time.sleep(2)  # first paint and the panels' first load
        assert xdotool(x_display, "windowfocus", "--sync", window).returncode == 0
        first = grab(x_display)
        first.save(screenshot_dir / "real_display_first_tab.png")
        colours = first.getcolors(maxcolors=1 << 16)
        assert colours is None or len(colours) > 20, "the screen is blank"

        # a click into the window (no window manager here activates it otherwise), then
        # Ctrl+Tab: the next tab, a different picture on the real screen
        xdotool(x_display, "mousemove", "--window", window, "500", "400", "click", "1")
        time.sleep(0.5)
        first = grab(x_display)
        xdotool(x_display, "key", "ctrl+Tab")
        time.sleep(1.5)
        second = grab(x_display)
        second.save(screenshot_dir / "real_display_second_tab.png")
        assert differs(first, second), "a key press did not change the window"

        # a desktop application: its icon on the window, and one window per workspace (a
        # second launch raises the first and exits)
        icon = subprocess.run(
            ["xprop", "-id", window, "_NET_WM_ICON"],
            env={**os.environ, "DISPLAY": x_display},
            capture_output=True,
            text=True,
        )
        if shutil.which("xprop"):
            assert "Icon (" in icon.stdout, icon.stdout[:200]
        again = subprocess.run(
            [sys.executable, "-m", "cockpit", "-w", str(workspace.root), "gui"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert again.returncode == 0, again.stderr
        assert "already open" in again.stdout
        assert process.poll() is None
        found = xdotool(x_display, "search", "--onlyvisible", "--name", "Experiment Cockpit")
        assert len(found.stdout.split()) == 1, "a second window opened"

        # Ctrl+Q quits as a desktop application does, exit status 0
        xdotool(x_display, "key", "ctrl+q")
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)

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


# where things are in the window at 1280x800 on Xvfb (no window manager: no frame, at 0,0):
# under the menu bar, the tab bar and the two tool rows, right of the label list: the
# Labeling grid's first thumbnails and the Queue
# table's rows (24 px apart)
THUMBNAILS = [(291, 165), (407, 165), (523, 165)]
QUEUE_ROWS_Y = [150, 174, 198]


def start_cockpit(workspace, display, **extra_env):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
    # a remembered window of an earlier test (its size, its tab) must not move this one
    env.update(DISPLAY=display, XDG_CONFIG_HOME=str(workspace.root.parent / "config"))
    env.update(extra_env)
    return subprocess.Popen(
        [sys.executable, "-m", "cockpit", "-w", str(workspace.root), "gui"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def wait_for(condition, timeout=20, what="the change"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"{what} did not happen within {timeout} s")


def not_blank(image):
    colours = image.getcolors(maxcolors=1 << 16)
    return colours is None or len(colours) > 20


def test_labeling_by_keyboard_and_dragging_a_queued_job_on_a_real_display(
    workspace, x_display, screenshot_dir, tmp_path
):
    from core.data.browse import ImageFilter, list_images
    from core.data.importer import import_images
    from core.data.themes import create_theme
    from core.db import open_database
    from core.demo import write_demo_images
    from core.jobs.model import Job
    from core.jobs.queue import JobQueue

    write_demo_images(tmp_path / "shapes", per_class=2, size=32, seed=5)
    flat = tmp_path / "unlabeled"
    flat.mkdir()
    for i, path in enumerate(sorted((tmp_path / "shapes").rglob("*.png"))):
        shutil.copy(path, flat / f"img_{i}.png")
    db = open_database(workspace)
    theme = create_theme(db, "shapes", ["circle", "square", "triangle"])
    import_images(db, workspace, "shapes", [flat])
    names = {label.id: label.label_name for label in theme.labels}

    def labels() -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in list_images(db, ImageFilter(theme.id)):
            if row.label_id is not None:
                counts[names[row.label_id]] = counts.get(names[row.label_id], 0) + 1
        return counts

    assert labels() == {}
    queue = JobQueue(workspace)
    jobs = [queue.submit(Job(kind="check", workspace=str(workspace.root))) for _ in range(3)]
    assert [j.id for j in queue.pending()] == [j.id for j in jobs]

    process = start_cockpit(workspace, x_display)
    try:
        window = window_of(x_display, process)
        xdotool(x_display, "windowsize", window, "1280", "800")
        xdotool(x_display, "windowmove", window, "0", "0")
        time.sleep(1)
        xdotool(x_display, "mousemove", "640", "400", "click", "1")  # focus, as a user's click

        # Labeling (Alt+2): click a thumbnail, press its label's number key
        xdotool(x_display, "key", "alt+2")
        time.sleep(3)  # the panel is built on first show, then its thumbnails load
        grab(x_display).save(screenshot_dir / "real_display_labeling_shown.png")
        for (x, y), key in zip(THUMBNAILS, ("2", "3", "1"), strict=True):
            xdotool(x_display, "mousemove", str(x), str(y), "click", "1")
            time.sleep(0.3)
            xdotool(x_display, "key", key)
            time.sleep(0.5)
        wait_for(lambda: labels() == {"circle": 1, "square": 1, "triangle": 1}, what="labeling")
        shot = grab(x_display)
        shot.save(screenshot_dir / "real_display_labeling.png")
        assert not_blank(shot), "the screen is blank"

        # Queue (Alt+4): drag the last pending job above the first with the real mouse
        xdotool(x_display, "key", "alt+4")
        time.sleep(2)
        x, start = 180, QUEUE_ROWS_Y[2]
        xdotool(x_display, "mousemove", str(x), str(start), "mousedown", "1")
        time.sleep(0.3)
        for y in range(start - 4, QUEUE_ROWS_Y[0] - 10, -6):  # Qt needs motion to start a drag
            xdotool(x_display, "mousemove", str(x + 2), str(y))
            time.sleep(0.08)
        time.sleep(0.3)
        xdotool(x_display, "mouseup", "1")
        wanted = [jobs[2].id, jobs[0].id, jobs[1].id]
        wait_for(lambda: [j.id for j in JobQueue(workspace).pending()] == wanted, what="the move")
        time.sleep(1)
        shot = grab(x_display)
        shot.save(screenshot_dir / "real_display_queue_dragged.png")
        assert not_blank(shot), "the screen is blank"

        xdotool(x_display, "key", "ctrl+q")
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


@pytest.mark.parametrize("factor", ["1.5", "2"])
def test_the_window_at_hidpi_scaling_on_a_real_display(
    workspace, x_display, screenshot_dir, factor
):
    process = start_cockpit(workspace, x_display, QT_SCALE_FACTOR=factor)
    try:
        window = window_of(x_display, process)
        xdotool(x_display, "windowmove", window, "0", "0")
        time.sleep(3)
        xdotool(x_display, "mousemove", "300", "300", "click", "1")
        shot = grab(x_display)
        shot.save(screenshot_dir / f"real_display_hidpi_{factor}x.png")
        assert not_blank(shot), "the screen is blank"
        # the whole window is on the 1280x800 screen (its first size fits the screen)
        size = xdotool(x_display, "getwindowgeometry", window).stdout
        width, height = (int(n) for n in size.split("Geometry:")[1].split()[0].split("x"))
        assert width <= 1280 and height <= 800, size
        # no window manager gives it the keyboard: the key must not go to a window left
        # by an earlier test
        xdotool(x_display, "windowfocus", "--sync", window)
        xdotool(x_display, "key", "ctrl+q")
        assert process.wait(timeout=60) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)

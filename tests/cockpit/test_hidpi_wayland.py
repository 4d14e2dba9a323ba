"""The window at 1.5x and 2x scaling (rendered at the device's resolution, not an
upscaled 1x picture) and under Wayland (a headless weston compositor), through the
`cockpit gui` command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest
from PIL import Image, ImageChops, ImageStat

from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images

pytestmark = pytest.mark.slow


@pytest.fixture
def shapes(workspace, tmp_path):
    write_demo_images(tmp_path / "shapes", per_class=3, size=64, seed=4)
    db = open_database(workspace)
    create_theme(db, "shapes")
    import_images(db, workspace, "shapes", [tmp_path / "shapes"])
    return workspace


def screenshot(workspace, target, panel="labeling", **env):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "-w",
            str(workspace.root),
            "gui",
            "--screenshot",
            str(target),
            "--panel",
            panel,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen", **env},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return Image.open(target).convert("RGB")


def detail(image: Image.Image, factor: float) -> float:
    """How much an image loses when shrunk by ``factor`` and enlarged again: near zero
    for a picture that was itself enlarged from a smaller one (blurry)."""
    small = image.resize((round(image.width / factor), round(image.height / factor)))
    again = small.resize(image.size, Image.Resampling.BILINEAR)
    return sum(ImageStat.Stat(ImageChops.difference(image, again)).mean)


@pytest.mark.parametrize("factor", [1.5, 2.0])
def test_scaled_window_is_rendered_at_the_device_resolution(shapes, screenshot_dir, factor):
    plain = screenshot(shapes, screenshot_dir / "labeling_hidpi_1x.png")
    scaled = screenshot(
        shapes, screenshot_dir / f"labeling_hidpi_{factor:g}x.png", QT_SCALE_FACTOR=str(factor)
    )
    assert scaled.width == round(plain.width * factor)
    # an enlarged 1x picture of the same window is what "not crisp" looks like
    enlarged = plain.resize(scaled.size, Image.Resampling.BILINEAR)
    assert detail(scaled, factor) > 1.5 * detail(enlarged, factor)


@pytest.fixture
def weston(tmp_path):
    if shutil.which("weston") is None:
        pytest.skip("needs the weston compositor (Debian/Ubuntu: apt-get install weston)")
    runtime = tmp_path / "xdg-runtime"
    runtime.mkdir(mode=0o700)
    socket = "wayland-cockpit-test"
    server = subprocess.Popen(
        ["weston", "--backend=headless-backend.so", f"--socket={socket}", "--idle-time=0"],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.time() + 30
    while not (runtime / socket).exists():
        if server.poll() is not None or time.time() > deadline:
            server.kill()
            pytest.skip("weston did not start headless here")
        time.sleep(0.1)
    yield {"XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": socket}
    server.terminate()
    server.wait(timeout=10)


def test_the_window_runs_under_wayland(shapes, weston, screenshot_dir):
    env = {**os.environ, **weston, "QT_QPA_PLATFORM": "wayland"}
    env.pop("DISPLAY", None)
    platform = subprocess.run(
        [
            sys.executable,
            "-c",
            "from PySide6.QtWidgets import QApplication; print(QApplication([]).platformName())",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert platform.stdout.strip() == "wayland", platform.stderr
    image = screenshot(shapes, screenshot_dir / "wayland_labeling.png", **env)
    colours = image.getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 20, "the window is blank"

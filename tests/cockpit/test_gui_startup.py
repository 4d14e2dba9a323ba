"""The GUI process must start without the engine's heavy libraries, and the screenshot
command must show what a user sees."""

import os
import subprocess
import sys

from PIL import Image

HEAVY = ("torch", "pytorch_lightning", "lightning", "mlflow", "optuna", "albumentations")


def test_gui_start_does_not_import_the_engine(workspace):
    code = f"""
import sys
from PySide6.QtWidgets import QApplication
import cockpit.app
from cockpit.main_window import MainWindow
from core.workspace import Workspace
app = QApplication([])
window = MainWindow(Workspace.resolve({str(workspace.root)!r}))
panel = window.panels["workspace"]
window.show()
from PySide6.QtCore import QTimer
# then a few seconds more: every panel's first background load has run by then
panel.sig_loaded.connect(lambda: QTimer.singleShot(3000, app.quit))
QTimer.singleShot(30000, app.quit)
app.exec()
assert panel.snapshot is not None, "panel did not load"
assert panel.snapshot.params is not None, panel.snapshot
heavy = [m for m in {HEAVY!r} if m in sys.modules]
print("HEAVY", heavy)
"""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert "HEAVY []" in done.stdout


def test_screenshot_command_saves_the_loaded_window(workspace, screenshot_dir):
    target = screenshot_dir / "main_window.png"
    target.unlink(missing_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
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
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with Image.open(target) as image:
        assert image.width >= 800 and image.height >= 500
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
        assert colours is not None and len(colours) > 20, "screenshot looks blank"


def test_unknown_panel_is_a_clear_error(workspace, tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "-w",
            str(workspace.root),
            "gui",
            "--screenshot",
            str(tmp_path / "x.png"),
            "--panel",
            "nope",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 2
    assert "unknown panel 'nope'" in done.stderr


def test_main_window_shows_runner_state_and_switches_workspace(qtbot, workspace, tmp_path):
    from cockpit.main_window import MainWindow
    from core.scaffold import init_workspace

    window = MainWindow(workspace)
    qtbot.addWidget(window)
    qtbot.waitUntil(lambda: window.runner_label.text() == "runner: not running", timeout=30_000)
    other = init_workspace(tmp_path / "other").workspace
    switched = window.open_workspace(str(other.root))
    qtbot.addWidget(switched)
    assert switched.workspace.root == other.root
    assert switched.recent_workspaces()[:2] == [str(other.root), str(workspace.root)]
    assert not window.isVisible()

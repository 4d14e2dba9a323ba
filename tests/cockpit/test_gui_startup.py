"""The GUI process must start without the engine's heavy libraries, and the screenshot
command must show what a user sees."""

import ast
import os
import subprocess
import sys

from PIL import Image

HEAVY = ("torch", "pytorch_lightning", "lightning", "mlflow", "optuna", "albumentations")


def test_gui_start_does_not_import_the_engine(workspace, tmp_path):
    """Through the `cockpit gui` entry point: the window is shown, the event loop runs a
    few seconds (the shown panel loads its data, the status bar its runner state), and
    only then is sys.modules looked at."""
    code = f"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from cockpit.app import run_gui
from cockpit.main_window import MainWindow
from core.workspace import Workspace
app = QApplication([])
seen = {{"loaded": []}}
build = MainWindow.panel

def panel(window, name):  # records each panel's first finished data load
    built = name in window.panels.built()
    widget = build(window, name)
    if not built:
        widget.sig_loaded.connect(lambda: seen["loaded"].append(name))
    return widget

MainWindow.panel = panel

def check():
    window = next(w for w in app.topLevelWidgets() if isinstance(w, MainWindow))
    seen["shown"] = window.isVisible()
    seen["built"] = sorted(window.panels.built())
    seen["runner"] = window.runner_label.text()
    seen["heavy"] = [m for m in {HEAVY!r} if m in sys.modules]
    window.close()

QTimer.singleShot(5000, check)
QTimer.singleShot(60000, app.quit)
code = run_gui(Workspace.resolve({str(workspace.root)!r}))
print("SEEN", seen)
sys.exit(code)
"""
    # a first start: no saved tab or layout
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    seen = ast.literal_eval(done.stdout.split("SEEN ", 1)[1].strip())
    assert seen["shown"] and "themes" in seen["loaded"], seen
    assert seen["runner"] == "runner: not running", seen
    # only the tab in view was built; the others wait for their first show
    assert seen["built"] == ["themes"], seen
    assert seen["heavy"] == [], seen


def test_the_engine_libraries_are_installed_so_the_start_up_check_can_fail():
    import importlib.util

    assert all(importlib.util.find_spec(m) is not None for m in ("torch", "mlflow", "optuna"))


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
    window.show()  # the status bar starts reading once the window is shown
    qtbot.waitUntil(lambda: window.runner_label.text() == "runner: not running", timeout=30_000)
    other = init_workspace(tmp_path / "other").workspace
    switched = window.open_workspace(str(other.root))
    qtbot.addWidget(switched)
    assert switched.workspace.root == other.root
    assert switched.recent_workspaces()[:2] == [str(other.root), str(workspace.root)]
    assert not window.isVisible()

"""Start-up of the window: time from `cockpit gui` to the window painted, against a bare
PySide6 window with nine tabs started the same way, and the longest event-loop stall in
the first 10 s after the paint.

    .venv/bin/python benchmarks/bench_gui_startup.py [--workspace DIR] [--runs N] [--code DIR]

Without --workspace, one is built first with real work in it: `cockpit demo` (a shapes
theme, one training, a registered version), a two-trial study and two pending jobs.
Each start is a fresh process (cold Python, warm disk cache) with its own empty settings
folder, so it opens on the first tab as a new user's does. Goals: painted < 1.5 s on 2
idle cores; longest stall < 100 ms; torch, lightning, mlflow and optuna not imported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "lightning", "pytorch_lightning", "mlflow", "optuna", "sklearn", "scipy")
WATCH_S = 10.0
TICK_MS = 5

# The probe runs in the child: it creates the QApplication first (the cockpit then uses
# it), notes the first paint of a top-level window and the gaps between timer ticks.
PROBE = """
import json, sys, time
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
seen = {"painted": None, "gaps": [], "panel": None}

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if (seen["painted"] is None and event.type() == QEvent.Type.Paint
                and obj.isWidgetType() and obj.isWindow()):
            seen["painted"] = time.time()
            last = [time.perf_counter()]
            def tick():
                now = time.perf_counter()
                seen["gaps"].append(now - last[0])
                last[0] = now
            timer = QTimer(app, interval=TICK_MS)
            timer.timeout.connect(tick)
            timer.start()
            QTimer.singleShot(int(WATCH_S * 1000), finish)
        return False

def finish():
    seen["heavy"] = [m for m in HEAVY if m in sys.modules]
    print("PROBE " + json.dumps(seen), flush=True)
    for window in app.topLevelWidgets():
        window.close()
    app.quit()

probe = FirstPaint()
app.installEventFilter(probe)
"""

COCKPIT = """
from cockpit.main_window import MainWindow
build = getattr(MainWindow, "panel", None)  # absent in versions that built every panel
def panel(window, name):
    fresh = name not in window.panels.built()
    widget = build(window, name)
    if fresh and seen["panel"] is None:
        widget.sig_loaded.connect(lambda: seen.__setitem__("panel", seen["panel"] or time.time()))
    return widget
if build is not None:
    MainWindow.panel = panel
from cockpit.cli.main import cli
cli(["-w", WORKSPACE, "gui"], standalone_mode=False)
"""

BARE = """
from PySide6.QtWidgets import QLabel, QMainWindow, QTabWidget
window = QMainWindow()
tabs = QTabWidget(documentMode=True)
for i in range(9):
    tabs.addTab(QLabel(f"tab {i}"), f"Tab {i}")
window.setCentralWidget(tabs)
window.resize(1100, 700)
window.show()
app.exec()
"""


def start_once(body: str, workspace: Path | None, code: Path = ROOT) -> dict:
    header = f"HEAVY = {HEAVY!r}\nWATCH_S = {WATCH_S}\nTICK_MS = {TICK_MS}\n"
    header += f"WORKSPACE = {str(workspace)!r}\n"
    with tempfile.TemporaryDirectory() as config:
        env = {**os.environ, "XDG_CONFIG_HOME": config, "PYTHONPATH": str(code)}
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        started = time.time()
        done = subprocess.run(
            [sys.executable, "-c", header + PROBE + body],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
    line = next((x for x in done.stdout.splitlines() if x.startswith("PROBE ")), None)
    if line is None:
        raise SystemExit(f"the probe printed nothing (exit {done.returncode}):\n{done.stderr}")
    seen = json.loads(line[len("PROBE ") :])
    gaps = seen["gaps"][1:]  # the first tick's gap includes the timer's start
    return {
        "painted_s": seen["painted"] - started,
        "panel_s": (seen["panel"] - started) if seen.get("panel") else None,
        "stall_ms": max(0.0, (max(gaps) - TICK_MS / 1000) * 1000) if gaps else 0.0,
        "heavy": seen["heavy"],
    }


def build_workspace(root: Path) -> Path:
    """A demo workspace: a theme, a training, a registered version, a study, pending jobs."""
    cockpit = [sys.executable, "-m", "cockpit", "-w", str(root)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COCKPIT_DEMO_EPOCHS": "1"}
    print(f"building a workspace in {root} (demo training, a study, pending jobs)…", flush=True)
    subprocess.run(
        [*cockpit, "demo", "--per-class", "10"], check=True, env=env, stdout=subprocess.DEVNULL
    )
    (root / "configs" / "optuna_params.yaml").write_text(
        "study: {name: bench_study, direction: minimize, metric: valid_loss, n_trials: 2,\n"
        "        sampler: random}\n"
        "base_params: {max_epochs: 1, image_size: 16, num_workers: 0}\n"
        "search_space:\n"
        "  lr: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}\n"
    )
    subprocess.run(
        [*cockpit, "tune", "--theme", "demo-shapes"], check=True, env=env, stdout=subprocess.DEVNULL
    )
    for lr in ("0.01", "0.02"):
        subprocess.run(
            [
                *cockpit,
                "submit",
                "train",
                "--theme",
                "demo-shapes",
                "--no-runner",
                "--set",
                f"lr={lr}",
            ],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", type=Path, help="an existing workspace to open")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--code", type=Path, default=ROOT, help="another checkout to time (before/after)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workspace = args.workspace or build_workspace(Path(tmp) / "ws")
        results: dict[str, list[dict]] = {"bare": [], "cockpit": []}
        for _ in range(args.runs):  # interleaved: a load change hits both alike
            results["bare"].append(start_once(BARE, None))
            results["cockpit"].append(start_once(COCKPIT, workspace, args.code))
    bare = statistics.median(r["painted_s"] for r in results["bare"])
    ours = statistics.median(r["painted_s"] for r in results["cockpit"])
    panels = [r["panel_s"] for r in results["cockpit"] if r["panel_s"] is not None]
    stall = max(r["stall_ms"] for r in results["cockpit"])
    bare_stall = max(r["stall_ms"] for r in results["bare"])
    heavy = sorted({m for r in results["cockpit"] for m in r["heavy"]})
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, "
        f"load {os.getloadavg()[0]:.2f}, Python {platform.python_version()}, "
        f"QT_QPA_PLATFORM={os.environ.get('QT_QPA_PLATFORM', 'offscreen')}"
    )
    print(f"runs: {args.runs} each, interleaved; medians; code: {args.code}")
    print(f"bare PySide6 window, nine tabs, painted : {bare:.2f} s")
    print(f"cockpit gui, window painted             : {ours:.2f} s  ({ours / bare:.2f}x)")
    if panels:
        print(f"cockpit gui, first tab's data shown     : {statistics.median(panels):.2f} s")
    print(
        f"longest event-loop stall, first {WATCH_S:.0f} s  : {stall:.0f} ms "
        f"(bare window: {bare_stall:.0f} ms; goal < 100 ms)"
    )
    print(f"heavy modules imported by then          : {', '.join(heavy) or 'none'}")


if __name__ == "__main__":
    main()

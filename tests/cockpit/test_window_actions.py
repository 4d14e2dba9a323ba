"""The whole window as a user meets it: keyboard shortcuts through Qt's key delivery, the
Help menu, a tooltip on every button of every panel, the layout remembered between runs
(and never written by a screenshot), confirmations before stopping running work, and
actions disabled where the preview says they would do nothing."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QThreadPool
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QMessageBox, QSplitter, QTableWidget

from cockpit.panels import PANELS
from core.config import resolve_params
from core.data.importer import import_images
from core.data.themes import create_theme
from core.db import open_database
from core.demo import write_demo_images
from core.jobs.model import Job
from core.jobs.queue import JobQueue

pytestmark = pytest.mark.filterwarnings("ignore")

LABELS = [f"class_{i:02d}" for i in range(12)]


@pytest.fixture
def labeled(workspace, tmp_path):
    """Two themes (one with 12 labels) and demo images, so panels show real rows."""
    write_demo_images(tmp_path / "shapes", per_class=6, size=16, seed=2)
    db = open_database(workspace)
    create_theme(db, "shapes")
    create_theme(db, "many", LABELS)
    import_images(db, workspace, "shapes", [tmp_path / "shapes"])
    return workspace


@pytest.fixture
def open_window(qtbot, monkeypatch):
    windows = []
    # closing with unsaved edits asks; a test that does not answer discards them
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Discard)

    def make(workspace, **kwargs):
        from cockpit.main_window import MainWindow

        window = MainWindow(workspace, **kwargs)
        qtbot.addWidget(window)
        window.resize(1280, 800)
        window.show()
        window.activateWindow()  # shortcuts go to the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=10_000)
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.close()
    QThreadPool.globalInstance().waitForDone(30_000)


def build_all(qtbot, window):
    """Every panel built by showing its tab, with time for its first load."""
    for name in PANELS:
        window.show_panel(name)
        qtbot.wait(300)
    qtbot.wait(1000)
    return window.panels.built()


def test_tabs_are_placeholders_until_shown_then_panels(qtbot, open_window, labeled):
    from PySide6.QtCore import QSettings

    QSettings("ExperimentCockpit", "cockpit").remove("main_window/tab")  # a first start
    window = open_window(labeled)
    qtbot.waitUntil(lambda: "themes" in window.panels.built(), timeout=30_000)
    assert sorted(window.panels.built()) == ["themes"]
    assert window.tabs.currentWidget() is window.panels["themes"]
    QTest.keyClick(window, Qt.Key.Key_6, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "history" in window.panels.built(), timeout=30_000)
    assert window.tabs.currentWidget() is window.panels.built()["history"]
    assert window.tabs.tabText(5) == "History"


def test_a_theme_chosen_before_labeling_exists_is_handed_over(qtbot, open_window, labeled):
    window = open_window(labeled)
    themes = window.panels["themes"]
    themes.sig_theme_selected.emit("many")
    assert "labeling" not in window.panels.built()
    labeling = window.show_panel("labeling")
    qtbot.waitUntil(lambda: labeling.theme == "many", timeout=30_000)


def test_every_button_of_every_panel_has_a_tooltip(qtbot, open_window, labeled):
    window = open_window(labeled)
    panels = build_all(qtbot, window)
    window.panels["labeling"].set_theme("many")
    qtbot.wait(500)
    missing = []
    counted = 0
    for name, panel in panels.items():
        for button in panel.findChildren(QAbstractButton):
            parent = button.parent()
            if button.objectName().startswith("qt_") or any(
                parent.inherits(owner) for owner in ("QTabBar", "QLineEdit", "QAbstractItemView")
            ):
                continue  # Qt's own: scroll arrows, clear buttons, table corners
            counted += 1
            if not button.toolTip().strip():
                missing.append(
                    f"{name}: {button.text() or type(button).__name__}"
                    f" ({type(button).__name__} in {type(button.parent()).__name__})"
                )
    assert counted >= 30
    assert not missing, "\n".join(missing)


def test_keyboard_shortcuts(qtbot, open_window, labeled, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    window = open_window(labeled)
    for number, name in enumerate(PANELS, start=1):
        QTest.keyClick(window, getattr(Qt.Key, f"Key_{number}"), Qt.KeyboardModifier.AltModifier)
        assert window.current_panel_name() == name
    window.show_panel("queue")
    queue = window.panels["queue"]
    reloads = []
    monkeypatch.setattr(queue, "reload", lambda: reloads.append(1))
    QTest.keyClick(window, Qt.Key.Key_F5)
    assert reloads == [1]

    editor = window.show_panel("editor")
    before = labeled.params_file.read_text()
    qtbot.waitUntil(lambda: editor.text("params") == before, timeout=30_000)
    editor.set_text("params", before + "lr: 0.0042\n")
    QTest.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(
        lambda: labeled.params_file.read_text().endswith("lr: 0.0042\n"), timeout=10_000
    )
    qtbot.waitUntil(lambda: editor.unsaved_documents() == [], timeout=10_000)

    asked = []
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: asked.append(a) or "")
    QTest.keyClick(window, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert len(asked) == 1


def test_help_menu(qtbot, open_window, labeled, monkeypatch):
    from PySide6.QtGui import QDesktopServices

    window = open_window(labeled)
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert titles == ["Workspace", "View", "Help"]
    window.show_panel("queue")
    dialog = window.show_shortcuts()
    table = dialog.findChild(QTableWidget)
    rows = [f"{table.item(r, 0).text()} {table.item(r, 1).text()}" for r in range(table.rowCount())]
    text = "\n".join(rows)
    for expected in (
        "Ctrl+S Save configuration",
        "Ctrl+O Open workspace",
        "F5 Refresh",
        "Alt+1 Themes & Labels",
        "Queue: Cancel",
        "1–9, 0, a–z Labeling: give the selected images the label of the key",
        "Enter Labeling: accept the model's suggestions for the selected images",
    ):
        assert expected in text, text
    dialog.close()
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    assert window.open_documentation()
    assert Path(opened[0].toLocalFile()).exists()


def test_layout_is_remembered_and_a_screenshot_writes_no_settings(
    qtbot, open_window, labeled, tmp_path
):
    window = open_window(labeled)
    history = window.show_panel("history")
    splitter = history.findChildren(QSplitter)[0]
    total = sum(splitter.sizes())
    splitter.setSizes([total // 4, total - total // 4])
    wanted = splitter.sizes()
    window.close()
    again = open_window(labeled)
    assert again.current_panel_name() == "history"
    restored = again.panels["history"].findChildren(QSplitter)[0]
    qtbot.waitUntil(lambda: restored.sizes() == wanted, timeout=5_000)

    settings = Path(os.environ["XDG_CONFIG_HOME"]) / "ExperimentCockpit" / "cockpit.conf"
    before = hashlib.sha256(settings.read_bytes()).hexdigest()
    shot = tmp_path / "shot.png"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cockpit",
            "-w",
            str(labeled.root),
            "gui",
            "--screenshot",
            str(shot),
            "--panel",
            "queue",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert shot.exists()
    assert hashlib.sha256(settings.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in settings.parent.iterdir()) == ["cockpit.conf"]


@pytest.mark.parametrize("answer", ["No", "Yes"])
def test_cancelling_a_running_job_asks_first(qtbot, open_window, labeled, monkeypatch, answer):
    queue = JobQueue(labeled)
    job = queue.submit(Job(kind="check", workspace=str(labeled.root)))
    queue.claim_next("cpu", "here", os.getpid())
    window = open_window(labeled)
    panel = window.show_panel("queue")
    qtbot.waitUntil(lambda: any(r.id == job.id for r in panel.model.rows), timeout=30_000)
    asked = []

    def reply(*args, **_kwargs):
        asked.append(args[2])
        return getattr(QMessageBox.StandardButton, answer)

    monkeypatch.setattr(QMessageBox, "question", reply)
    panel.cancel([job.id])
    assert len(asked) == 1 and job.id in asked[0]
    if answer == "No":
        assert JobQueue(labeled).get(job.id).state == "running"
        assert not JobQueue(labeled).get(job.id).cancel_requested
    else:
        qtbot.waitUntil(lambda: JobQueue(labeled).get(job.id).cancel_requested, timeout=10_000)


def test_add_train_job_is_disabled_while_the_same_experiment_is_pending(
    qtbot, open_window, labeled
):
    from core.jobs.submit import submit_train

    window = open_window(labeled)
    editor = window.show_panel("editor")
    editor.start_runner = False
    editor.set_theme("shapes")
    qtbot.waitUntil(lambda: editor.up_to_date and editor.add_train.isEnabled(), timeout=60_000)
    job = submit_train(labeled, "shapes", resolve_params(labeled), start=False)
    editor.reload()
    pending = f"job {job.id} of this experiment is already pending"
    qtbot.waitUntil(lambda: pending in editor.add_train.toolTip(), timeout=60_000)
    assert not editor.add_train.isEnabled()
    assert "cancel it in the Queue tab" in editor.add_train.toolTip()

"""The labeling panel on a 20,000-image theme, offscreen.

    .venv/bin/python benchmarks/bench_labeling_gui.py [IMAGES]

1. open the theme: time to the first rows and to the first screenful of thumbnails
   (cold: nothing cached), vs bare sqlite3 reading the rows plus Qt decoding that many
   images on one thread;
2. scroll from top to bottom in steps while a 5 ms timer measures the longest gap of the
   event loop (a stall), and the thumbnails held in memory afterwards;
3. label 1,000 images one key press at a time: GUI time per action, and the time until
   every write is in the database, vs bare sqlite3 UPDATE + commit per image.

    .venv/bin/python benchmarks/bench_labeling_gui.py preview

4. the preview of a 24 MP JPEG (6000x4000): GUI-thread time of the click that selects it,
   the longest event-loop gap until it is shown and the time to shown, vs bare
   QImageReader decoding the file on one thread; then each zoom step's redraw, vs
   rescaling the full image with smooth transformation (what a preview without a
   pyramid does per step).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QItemSelectionModel, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QImageReader  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from cockpit.panels.labeling import LabelingPanel  # noqa: E402
from cockpit.panels.labeling.thumbnails import MEMORY_ITEMS  # noqa: E402
from cockpit.workers import run_in_background  # noqa: E402
from core.data.importer import import_images  # noqa: E402
from core.data.themes import create_theme  # noqa: E402
from core.db import open_database  # noqa: E402
from core.scaffold import init_workspace  # noqa: E402
from tests.imaging import make_image  # noqa: E402


def wait(condition, timeout: float = 120.0) -> float:
    start = time.perf_counter()
    while not condition():
        QTest.qWait(5)
        if time.perf_counter() - start > timeout:
            raise TimeoutError
    return time.perf_counter() - start


def visible_rows(panel: LabelingPanel) -> list[int]:
    view = panel.grid
    rows = []
    for row in range(panel.model.rowCount()):
        rect = view.visualRect(panel.model.index(row))
        if rect.intersects(view.viewport().rect()):
            rows.append(row)
        elif rows:
            break
    return rows


def main(count: int) -> None:
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        for i in range(count):
            make_image(tmp_path / "src" / f"{i % 2}" / f"{i:05d}.png", i, size=24)
        ws = init_workspace(tmp_path / "ws").workspace
        db = open_database(ws)
        create_theme(db, "big")
        import_images(db, ws, "big", [tmp_path / "src"])

        panel = LabelingPanel(ws)
        panel.resize(1280, 800)
        panel.show()
        # the app warms the engine up when its window opens; a theme is opened later
        warmed = []
        run_in_background(lambda: None, warmed.append, warmed.append)
        wait(lambda: warmed)
        start = time.perf_counter()
        panel.set_theme("big")
        wait(lambda: panel.model.rowCount() == count)
        rows_s = time.perf_counter() - start
        wait(
            lambda: (
                visible_rows(panel)
                and all(
                    panel.model.rows[r].id in panel.thumbnails.images for r in visible_rows(panel)
                )
            )
        )
        first_screen_s = time.perf_counter() - start
        screenful = len(visible_rows(panel))

        bare_start = time.perf_counter()
        connection = sqlite3.connect(ws.database_file)
        paths = [p for (p,) in connection.execute("SELECT image_path FROM train_data ORDER BY id")]
        for path in paths[:screenful]:
            reader = QImageReader(str(ws.root / path))
            reader.read()
        bare_s = time.perf_counter() - bare_start

        gaps = []
        last = [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer(interval=5)
        timer.timeout.connect(tick)
        timer.start()
        bar = panel.grid.verticalScrollBar()
        step = max(1, bar.pageStep())
        scroll_start = time.perf_counter()
        while bar.value() < bar.maximum():
            bar.setValue(bar.value() + step)
            QTest.qWait(16)
        scroll_s = time.perf_counter() - scroll_start
        timer.stop()
        stall_ms = max(gaps) * 1e3 if gaps else 0.0

        label_id = panel.hotkeys["1"]  # the label key 1 gives (a label named "1" here)
        selection = panel.grid.selectionModel()
        per_action = []
        for row in range(1000):
            index = panel.model.index(row)
            panel.grid.setCurrentIndex(index)
            selection.select(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            began = time.perf_counter()
            QTest.keyClick(panel.grid, Qt.Key.Key_1)
            per_action.append(time.perf_counter() - began)
        flush_start = time.perf_counter()
        panel.writer.wait(120_000)
        flush_s = time.perf_counter() - flush_start
        labeled = connection.execute(
            "SELECT count(*) FROM train_data WHERE label_id = ?", (label_id,)
        ).fetchone()[0]
        bare_start = time.perf_counter()
        ids = [i for (i,) in connection.execute("SELECT id FROM train_data LIMIT 1000")]
        for image_id in ids:
            connection.execute(
                "UPDATE train_data SET label_id = ? WHERE id = ?", (label_id, image_id)
            )
            connection.commit()
        bare_label_s = (time.perf_counter() - bare_start) / len(ids)
        connection.close()
        memory_items = len(panel.thumbnails.images)
        panel.shutdown()
        panel.close()
        panel.deleteLater()
        QTest.qWait(50)
        app.shutdown()  # deterministic Qt teardown before Python's garbage collection

    print(f"images: {count} (24x24 PNG), window 1280x800, offscreen")
    print(
        f"1. rows listed: {rows_s * 1e3:.0f} ms; first screenful ({screenful} thumbnails, cold)"
        f": {first_screen_s * 1e3:.0f} ms   bare sqlite3 + decode of those: "
        f"{bare_s * 1e3:.0f} ms   (goal < 1000 ms)"
    )
    print(
        f"2. scrolled end to end in {scroll_s:.1f} s; longest event-loop gap {stall_ms:.0f} ms"
        f" (goal < 50 ms); thumbnails in memory: {memory_items} (bound {MEMORY_ITEMS})"
    )
    mean_ms = 1e3 * sum(per_action) / len(per_action)
    print(
        f"3. 1,000 key presses: {mean_ms:.2f} ms per action on the GUI thread (max "
        f"{1e3 * max(per_action):.1f} ms), all written {flush_s * 1e3:.0f} ms after the last"
        f" key; {labeled} rows labeled; bare sqlite3 UPDATE+commit per image: "
        f"{bare_label_s * 1e3:.2f} ms   (goal < 5 ms per action)"
    )


def preview_main() -> None:
    from PIL import Image
    from PySide6.QtCore import QSize

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        workspace = init_workspace(root / "ws").workspace
        db = open_database(workspace)
        create_theme(db, "photos", ["a", "b"])
        small = make_image(root / "first.png", 1, size=24)
        big = root / "big.jpg"
        gradient = Image.linear_gradient("L").resize((6000, 4000))
        noise = Image.effect_noise((6000, 4000), 40)
        Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.ROTATE_180))).save(
            big, quality=90
        )
        import_images(db, workspace, "photos", [small])
        import_images(db, workspace, "photos", [big])
        bare_decode_s = min(_timed(lambda: QImageReader(str(big)).read()) for _ in range(3))
        full = QImageReader(str(big)).read()
        target = QSize(1000, 700)
        bare_zoom_s = min(
            _timed(
                lambda f=f: full.scaled(
                    target * f,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            for f in (1, 2, 4)
        )

        run_in_background(lambda: None, lambda _r: None, lambda _e: None)
        panel = LabelingPanel(workspace)
        panel.resize(1280, 800)
        panel.show()
        panel.set_theme("photos")
        wait(lambda: panel.model.rowCount() == 2 and bool(panel.preview.levels))
        gaps, last = [], [time.perf_counter()]

        def tick() -> None:
            now = time.perf_counter()
            gaps.append(now - last[0])
            last[0] = now

        timer = QTimer(interval=5)
        timer.timeout.connect(tick)
        timer.start()
        rect = panel.grid.visualRect(panel.model.index(1))
        start = time.perf_counter()
        QTest.mouseClick(panel.grid.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        click_s = time.perf_counter() - start
        last[0] = time.perf_counter()
        gaps.clear()
        first_s = click_s + wait(lambda: bool(panel.preview.levels))
        shown_s = click_s + wait(
            lambda: bool(panel.preview.levels) and panel.preview.levels[0].width() == 6000
        )
        timer.stop()
        zoom_steps = []
        for value in (125, 150, 200, 300, 400, 600, 800, 400, 200, 100):
            start = time.perf_counter()
            panel.zoom.setValue(value)
            panel.preview.repaint()
            zoom_steps.append(time.perf_counter() - start)
        panel.shutdown()
        panel.close()
        panel.deleteLater()
        QTest.qWait(50)
        app.shutdown()

    print("24 MP JPEG (6000x4000), window 1280x800, offscreen")
    print(
        f"4. select: {click_s * 1e3:.1f} ms on the GUI thread; longest event-loop gap until shown "
        f"{1e3 * max(gaps, default=0):.0f} ms (goal < 50 ms); first shown (smallest level) after "
        f"{first_s * 1e3:.0f} ms, whole pyramid after {shown_s * 1e3:.0f} ms"
        f"   bare QImageReader decode: {bare_decode_s * 1e3:.0f} ms (ratio "
        f"{first_s / bare_decode_s:.2f} and {shown_s / bare_decode_s:.2f})"
    )
    print(
        f"   zoom steps (10, 125-800 %): mean {1e3 * sum(zoom_steps) / len(zoom_steps):.1f} ms, "
        f"max {1e3 * max(zoom_steps):.1f} ms per step   bare smooth rescale of the full image: "
        f"{bare_zoom_s * 1e3:.0f} ms per step (ratio {max(zoom_steps) / bare_zoom_s:.3f})"
    )


def _timed(func) -> float:
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


if __name__ == "__main__":
    if sys.argv[1:] == ["preview"]:
        preview_main()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000)

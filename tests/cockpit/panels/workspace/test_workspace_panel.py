import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from cockpit.panels.workspace import WorkspacePanel


def load(qtbot, workspace):
    panel = WorkspacePanel(workspace)
    qtbot.addWidget(panel)
    panel.resize(1000, 600)
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        panel.show()
    return panel


def table_rows(panel):
    table = panel.params_table
    return {
        table.item(r, 0).text(): (table.item(r, 1).text(), table.item(r, 2).text())
        for r in range(table.rowCount())
    }


def test_shows_definitions_parameters_and_id(qtbot, workspace, screenshot_dir):
    panel = load(qtbot, workspace)
    rows = table_rows(panel)
    assert rows["lr"] == ("0.001", "configs/params.yaml")
    assert rows["dropout"] == ("0.0", "default (model simple_cnn)")
    experiment = panel.snapshot.params.experiment_id()
    assert experiment in panel.id_label.text()
    names = {
        panel.definitions.topLevelItem(i).child(j).text(0)
        for i in range(panel.definitions.topLevelItemCount())
        for j in range(panel.definitions.topLevelItem(i).childCount())
    }
    assert {"images", "simple_cnn", "resnet", "resnet/classification"} <= names
    assert not panel.error_label.isVisible()
    panel.grab().save(str(screenshot_dir / "panel_workspace.png"))


def test_reloads_when_params_change_and_shows_errors(qtbot, workspace, screenshot_dir):
    panel = load(qtbot, workspace)
    before = panel.snapshot.params.experiment_id()
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        workspace.params_file.write_text("lr: 0.02\n")
    assert table_rows(panel)["lr"] == ("0.02", "configs/params.yaml")
    assert panel.snapshot.params.experiment_id() != before
    with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
        workspace.params_file.write_text("lr: 0.02\nbatch_sise: 3\n")
    assert panel.error_label.isVisible()
    assert "unknown key 'batch_sise'" in panel.error_label.text()
    assert panel.params_table.rowCount() == 0
    panel.grab().save(str(screenshot_dir / "panel_workspace_error.png"))


def store_rows(panel):
    table = panel.stores_table
    return {
        table.item(r, 0).text(): (table.item(r, 2).text(), table.item(r, 1).text())
        for r in range(table.rowCount())
    }


@pytest.mark.parametrize("palette", ["light", "dark"])
def test_shows_where_the_stores_are_with_passwords_masked(
    qtbot, qapp, workspace, monkeypatch, screenshot_dir, palette
):
    from core.settings import ENV_VARS
    from tests.cockpit.palettes import dark_palette

    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    before = qapp.palette()
    if palette == "dark":
        qapp.setPalette(dark_palette())
    try:
        panel = load(qtbot, workspace)
        rows = store_rows(panel)
        assert rows["database"] == (f"sqlite:///{workspace.root.as_posix()}/database.db",
                                    "default")
        assert rows["ray_data"] == ("shared", "default")
        # a settings file written now: the user reloads with the button (a real click)
        (workspace.root / "cockpit.yaml").write_text(
            "stores:\n  database: postgresql://lab:s3cret@db.lab:5432/cockpit\n"
            "  ray_address: http://head.lab:8265\n", encoding="utf-8")
        with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
            QTest.mouseClick(panel.reload_button, Qt.MouseButton.LeftButton)
        rows = store_rows(panel)
        assert rows["database"] == ("postgresql+psycopg://lab:***@db.lab:5432/cockpit",
                                    "cockpit.yaml")
        assert rows["ray_address"] == ("http://head.lab:8265", "cockpit.yaml")
        shown = "".join(
            panel.stores_table.item(r, c).text()
            for r in range(panel.stores_table.rowCount()) for c in range(3)
        )
        assert "s3cret" not in shown
        panel.grab().save(str(screenshot_dir / f"panel_workspace_stores_{palette}.png"))
        # the file edited: the panel follows by itself; a broken file is one line
        with qtbot.waitSignal(panel.sig_loaded, timeout=30_000):
            (workspace.root / "cockpit.yaml").write_text("stores:\n  ray_data: copy\n",
                                                        encoding="utf-8")
        assert panel.stores_error.isVisible()
        assert "ray_data" in panel.stores_error.text() and "use shared" in panel.stores_error.text()
        assert panel.stores_table.rowCount() == 0
    finally:
        qapp.setPalette(before)

"""The Live panel following real files: a writer appends while the panel shows the curves
growing and the log; truncation and rotation; overlays; a real tune job's trials."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThreadPool

from cockpit.panels.live import LivePanel
from core.jobs.queue import JobQueue
from tests.cockpit.panels.live.synthetic import TrainingWriter, running_job


@pytest.fixture
def open_panel(show_panel):
    return lambda workspace: show_panel(LivePanel(workspace))


def points(panel, job_id, name):
    return panel.curves.points(job_id, name)


def listed(panel):
    return [panel.job_list.item(i).text() for i in range(panel.job_list.count())]


def test_an_empty_workspace_says_how_to_get_a_job(workspace, open_panel):
    panel = open_panel(workspace)
    assert panel.job_list.count() == 0 and panel.selected == []
    assert "No jobs in this workspace yet" in panel.status_label.text()


def test_follows_a_job_while_it_writes_and_survives_truncation_and_rotation(
    qtbot, workspace, open_panel, screenshot_dir
):
    job = running_job(workspace)
    writer = TrainingWriter(workspace.logs_dir, job.id)
    writer.write_steps(100)
    panel = open_panel(workspace)
    assert any("train shapes simple_cnn" in text and "running" in text for text in listed(panel))
    panel.show_job(job.id)
    qtbot.waitUntil(lambda: points(panel, job.id, "train_step") == 100, timeout=10_000)
    assert points(panel, job.id, "valid_loss") == 2
    assert "epoch 2/40" in panel.log_view.toPlainText()

    # a writer at 100 lines/s: the curve grows while it writes, in batches
    seen = set()
    thread = threading.Thread(
        target=lambda: [writer.write_steps(10) or time.sleep(0.1) for _ in range(15)]
    )
    thread.start()
    while thread.is_alive():
        qtbot.wait(50)
        seen.add(points(panel, job.id, "train_step"))
    thread.join()
    qtbot.waitUntil(lambda: points(panel, job.id, "train_step") == 250, timeout=10_000)
    assert len(seen - {100, 250}) >= 2, seen  # it grew while the job wrote
    assert points(panel, job.id, "valid_acc") == 5
    assert "epoch 5/40" in panel.log_view.toPlainText()
    assert "valid loss" in panel.status_label.text() and "epoch 5" in panel.status_label.text()

    # scrolled up to read: new lines do not pull the view down
    bar = panel.log_view.verticalScrollBar()
    with open(writer.log, "a") as log:
        log.writelines(f"batch {i} done\n" for i in range(200))
    writer.write_steps(50)
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum(), timeout=10_000)
    bar.setValue(0)
    writer.write_steps(100)
    qtbot.waitUntil(lambda: "epoch 8/40" in panel.log_view.toPlainText(), timeout=10_000)
    assert bar.value() == 0

    # hidden (another tab): nothing is read until it shows again
    panel.hide()
    QThreadPool.globalInstance().waitForDone()  # a read that started before hiding ends
    qtbot.wait(50)
    writer.write_steps(50)
    qtbot.wait(700)
    assert points(panel, job.id, "train_step") == 400
    panel.show()
    qtbot.waitUntil(lambda: points(panel, job.id, "train_step") == 450, timeout=10_000)

    # a half-written line waits for its end
    with open(writer.metrics, "a") as handle:
        handle.write('{"kind": "step", "step": 451, "epoch": 9, "split": "train", "lo')
    qtbot.wait(600)
    assert points(panel, job.id, "train_step") == 450
    with open(writer.metrics, "a") as handle:
        handle.write('ss": 0.5, "lr": 0.001, "time": 1}\n')
    qtbot.waitUntil(lambda: points(panel, job.id, "train_step") == 451, timeout=10_000)

    # the metrics file truncated and rewritten (a restarted job): the curves start again
    fresh = TrainingWriter(workspace.logs_dir, job.id, seed=1)
    writer.metrics.write_text("")
    fresh.write_steps(30)
    qtbot.waitUntil(lambda: points(panel, job.id, "train_step") == 30, timeout=10_000)
    assert points(panel, job.id, "valid_loss") == 0

    # the log rotated: the view shows the new file only
    writer.log.rename(writer.log.with_suffix(".log.1"))
    writer.log.write_text("a new log after rotation\n")
    qtbot.waitUntil(
        lambda: "a new log after rotation" in panel.log_view.toPlainText(), timeout=10_000
    )
    assert "epoch 2/40" not in panel.log_view.toPlainText()


def test_a_long_run_and_its_log_screenshot(qtbot, workspace, open_panel, screenshot_dir):
    job = running_job(workspace)
    other = running_job(workspace, model="resnet")
    running_job(workspace, state="finished")
    running_job(workspace, kind="tune", state="cancelled")
    writer = TrainingWriter(workspace.logs_dir, job.id)
    with open(writer.log, "w") as log:
        log.write(f"job {job.id}: train (attempt 1)\n")
        log.write(
            "experiment 3f2a91c0d1e4 on theme 'shapes': new experiment: training 40 epoch(s)\n"
        )
    writer.write_steps(1200)
    TrainingWriter(workspace.logs_dir, other.id).write_steps(20)
    panel = open_panel(workspace)
    assert panel.selected == [other.id]  # nothing chosen yet: the newest running job
    panel.show_job(job.id)
    qtbot.waitUntil(lambda: points(panel, job.id, "train_step") == 1200, timeout=10_000)
    qtbot.wait(100)
    panel.grab().save(str(screenshot_dir / "live.png"))
    assert len(panel.log_view.toPlainText().splitlines()) == 2 + 24


def run_synthetic_study(logs_dir, job_id, trials=24):
    """A real Optuna study (in memory) whose objective writes epoch lines like a training;
    the trial lines come from the study code's own TrialLog callback."""
    import json
    import math

    import optuna

    from core.errors import CockpitError
    from core.tuning.study import TrialLog

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = logs_dir / f"{job_id}.metrics.jsonl"
    trial_log = TrialLog(path, "valid_acc", "maximize", trials)
    study = optuna.create_study(
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=3, n_startup_trials=6),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=2),
    )

    def objective(trial):
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        trial_log.started(trial.number, trial.params)
        if trial.number == 9:
            raise CockpitError("metric valid_acc was not measured")
        quality = 0.93 - 0.05 * (math.log10(lr) + 2.3) ** 2
        acc = 0.0
        with open(path, "a") as handle:
            for epoch in range(10):
                acc = quality * (1 - math.exp(-(epoch + 1) / 2.5))
                step = 20 * (epoch + 1)
                for split, value in (("valid", acc), ("train", acc + 0.03)):
                    record = {"kind": "epoch", "step": step, "epoch": epoch, "split": split,
                              "loss": 1.2 - value, "acc": value, "lr": lr, "time": 1.0}  # fmt: skip
                    handle.write(json.dumps(record) + "\n")
                trial.report(acc, epoch)
                if trial.should_prune():
                    raise optuna.TrialPruned()
        return acc

    study.optimize(objective, n_trials=trials, catch=(CockpitError,), callbacks=[trial_log])
    return study


def test_tune_view_marks_pruned_and_failed_trials(qtbot, workspace, open_panel, screenshot_dir):
    running_job(workspace, state="finished")
    running_job(workspace, model="resnet", state="failed")
    job = running_job(workspace, kind="tune")
    study = run_synthetic_study(workspace.logs_dir, job.id)
    (workspace.logs_dir / f"{job.id}.log").write_text(
        "".join(f"trial {t.number}: lr={t.params.get('lr')}\n" for t in study.trials)
    )
    states = [t.state.name for t in study.trials]
    assert "PRUNED" in states and "FAIL" in states
    panel = open_panel(workspace)
    panel.show_job(job.id)

    def legend():
        return {entry.text for entry in panel.trials.legend_entries()}

    qtbot.waitUntil(lambda: "failed" in legend(), timeout=10_000)
    assert panel.trials_widget.isVisible()
    metrics = panel.feeds[job.id].metrics
    assert len(metrics.trials) == 24
    assert metrics.best_trial().value == pytest.approx(study.best_value)
    assert metrics.failed_trials() == [9]
    _x, best = metrics.best_so_far()
    assert best[-1] == pytest.approx(study.best_value) and all(best[1:] >= best[:-1])
    assert {"best so far", "complete", "pruned", "failed"} <= legend()
    assert "failed" in panel.trials_legend.text()  # beside the plot, not over the trials
    assert "trial 23" in panel.loss_widget.getPlotItem().titleLabel.text
    assert f"best {study.best_value:.4f}" in panel.status_label.text()
    panel.grab().save(str(screenshot_dir / "live_tune.png"))
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from tests.cockpit.test_theme_colors import dark_palette

    before = QPalette(QApplication.palette())
    QApplication.setPalette(dark_palette())
    try:
        qtbot.wait(300)
        panel.grab().save(str(screenshot_dir / "live_tune_dark.png"))
    finally:
        QApplication.setPalette(before)


def test_overlay_of_two_jobs_one_colour_each(qtbot, workspace, open_panel, screenshot_dir):
    first, second = running_job(workspace), running_job(workspace, model="resnet")
    TrainingWriter(workspace.logs_dir, first.id).write_steps(120)
    TrainingWriter(workspace.logs_dir, second.id, seed=5, steps_per_epoch=20).write_steps(60)
    (workspace.logs_dir / f"{first.id}.log").write_text("first job's log\n")
    (workspace.logs_dir / f"{second.id}.log").write_text("second job's log\n")
    panel = open_panel(workspace)
    panel.show_job(first.id)
    panel.add_overlay(second.id)
    qtbot.waitUntil(lambda: points(panel, second.id, "valid_acc") == 3, timeout=10_000)
    qtbot.waitUntil(lambda: points(panel, first.id, "valid_acc") == 2, timeout=10_000)
    assert points(panel, first.id, "train_step") == 120
    assert points(panel, second.id, "train_step") == 60
    items = panel.curves._items
    colours = {
        items[(job, "valid_loss")].opts["pen"].color().name() for job in (first.id, second.id)
    }
    assert len(colours) == 2
    legend = {entry.text for entry in panel.curves.legend_entries()}
    assert {"train shapes simple_cnn", "train shapes resnet", "valid", "train"} <= legend
    assert "train shapes resnet" in panel.curves_legend.text()
    assert "first job's log" in panel.log_view.toPlainText()  # the first job keeps the log
    assert "+ 1 overlaid" in panel.status_label.text()
    selected = [i.data(256) for i in panel.job_list.selectedItems()]
    assert sorted(selected) == sorted([first.id, second.id])
    panel.grab().save(str(screenshot_dir / "live_overlay.png"))
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from tests.cockpit.test_theme_colors import dark_palette

    before = QPalette(QApplication.palette())
    QApplication.setPalette(dark_palette())
    try:
        qtbot.wait(300)
        background = panel.loss_widget.backgroundBrush().color()
        assert background.name() == "#17181a"  # the dark palette's base
        panel.grab().save(str(screenshot_dir / "live_overlay_dark.png"))
    finally:
        QApplication.setPalette(before)

    # Ctrl+click in the list: the second job alone, then both again
    panel.job_list.clearSelection()
    panel.job_list.item(
        [panel.job_list.item(i).data(256) for i in range(2)].index(second.id)
    ).setSelected(True)
    qtbot.waitUntil(lambda: "second job's log" in panel.log_view.toPlainText(), timeout=10_000)
    assert "first job's log" not in panel.log_view.toPlainText()
    assert points(panel, first.id, "train_step") == 0 and first.id not in panel.feeds
    panel.show_job(first.id)
    qtbot.waitUntil(lambda: points(panel, first.id, "train_step") == 120, timeout=10_000)
    assert panel.selected == [first.id]


def test_a_real_tune_job_shows_its_trials_while_it_runs(qtbot, shapes_workspace, open_panel):
    from core.jobs.model import TERMINAL
    from core.jobs.queue import JobQueue
    from core.jobs.submit import submit_tune
    from tests.core.training.conftest import TINY

    ws = shapes_workspace
    base = ", ".join(
        f"{k}: {v}" for k, v in (item.split("=") for item in TINY if "lr=" not in item)
    )
    ws.optuna_params_file.write_text(
        "study: {name: live, direction: minimize, metric: valid_loss, n_trials: 3, pruner: none}\n"
        f"base_params: {{{base}}}\n"
        "search_space:\n  lr: {type: float, low: 1.0e-3, high: 3.0e-2, log: true}\n"
    )
    panel = open_panel(ws)
    [job], _warnings = submit_tune(ws, "shapes")
    panel.show_job(job.id)
    metrics = panel.feeds[job.id].metrics
    seen = set()
    deadline = time.time() + 150
    while time.time() < deadline and len(metrics.trials) < 3:
        qtbot.wait(100)
        seen.add(len(metrics.trials))
    assert len(metrics.trials) == 3, panel.log_view.toPlainText()
    # the trials arrived while the job ran, not all at its end (two may land between two
    # reads on a busy machine, so any state between none and all counts)
    assert 0 in seen and seen & {1, 2}, seen
    assert panel.trials_widget.isVisible()
    assert metrics.direction == "minimize" and metrics.metric == "valid_loss"
    values = [t.value for t in sorted(metrics.trials.values(), key=lambda t: t.number)]
    _x, best = metrics.best_so_far()
    assert best[-1] == pytest.approx(min(values))
    assert {run.trial for run in metrics.runs} == {0, 1, 2}
    assert all(run.curves["valid_loss"].size == 2 for run in metrics.runs)  # max_epochs=2
    assert "valid_loss" in metrics.runs[0].results and "test_acc" in metrics.runs[0].results
    qtbot.waitUntil(lambda: "trial 2: valid_loss" in panel.log_view.toPlainText(), timeout=10_000)
    # the study still registers its best model; the test has seen enough: cancel it
    JobQueue(ws).cancel(job.id)
    qtbot.waitUntil(lambda: JobQueue(ws).get(job.id).state in TERMINAL, timeout=60_000)
    ended = JobQueue(ws).get(job.id).state
    assert ended in ("cancelled", "finished")
    qtbot.waitUntil(lambda: ended in panel.status_label.text(), timeout=10_000)


def test_opening_with_no_running_job_shows_the_latest_that_ran(qtbot, workspace, open_panel):
    older = running_job(workspace, state="finished")
    older.finished_at -= 300
    JobQueue(workspace).write(older)
    latest = running_job(workspace, state="failed")
    waiting = running_job(workspace, state="pending")
    for job in (older, latest):
        TrainingWriter(workspace.logs_dir, job.id).write_steps(60)
    panel = open_panel(workspace)
    qtbot.waitUntil(lambda: panel.selected == [latest.id], timeout=10_000)
    qtbot.waitUntil(lambda: points(panel, latest.id, "train_step") > 0, timeout=10_000)
    assert waiting.id not in panel.selected


def test_loss_and_accuracy_share_an_epoch_axis_with_steps_as_an_option(
    qtbot, workspace, open_panel
):
    job = running_job(workspace)
    TrainingWriter(workspace.logs_dir, job.id, steps_per_epoch=50).write_steps(120)
    panel = open_panel(workspace)
    panel.show_job(job.id)
    qtbot.waitUntil(lambda: points(panel, job.id, "valid_acc") == 2, timeout=10_000)
    assert panel.curves.x_data(job.id, "valid_loss") == [1.0, 2.0]
    assert panel.curves.x_data(job.id, "valid_acc") == [1.0, 2.0]
    steps = panel.curves.x_data(job.id, "train_step")
    assert steps[0] == pytest.approx(1 / 50) and steps[99] == pytest.approx(2.0)
    assert steps[-1] == pytest.approx(120 / 50)  # past the last epoch, at its pace
    assert panel.loss_widget.getPlotItem().getAxis("bottom").labelText == "epoch"
    loss_box = panel.loss_widget.getPlotItem().getViewBox()
    assert panel.acc_widget.getPlotItem().getViewBox().linkedView(0) is loss_box

    panel.axis_choice.setCurrentText("steps")
    qtbot.waitUntil(lambda: panel.curves.x_data(job.id, "valid_acc") == [50.0, 100.0])
    assert panel.curves.x_data(job.id, "train_step")[-1] == 120.0
    assert panel.acc_widget.getPlotItem().getAxis("bottom").labelText == "step"


def test_axis_ticks_are_whole_numbers():
    from cockpit.plotting import IntegerAxis

    axis = IntegerAxis("bottom")
    for low, high in ((0.0, 3.0), (0.4, 2.6), (0.0, 1.0), (0.0, 500.0)):
        for spacing, values in axis.tickValues(low, high, 600):
            assert spacing >= 1 and spacing == int(spacing)
            assert all(v == int(v) for v in values)
    assert axis.tickStrings([1.0, 2.0], 1.0, 1.0) == ["1", "2"]


def test_a_started_job_without_metrics_says_it_is_starting(qtbot, workspace, open_panel):
    job = running_job(workspace)
    panel = open_panel(workspace)
    qtbot.waitUntil(lambda: panel.selected == [job.id], timeout=10_000)
    qtbot.waitUntil(lambda: "starting (loading data…)" in panel.status_label.text())


def test_a_job_cancelled_before_it_ran_is_never_chosen_on_opening(qtbot, workspace, open_panel):
    ran = running_job(workspace, state="finished")
    ran.finished_at -= 300
    JobQueue(workspace).write(ran)
    never = running_job(workspace, state="cancelled")
    never.started_at = None
    JobQueue(workspace).write(never)
    panel = open_panel(workspace)
    qtbot.waitUntil(lambda: panel.selected == [ran.id], timeout=10_000)
    assert never.id not in panel.selected
